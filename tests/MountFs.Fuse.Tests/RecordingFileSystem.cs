using MountFs.Vfs;

namespace MountFs.Fuse.Tests;

/// <summary>Forwards to another file system and records Forget calls (what the bridge tells the layout).</summary>
public sealed class RecordingFileSystem(IFileSystem inner) : IFileSystem
{
    private readonly List<ulong> _forgotten = [];

    public IReadOnlyList<ulong> Forgotten { get { lock (_forgotten) return [.. _forgotten]; } }

    public FileSystemCapabilities Capabilities => inner.Capabilities;
    public ulong RootNode => inner.RootNode;
    public NodeAttributes? Lookup(ulong parent, string name) => inner.Lookup(parent, name);
    public void Forget(ulong node)
    {
        lock (_forgotten) _forgotten.Add(node);
        inner.Forget(node);
    }
    public NodeAttributes GetAttributes(ulong node) => inner.GetAttributes(node);
    public NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null) => inner.SetAttributes(node, changes, handle);
    public string ReadLink(ulong node) => inner.ReadLink(node);
    public NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner) => inner.Symlink(parent, name, target, owner);
    public NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner) => inner.MakeNode(parent, name, mode, rdev, owner);
    public NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner) => inner.MakeDirectory(parent, name, mode, owner);
    public void Unlink(ulong parent, string name) => inner.Unlink(parent, name);
    public void RemoveDirectory(ulong parent, string name) => inner.RemoveDirectory(parent, name);
    public void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None) =>
        inner.Rename(parent, name, newParent, newName, flags);
    public NodeAttributes Link(ulong node, ulong newParent, string newName) => inner.Link(node, newParent, newName);
    public ulong Open(ulong node, OpenFlags flags) => inner.Open(node, flags);
    public (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner) =>
        inner.Create(parent, name, mode, flags, owner);
    /// <summary>While set and not signalled, every Read waits for it: a stand-in for a slow device.</summary>
    public ManualResetEventSlim? ReadGate { get; set; }

    /// <summary>Signalled when a Read has started waiting on <see cref="ReadGate"/>.</summary>
    public ManualResetEventSlim ReadWaiting { get; } = new(false);

    public int Read(ulong node, ulong handle, long offset, Span<byte> buffer)
    {
        if (ReadGate is { } gate)
        {
            ReadWaiting.Set();
            gate.Wait(TimeSpan.FromSeconds(30));
        }
        return inner.Read(node, handle, offset, buffer);
    }
    public int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data) => inner.Write(node, handle, offset, data);
    private int _flushes;

    /// <summary>How many times the front end called <see cref="Flush"/>.</summary>
    public int FlushCount => Volatile.Read(ref _flushes);

    public void Flush(ulong node, ulong handle)
    {
        Interlocked.Increment(ref _flushes);
        inner.Flush(node, handle);
    }
    public void Release(ulong node, ulong handle) => inner.Release(node, handle);
    public void Fsync(ulong node, ulong handle, bool dataOnly) => inner.Fsync(node, handle, dataOnly);
    public ulong OpenDirectory(ulong node) => inner.OpenDirectory(node);
    public void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor) => inner.ReadDirectory(node, handle, offset, visitor);
    public void ReleaseDirectory(ulong node, ulong handle) => inner.ReleaseDirectory(node, handle);
    public void FsyncDirectory(ulong node, ulong handle, bool dataOnly) => inner.FsyncDirectory(node, handle, dataOnly);
    public FileSystemStatistics GetStatistics() => inner.GetStatistics();
    public void Access(ulong node, AccessMode mode, Credentials who) => inner.Access(node, mode, who);
    public void Allocate(ulong node, ulong handle, FallocateMode mode, long offset, long length) => inner.Allocate(node, handle, mode, offset, length);
    public long SeekData(ulong node, long offset, bool findHole) => inner.SeekData(node, offset, findHole);
    public byte[] GetExtendedAttribute(ulong node, string name) => inner.GetExtendedAttribute(node, name);
    public IReadOnlyList<string> ListExtendedAttributes(ulong node) => inner.ListExtendedAttributes(node);
    public void SetExtendedAttribute(ulong node, string name, ReadOnlySpan<byte> value, int flags) => inner.SetExtendedAttribute(node, name, value, flags);
    public void RemoveExtendedAttribute(ulong node, string name) => inner.RemoveExtendedAttribute(node, name);
    public void SyncFileSystem() => inner.SyncFileSystem();
    public bool Disposed { get; private set; }

    public void Dispose()
    {
        Disposed = true;
        inner.Dispose();
    }
}
