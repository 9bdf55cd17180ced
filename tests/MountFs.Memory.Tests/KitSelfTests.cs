using MountFs.ModelKit;
using MountFs.Vfs;
using Xunit.Abstractions;

namespace MountFs.Memory.Tests;

/// <summary>
/// The kit must be able to fail: each test wraps the reference in a deliberately wrong layout and
/// asserts that the kit reports the divergence, with a readable log and a shrunk sequence.
/// </summary>
public class KitSelfTests(ITestOutputHelper output)
{
    /// <summary>Claims every fifth large write succeeded but stores nothing.</summary>
    private sealed class DropsWrites(IFileSystem inner) : ForwardingFileSystem(inner)
    {
        private int _writes;
        public override int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data) =>
            data.Length > 100 && ++_writes % 5 == 0 ? data.Length : base.Write(node, handle, offset, data);
    }

    /// <summary>Reports files above 10,000 bytes one byte longer than they are.</summary>
    private sealed class WrongSize(IFileSystem inner) : ForwardingFileSystem(inner)
    {
        private static NodeAttributes? Skew(NodeAttributes? a) => a is { IsRegular: true, Size: > 10_000 } ? a with { Size = a.Size + 1 } : a;
        public override NodeAttributes GetAttributes(ulong node) => Skew(base.GetAttributes(node))!;
        public override NodeAttributes? Lookup(ulong parent, string name) => Skew(base.Lookup(parent, name));
    }

    /// <summary>Answers EEXIST where Linux answers ENOTEMPTY.</summary>
    internal sealed class WrongErrno(IFileSystem inner) : ForwardingFileSystem(inner)
    {
        public override void RemoveDirectory(ulong parent, string name)
        {
            try
            {
                base.RemoveDirectory(parent, name);
            }
            catch (FsException e) when (e.Errno == Errno.ENOTEMPTY)
            {
                throw new FsException(Errno.EEXIST, "wrong on purpose");
            }
        }
    }

    /// <summary>Forgets to count hard links: files always show one link.</summary>
    private sealed class StaleLinkCount(IFileSystem inner) : ForwardingFileSystem(inner)
    {
        private static NodeAttributes? One(NodeAttributes? a) => a is { IsRegular: true } ? a with { Links = Math.Min(a.Links, 1) } : a;
        public override NodeAttributes GetAttributes(ulong node) => One(base.GetAttributes(node))!;
        public override NodeAttributes? Lookup(ulong parent, string name) => One(base.Lookup(parent, name));
        public override NodeAttributes Link(ulong node, ulong newParent, string newName) => One(base.Link(node, newParent, newName))!;
    }

    /// <summary>Leaves names starting with "b" out of listings.</summary>
    private sealed class HidesEntries(IFileSystem inner) : ForwardingFileSystem(inner)
    {
        public override void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor) =>
            base.ReadDirectory(node, handle, offset, (in DirectoryEntry e) => e.Name.StartsWith('b') || visitor(in e));
    }

    /// <summary>Loses a file's data on remount, as a layout that never writes data back would.</summary>
    private sealed class LosesDataOnRemount(IFileSystem inner) : ForwardingFileSystem(inner)
    {
        public IFileSystem Reopen()
        {
            // Truncate every top-level file to nothing: what survives a remount is only the names.
            ulong handle = OpenDirectory(RootNode);
            var names = new List<string>();
            ReadDirectory(RootNode, handle, 0, (in DirectoryEntry e) => { names.Add(e.Name); return true; });
            ReleaseDirectory(RootNode, handle);
            foreach (var name in names)
                if (Lookup(RootNode, name) is { IsRegular: true, Size: > 0 } file)
                    SetAttributes(file.Node, new SetAttributes { Size = 0 });
            return this;
        }
    }

    private ModelCheckException Detect(Func<IFileSystem, IFileSystem> fault, ModelOptions? options = null, int operations = 3000)
    {
        var checker = new ModelChecker(() => fault(new MemoryFileSystem()), options ?? new ModelOptions());
        var failure = Assert.Throws<ModelCheckException>(() => checker.Run(seed: 7, operations));
        output.WriteLine(failure.Message);
        Assert.Equal(7, failure.Seed);
        Assert.InRange(failure.OperationIndex, 0, operations);
        Assert.NotEmpty(failure.RecentOperations);
        Assert.Contains("DIVERGED", failure.RecentOperations[^1]);
        return failure;
    }

    [Fact]
    public void Detects_a_dropped_write()
    {
        var failure = Detect(fs => new DropsWrites(fs));
        // Depending on where the lost bytes were, the size or the content gives it away first.
        Assert.Matches("size|bytes differ", failure.Reason);
    }

    [Fact]
    public void Detects_a_wrong_size()
    {
        var failure = Detect(fs => new WrongSize(fs));
        Assert.Contains("size", failure.Reason);
    }

    [Fact]
    public void Detects_a_wrong_errno()
    {
        var failure = Detect(fs => new WrongErrno(fs));
        Assert.Contains("EEXIST", failure.Reason);
        Assert.Contains("ENOTEMPTY", failure.Reason);
    }

    [Fact]
    public void Detects_a_link_count_that_is_not_updated()
    {
        var failure = Detect(fs => new StaleLinkCount(fs));
        Assert.Contains("link count", failure.Reason);
    }

    [Fact]
    public void Detects_an_entry_missing_from_listings()
    {
        var failure = Detect(fs => new HidesEntries(fs));
        Assert.Contains("lacks", failure.Reason);
    }

    [Fact]
    public void Detects_data_lost_across_a_remount()
    {
        var failure = Detect(fs => new LosesDataOnRemount(fs),
            new ModelOptions { Remount = fs => ((LosesDataOnRemount)fs).Reopen() });
        Assert.Contains("remount", failure.Reason);
    }

    [Fact]
    public void Shrinks_a_failure_to_a_short_sequence_that_replays()
    {
        var failure = Detect(fs => new WrongErrno(fs));
        Assert.NotNull(failure.ShrunkOperations);
        Assert.InRange(failure.ShrunkOperations!.Count, 1, Math.Min(20, failure.OperationIndex + 1));
        Assert.Contains("DIVERGED", failure.ShrunkLog![^1]);
        // The shrunk sequence is a standalone reproduction.
        var checker = new ModelChecker(() => new WrongErrno(new MemoryFileSystem()));
        var replay = Assert.Throws<ModelCheckException>(() => checker.RunOperations(failure.ShrunkOperations));
        Assert.Contains(replay.Reason, failure.ShrunkLog[^1]);
        Assert.Contains("EEXIST", replay.Reason);
        // And the same sequence passes on a correct subject.
        new ModelChecker(() => new MemoryFileSystem()).RunOperations(failure.ShrunkOperations);
    }

    [Fact]
    public void FsCheck_property_fails_and_shrinks_for_a_faulty_subject()
    {
        var checker = new ModelChecker(() => new DropsWrites(new MemoryFileSystem()));
        var failure = Assert.ThrowsAny<Exception>(() => checker.Check(maxTest: 50, maxLength: 150));
        output.WriteLine(failure.Message);
        Assert.Contains("Falsifiable", failure.Message);
        Assert.Matches("size|bytes differ", failure.Message);
    }

    [Fact]
    public void Final_check_failures_are_reported()
    {
        var checker = new ModelChecker(() => new MemoryFileSystem(),
            new ModelOptions { FinalCheck = () => throw new InvalidOperationException("fsck found 3 problems") });
        var failure = Assert.Throws<ModelCheckException>(() => checker.Run(seed: 1, 50));
        Assert.Contains("fsck found 3 problems", failure.Reason);
    }
}
