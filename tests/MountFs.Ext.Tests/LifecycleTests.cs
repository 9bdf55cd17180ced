using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>Mount lifecycle and images made by other tools: htree directories, resize inode, state and mount
/// count, orphans, feature refusal, backup superblocks.</summary>
public class LifecycleTests
{
    private static ExtensionsFs Open(string img, bool ro = false) => new(Ext2FileSystem.Mount(ImageFile.Open(img, ro), new MountOptions { ReadOnly = ro }, TextWriter.Null));

    internal sealed class ExtensionsFs(Ext2FileSystem fs) : IDisposable
    {
        public Ext2FileSystem Fs { get; } = fs;
        public void Dispose() => Fs.Dispose();
    }

    [SkippableFact]
    public void Changing_an_htree_directory_clears_its_index_flag_and_e2fsck_accepts_it()
    {
        string? why = KernelMount.Unavailable();
        Skip.If(why != null, why);
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 32L << 20, "-b", "1024");
        using (var m = KernelMount.Mount(img))
        {
            Directory.CreateDirectory(m.Path + "/big");
            for (int i = 0; i < 2000; i++) File.WriteAllText(m.Path + $"/big/name-{i}", "x");
        }
        Assert.Contains("Flags: 0x1000", ExternalTool.Run("debugfs", "-R", "stat /big", img).Out); // indexed by the kernel
        string resizeBefore = ExternalTool.Run("debugfs", "-R", "stat <7>", img).Out;
        using (var h = Open(img))
        {
            var fs = h.Fs;
            ulong big = fs.Lookup(fs.RootNode, "big")!.Node;
            Assert.NotNull(fs.Lookup(big, "name-1999"));
            for (int i = 0; i < 2000; i += 3) fs.Unlink(big, $"name-{i}");
            for (int i = 0; i < 300; i++) fs.Create(big, $"new-{i}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        }
        Assert.DoesNotContain("Flags: 0x1000", ExternalTool.Run("debugfs", "-R", "stat /big", img).Out);
        Assert.Equal(resizeBefore.Split('\n').Where(l => !l.Contains("time")), ExternalTool.Run("debugfs", "-R", "stat <7>", img).Out.Split('\n').Where(l => !l.Contains("time")));
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        using var mk = KernelMount.Mount(img, readOnly: true);
        Assert.Equal(2000 - 667 + 300, Directory.GetFiles(mk.Path + "/big").Length);
    }

    [SkippableFact]
    public void State_is_dirty_while_mounted_and_clean_after_dispose_with_mount_count_bumped()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 8L << 20);
        SuperBlock Sb() => ImageFile.Super(img);
        var before = Sb();
        using (var h = Open(img))
        {
            var during = Sb();
            Assert.Equal(0, during.State & SuperBlock.StateValid);
            Assert.Equal(before.MountCount + 1, during.MountCount);
            Assert.True(during.MountTime > 0);
        }
        var after = Sb();
        Assert.Equal(SuperBlock.StateValid, after.State);
        Assert.True(after.WriteTime >= before.WriteTime);
        using (Open(img, ro: true)) Assert.Equal(SuperBlock.StateValid, Sb().State); // read-only mounts write nothing
    }

    [SkippableFact]
    public void File_unlinked_while_open_stays_readable_sits_on_the_orphan_list_and_goes_at_release()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 8L << 20);
        using (var h = Open(img))
        {
            var fs = h.Fs;
            var (a, handle) = fs.Create(fs.RootNode, "tmp", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, handle, 0, new byte[50_000]);
            long freeBefore = fs.GetStatistics().BlocksFree;
            fs.Unlink(fs.RootNode, "tmp");
            Assert.Null(fs.Lookup(fs.RootNode, "tmp"));
            fs.SyncFileSystem();
            Assert.Equal(a.Node, (ulong)ImageFile.Super(img).LastOrphan);
            Assert.Equal(50_000, fs.Read(a.Node, handle, 0, new byte[60_000]));
            Assert.Equal(freeBefore, fs.GetStatistics().BlocksFree);
            fs.Release(a.Node, handle);
            Assert.Equal(freeBefore, fs.GetStatistics().BlocksFree); // the front end still holds the node id
            fs.Forget(a.Node);
            Assert.True(fs.GetStatistics().BlocksFree > freeBefore);
        }
        Assert.Equal(0u, ImageFile.Super(img).LastOrphan);
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
    }

    [SkippableFact]
    public void Orphans_left_by_a_crash_are_freed_at_the_next_mount()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 8L << 20);
        byte[] crashed;
        using (var h = Open(img))
        {
            var fs = h.Fs;
            var (a, handle) = fs.Create(fs.RootNode, "tmp", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, handle, 0, new byte[20_000]);
            fs.Unlink(fs.RootNode, "tmp");
            fs.SyncFileSystem();
            crashed = ImageFile.ReadAll(img); // power cut here: the orphan is on disk
        }
        // A new file: the old one may still be flock'ed by a process a parallel test forked before we closed it.
        img = Path.Combine(dir.Path, "crashed.img");
        File.WriteAllBytes(img, crashed);
        using (Open(img)) { }
        Assert.Equal(0u, ImageFile.Super(img).LastOrphan);
        var r = ExternalTool.Run("e2fsck", "-fn", img);
        Assert.DoesNotContain("orphan", r.Out + r.Err, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("bitmap differences", r.Out + r.Err);
    }

    [Fact]
    public void Unknown_incompat_feature_refuses_the_mount_naming_it_and_unknown_ro_compat_mounts_read_only()
    {
        var dev = new MemoryBlockDevice(8L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions());
        var image = dev.ToArray();
        var sb = SuperBlock.Read(image.AsSpan(1024, 1024));
        sb.FeatureIncompat |= IncompatFeatures.Extents;
        sb.WriteTo(image.AsSpan(1024));
        var e = Assert.Throws<FsException>(() => Ext2FileSystem.Mount(new MemoryBlockDevice(image), new MountOptions(), TextWriter.Null));
        Assert.Contains("extent", e.Message);
        Assert.False(new Ext2Layout().Probe(new MemoryBlockDevice(image)));

        sb.FeatureIncompat &= ~IncompatFeatures.Extents;
        sb.FeatureRoCompat |= RoCompatFeatures.MetadataCsum;
        sb.WriteTo(image.AsSpan(1024));
        using var fs = Ext2FileSystem.Mount(new MemoryBlockDevice(image), new MountOptions(), TextWriter.Null);
        Assert.True(fs.Capabilities.ReadOnly);
        Assert.Contains(fs.MountNotes, n => n.Contains("metadata_csum"));
        Assert.Equal(Errno.EROFS, Assert.Throws<FsException>(() => fs.MakeDirectory(fs.RootNode, "x", 0x1ED, Credentials.Root)).Errno);

        sb.FeatureRoCompat &= ~RoCompatFeatures.MetadataCsum;
        sb.FeatureCompat |= CompatFeatures.HasJournal;
        sb.WriteTo(image.AsSpan(1024));
        var j = Assert.Throws<FsException>(() => Ext2FileSystem.Mount(new MemoryBlockDevice(image), new MountOptions(), TextWriter.Null));
        Assert.Contains("has_journal", j.Message);
        using var ro = Ext2FileSystem.Mount(new MemoryBlockDevice(image), new MountOptions { ReadOnly = true }, TextWriter.Null);
        Assert.NotNull(ro.Lookup(ro.RootNode, "lost+found"));
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Bad_primary_superblock_mounts_from_a_backup_read_only(int blockSize)
    {
        var dev = new MemoryBlockDevice(blockSize == 1024 ? 24L << 20 : 300L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = blockSize });
        using (var fs = Ext2FileSystem.Mount(dev, new MountOptions(), TextWriter.Null))
        {
            var (a, h) = fs.Create(fs.RootNode, "kept", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, h, 0, "data"u8);
            fs.Release(a.Node, h);
        }
        var image = dev.ToArray();
        Array.Clear(image, 1024, 1024);
        using var again = Ext2FileSystem.Mount(new MemoryBlockDevice(image), new MountOptions(), TextWriter.Null);
        Assert.True(again.Capabilities.ReadOnly);
        Assert.Contains(again.MountNotes, n => n.Contains("backup"));
        var node = again.Lookup(again.RootNode, "kept")!;
        var buf = new byte[10];
        Assert.Equal(4, again.Read(node.Node, again.Open(node.Node, OpenFlags.ReadOnly), 0, buf));
    }
}

