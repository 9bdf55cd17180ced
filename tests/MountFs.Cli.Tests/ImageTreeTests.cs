using MountFs.Memory;
using MountFs.Tool.ImageFiles;
using MountFs.Vfs;

namespace MountFs.Cli.Tests;

/// <summary>How the copy commands use the IFileSystem contract: lookup counting and readdir cookies.</summary>
public sealed class ImageTreeTests
{
    /// <summary>The reference file system, recording the ids it hands out and those forgotten; can misbehave in
    /// ReadDirectory the way a buggy layout might.</summary>
    private sealed class RecordingFileSystem(IFileSystem inner) : IFileSystem
    {
        public Dictionary<ulong, int> Received { get; } = [];
        public List<ulong> Forgotten { get; } = [];
        public bool RestartListings { get; set; }

        private NodeAttributes Got(NodeAttributes a)
        {
            Received[a.Node] = Received.GetValueOrDefault(a.Node) + 1;
            return a;
        }

        public FileSystemCapabilities Capabilities => inner.Capabilities;
        public ulong RootNode => inner.RootNode;
        public NodeAttributes? Lookup(ulong parent, string name) => inner.Lookup(parent, name) is { } a ? Got(a) : null;
        public void Forget(ulong node) { Forgotten.Add(node); inner.Forget(node); }
        public NodeAttributes GetAttributes(ulong node) => inner.GetAttributes(node);
        public NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null) => inner.SetAttributes(node, changes, handle);
        public string ReadLink(ulong node) => inner.ReadLink(node);
        public NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner) => Got(inner.Symlink(parent, name, target, owner));
        public NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner) => Got(inner.MakeNode(parent, name, mode, rdev, owner));
        public NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner) => Got(inner.MakeDirectory(parent, name, mode, owner));
        public void Unlink(ulong parent, string name) => inner.Unlink(parent, name);
        public void RemoveDirectory(ulong parent, string name) => inner.RemoveDirectory(parent, name);
        public void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None) => inner.Rename(parent, name, newParent, newName, flags);
        public NodeAttributes Link(ulong node, ulong newParent, string newName) => Got(inner.Link(node, newParent, newName));
        public ulong Open(ulong node, OpenFlags flags) => inner.Open(node, flags);
        public (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner)
        {
            var (attributes, handle) = inner.Create(parent, name, mode, flags, owner);
            return (Got(attributes), handle);
        }
        public int Read(ulong node, ulong handle, long offset, Span<byte> buffer) => inner.Read(node, handle, offset, buffer);
        public int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data) => inner.Write(node, handle, offset, data);
        public void Flush(ulong node, ulong handle) => inner.Flush(node, handle);
        public void Release(ulong node, ulong handle) => inner.Release(node, handle);
        public void Fsync(ulong node, ulong handle, bool dataOnly) => inner.Fsync(node, handle, dataOnly);
        public ulong OpenDirectory(ulong node) => inner.OpenDirectory(node);
        public void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor) =>
            inner.ReadDirectory(node, handle, RestartListings ? 0 : offset, visitor);
        public void ReleaseDirectory(ulong node, ulong handle) => inner.ReleaseDirectory(node, handle);
        public void FsyncDirectory(ulong node, ulong handle, bool dataOnly) => inner.FsyncDirectory(node, handle, dataOnly);
        public FileSystemStatistics GetStatistics() => inner.GetStatistics();
        public void Access(ulong node, AccessMode mode, Credentials who) => inner.Access(node, mode, who);
        public void SyncFileSystem() => inner.SyncFileSystem();
        public void Dispose() => inner.Dispose();
    }

    private static (ImageTree Tree, RecordingFileSystem Recorder) Make()
    {
        var recorder = new RecordingFileSystem(new MemoryFileSystem());
        return (new ImageTree("test.img", recorder, Credentials.Root), recorder);
    }

    [Fact]
    public void Every_received_node_is_forgotten_when_the_tree_is_done_with_it()
    {
        var (tree, recorder) = Make();
        tree.CreateDirectory("/a", 0x1ED);
        tree.CreateDirectory("/a/b", 0x1ED);
        using (var s = tree.Create("/a/b/f", 0x1A4)) s.Write("hello"u8);
        tree.CreateSymlink("/a/link", "b/f");
        using (var s = tree.OpenRead("/a/b/f")) Assert.Equal(5, s.Read(new byte[10]));
        Assert.Equal(["b", "link"], tree.List("/a"));
        Assert.Equal("b/f", tree.ReadLink("/a/link"));
        tree.Remove("/a/b/f");
        tree.Remove("/a/link");

        var nodes = recorder.Received.Keys.Where(n => n != recorder.RootNode).ToList();
        Assert.NotEmpty(nodes);
        Assert.DoesNotContain(recorder.RootNode, recorder.Forgotten);
        // Held references are counted: a node is let go once per time it went from held to unheld, which is
        // at least once and never more often than it was received.
        foreach (ulong node in nodes)
            Assert.InRange(recorder.Forgotten.Count(f => f == node), 1, recorder.Received[node]);
        Assert.All(recorder.Forgotten, f => Assert.Contains(f, recorder.Received.Keys));
    }

    [Fact]
    public void Listing_ends_even_when_a_layout_ignores_the_cookie()
    {
        var (tree, recorder) = Make();
        tree.CreateDirectory("/d", 0x1ED);
        foreach (string name in new[] { "x", "y", "z" })
            using (tree.Create("/d/" + name, 0x1A4)) { }
        recorder.RestartListings = true;
        Assert.Equal(["x", "y", "z"], tree.List("/d"));
    }
}
