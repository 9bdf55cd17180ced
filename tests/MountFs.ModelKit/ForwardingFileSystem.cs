using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>
/// Passes every call to an inner file system; override members to inject faults (the kit's self-tests
/// wrap the reference in deliberately wrong layouts) or to observe calls.
/// </summary>
public class ForwardingFileSystem(IFileSystem inner) : IFileSystem
{
    public IFileSystem Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public virtual FileSystemCapabilities Capabilities => Inner.Capabilities;
    public virtual ulong RootNode => Inner.RootNode;
    public virtual NodeAttributes? Lookup(ulong parent, string name) => Inner.Lookup(parent, name);
    public virtual void Forget(ulong node) => Inner.Forget(node);
    public virtual NodeAttributes GetAttributes(ulong node) => Inner.GetAttributes(node);
    public virtual NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null) => Inner.SetAttributes(node, changes, handle);
    public virtual string ReadLink(ulong node) => Inner.ReadLink(node);
    public virtual NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner) => Inner.Symlink(parent, name, target, owner);
    public virtual NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner) => Inner.MakeNode(parent, name, mode, rdev, owner);
    public virtual NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner) => Inner.MakeDirectory(parent, name, mode, owner);
    public virtual void Unlink(ulong parent, string name) => Inner.Unlink(parent, name);
    public virtual void RemoveDirectory(ulong parent, string name) => Inner.RemoveDirectory(parent, name);
    public virtual void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None) =>
        Inner.Rename(parent, name, newParent, newName, flags);
    public virtual NodeAttributes Link(ulong node, ulong newParent, string newName) => Inner.Link(node, newParent, newName);
    public virtual ulong Open(ulong node, OpenFlags flags) => Inner.Open(node, flags);
    public virtual (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner) =>
        Inner.Create(parent, name, mode, flags, owner);
    public virtual int Read(ulong node, ulong handle, long offset, Span<byte> buffer) => Inner.Read(node, handle, offset, buffer);
    public virtual int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data) => Inner.Write(node, handle, offset, data);
    public virtual void Flush(ulong node, ulong handle) => Inner.Flush(node, handle);
    public virtual void Release(ulong node, ulong handle) => Inner.Release(node, handle);
    public virtual void Fsync(ulong node, ulong handle, bool dataOnly) => Inner.Fsync(node, handle, dataOnly);
    public virtual ulong OpenDirectory(ulong node) => Inner.OpenDirectory(node);
    public virtual void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor) =>
        Inner.ReadDirectory(node, handle, offset, visitor);
    public virtual void ReleaseDirectory(ulong node, ulong handle) => Inner.ReleaseDirectory(node, handle);
    public virtual void FsyncDirectory(ulong node, ulong handle, bool dataOnly) => Inner.FsyncDirectory(node, handle, dataOnly);
    public virtual FileSystemStatistics GetStatistics() => Inner.GetStatistics();
    public virtual void Access(ulong node, AccessMode mode, Credentials who) => Inner.Access(node, mode, who);
    public virtual void Allocate(ulong node, ulong handle, FallocateMode mode, long offset, long length) =>
        Inner.Allocate(node, handle, mode, offset, length);
    public virtual long SeekData(ulong node, long offset, bool findHole) => Inner.SeekData(node, offset, findHole);
    public virtual byte[] GetExtendedAttribute(ulong node, string name) => Inner.GetExtendedAttribute(node, name);
    public virtual IReadOnlyList<string> ListExtendedAttributes(ulong node) => Inner.ListExtendedAttributes(node);
    public virtual void SetExtendedAttribute(ulong node, string name, ReadOnlySpan<byte> value, int flags) =>
        Inner.SetExtendedAttribute(node, name, value, flags);
    public virtual void RemoveExtendedAttribute(ulong node, string name) => Inner.RemoveExtendedAttribute(node, name);
    public virtual void SyncFileSystem() => Inner.SyncFileSystem();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
    }
}