public class SeekTests
{
    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Seek_data_and_hole_follow_the_block_map(int blockSize)
    {
        var dev = new MemoryBlockDevice(16L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = blockSize });
        using var fs = Ext2FileSystem.Mount(dev, new MountOptions(), TextWriter.Null);
        var (a, h) = fs.Create(fs.RootNode, "s", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        long far = 3L << 30;
        fs.Write(a.Node, h, 10 * blockSize + 5, "x"u8);
        fs.Write(a.Node, h, far, "y"u8);
        fs.SetAttributes(a.Node, new SetAttributes { Size = far + 10 * blockSize });
        Assert.Equal(10 * blockSize, fs.SeekData(a.Node, 0, findHole: false));
        Assert.Equal(0, fs.SeekData(a.Node, 0, findHole: true));
        Assert.Equal(11 * blockSize, fs.SeekData(a.Node, 10 * blockSize, findHole: true));
        Assert.Equal(far / blockSize * blockSize, fs.SeekData(a.Node, 11 * blockSize, findHole: false));
        Assert.Equal(far / blockSize * blockSize + blockSize, fs.SeekData(a.Node, far, findHole: true));
        Assert.Equal(Errno.ENXIO, Assert.Throws<FsException>(() => fs.SeekData(a.Node, far + blockSize, findHole: false)).Errno);
        Assert.Equal(Errno.ENXIO, Assert.Throws<FsException>(() => fs.SeekData(a.Node, far + 10 * blockSize, findHole: true)).Errno);
    }
}

