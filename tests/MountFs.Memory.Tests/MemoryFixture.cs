using System.Text;
using MountFs.Memory;
using MountFs.Vfs;

namespace MountFs.Memory.Tests;

/// <summary>A memory file system with a counting clock (every call is one second later) and short-hands for tests.</summary>
internal sealed class MemoryFixture
{
    private long _seconds = 1_000_000;

    public MemoryFixture(MemoryFileSystemOptions? options = null) =>
        Fs = new MemoryFileSystem((options ?? new MemoryFileSystemOptions()) with { Clock = () => new Timestamp(++_seconds, 0) });

    public MemoryFileSystem Fs { get; }

    public ulong Root => Fs.RootNode;

    public static Credentials User => new(1000, 1000);

    public NodeAttributes Mkdir(string name, ulong? parent = null, uint mode = 0x1ED) =>
        Fs.MakeDirectory(parent ?? Root, name, mode, Credentials.Root);

    public NodeAttributes File(string name, string content = "", ulong? parent = null)
    {
        var (attributes, handle) = Fs.Create(parent ?? Root, name, 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        if (content.Length > 0) Fs.Write(attributes.Node, handle, 0, Encoding.UTF8.GetBytes(content));
        Fs.Release(attributes.Node, handle);
        return Fs.GetAttributes(attributes.Node);
    }

    public NodeAttributes Get(string name, ulong? parent = null) =>
        Fs.Lookup(parent ?? Root, name) ?? throw new Xunit.Sdk.XunitException($"{name} not found");

    public byte[] ReadAll(ulong node)
    {
        long size = Fs.GetAttributes(node).Size;
        var buffer = new byte[size];
        ulong handle = Fs.Open(node, OpenFlags.ReadOnly);
        int count = Fs.Read(node, handle, 0, buffer);
        Fs.Release(node, handle);
        Assert.Equal(size, count);
        return buffer;
    }

    public string Text(ulong node) => Encoding.UTF8.GetString(ReadAll(node));

    public void WriteAt(ulong node, long offset, byte[] data)
    {
        ulong handle = Fs.Open(node, OpenFlags.ReadWrite);
        Fs.Write(node, handle, offset, data);
        Fs.Release(node, handle);
    }

    public List<DirectoryEntry> List(ulong directory)
    {
        var entries = new List<DirectoryEntry>();
        ulong handle = Fs.OpenDirectory(directory);
        Fs.ReadDirectory(directory, handle, 0, (in DirectoryEntry e) => { entries.Add(e); return true; });
        Fs.ReleaseDirectory(directory, handle);
        return entries;
    }

    public string[] Names(ulong directory) =>
        [.. List(directory).Select(e => e.Name).Where(n => n is not ("." or "..")).Order(StringComparer.Ordinal)];

    public static Errno ErrnoOf(Action action) => Assert.Throws<FsException>(action).Errno;
}