public class LayoutTests
{
    [SkippableFact]
    public void Probe_accepts_ext2_and_refuses_ext3_and_foreign_bytes()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        var layout = new Ext2Layout();
        Assert.Equal("ext2", layout.Name);
        Assert.NotNull(layout.Formatter);
        using (var dev = ImageFile.Open(ExternalTool.MakeImage(dir.Path, 8L << 20), readOnly: true)) Assert.True(layout.Probe(dev));
        string ext3 = Path.Combine(dir.Path, "ext3.img");
        using (var f = File.Create(ext3)) f.SetLength(8L << 20);
        ExternalTool.Run("mke2fs", "-q", "-F", "-t", "ext3", ext3);
        using (var dev = ImageFile.Open(ext3, readOnly: true)) Assert.False(layout.Probe(dev));
        using (var zeros = new MemoryBlockDevice(1L << 20)) Assert.False(layout.Probe(zeros));
        var junk = new byte[1L << 20];
        new Random(4).NextBytes(junk);
        junk[1024 + 0x38] = 0x53; junk[1024 + 0x39] = 0xEF; // magic alone is not enough
        using (var dev = new MemoryBlockDevice(junk)) Assert.False(layout.Probe(dev));
        using (var tiny = new MemoryBlockDevice(1024)) Assert.False(layout.Probe(tiny));
    }

    [SkippableFact]
    public void Concurrent_operations_from_several_threads_leave_a_clean_image()
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck"), "e2fsck not installed");
        var dev = new MemoryBlockDevice(64L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = 1024 });
        using (var fs = Ext2FileSystem.Mount(dev, new MountOptions(), TextWriter.Null))
        {
            var shared = fs.MakeDirectory(fs.RootNode, "shared", 0x1ED, Credentials.Root).Node;
            Parallel.For(0, 4, t =>
            {
                var rng = new Random(t);
                var mine = fs.MakeDirectory(fs.RootNode, $"t{t}", 0x1ED, Credentials.Root).Node;
                for (int i = 0; i < 300; i++)
                {
                    ulong where = i % 2 == 0 ? mine : shared;
                    var (a, h) = fs.Create(where, $"f{t}-{i}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                    var data = new byte[rng.Next(0, 5000)];
                    rng.NextBytes(data);
                    fs.Write(a.Node, h, 0, data);
                    var back = new byte[data.Length];
                    Assert.Equal(data.Length, fs.Read(a.Node, h, 0, back));
                    Assert.Equal(data, back);
                    fs.Release(a.Node, h);
                    if (i % 3 == 0) fs.Unlink(where, $"f{t}-{i}");
                    else if (i % 3 == 1) fs.Rename(where, $"f{t}-{i}", shared, $"r{t}-{i}");
                }
            });
            int count = 0;
            fs.ReadDirectory(shared, 0, 0, (in Vfs.DirectoryEntry e) => { count++; return true; });
            Assert.Equal(2 + 4 * 100 + 4 * 50, count);
        }
        using var scratch = new ScratchDir();
        string img = Path.Combine(scratch.Path, "mt.img");
        File.WriteAllBytes(img, dev.ToArray());
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
    }
}

public class AllocationTests
{
    [SkippableFact]
    public void Files_are_contiguous_and_top_level_directories_spread_over_groups()
    {
        Skip.IfNot(ExternalTool.Exists("debugfs"), "debugfs not installed");
        var dev = new MemoryBlockDevice(64L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = 1024 });
        var dirs = new List<ulong>();
        using (var fs = Ext2FileSystem.Mount(dev, new MountOptions(), TextWriter.Null))
        {
            for (int i = 0; i < 6; i++) dirs.Add(fs.MakeDirectory(fs.RootNode, $"top{i}", 0x1ED, Credentials.Root).Node);
            var nested = fs.MakeDirectory(dirs[3], "nested", 0x1ED, Credentials.Root).Node;
            dirs.Add(nested);
            var (a, h) = fs.Create(dirs[2], "big", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            var chunk = new byte[4096];
            for (int i = 0; i < 512; i++) fs.Write(a.Node, h, i * 4096L, chunk);
            fs.Release(a.Node, h);
        }
        uint ipg = SuperBlock.Read(dev.Contents.Slice(1024, 1024)).InodesPerGroup;
        var groups = dirs.Take(6).Select(d => (d - 1) / ipg).Distinct().Count();
        Assert.True(groups >= 4, $"6 top-level directories landed in only {groups} groups");
        Assert.Equal((dirs[3] - 1) / ipg, (dirs[6] - 1) / ipg); // a subdirectory stays with its parent
        using var scratch = new ScratchDir();
        string img = Path.Combine(scratch.Path, "alloc.img");
        File.WriteAllBytes(img, dev.ToArray());
        var blocks = ExternalTool.Run("debugfs", "-R", "blocks /top2/big", img).Out
            .Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
        Assert.InRange(blocks.Count, 2048 + 9, 2048 + 9); // data + 1 single, 1 double and 7 second-level indirect blocks
        int breaks = blocks.Zip(blocks.Skip(1)).Count(p => p.Second != p.First + 1);
        // debugfs lists indirect blocks in file order too, so a fully contiguous allocation has no breaks at all.
        Assert.True(breaks <= 10, $"{breaks} discontinuities in a 2 MiB file written sequentially");
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
    }
}
