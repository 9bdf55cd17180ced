using MountFs.Fuse.Protocol;
using MountFs.Vfs;

namespace MountFs.Fuse.Bridge;

/// <summary>
/// The front end's side of the file-system contract: FUSE node ids and lookup counts
/// (<see cref="NodeTable"/>), file handles (<see cref="HandleTable"/>), name checks, and the duties
/// the contract leaves to front ends (O_APPEND, O_TRUNC, "." and ".."). Speaks FUSE ids on one side
/// and layout ids on the other; knows nothing of the wire format.
/// </summary>
/// <remarks>Thread-safe: every worker thread calls in at once; only the tables lock, never across a
/// layout call, except the per-node append lock which orders appending writes to one file.</remarks>
public sealed class FuseBridge
{
    private const int AppendLockStripes = 64;
    private readonly Lock[] _appendLocks = Enumerable.Range(0, AppendLockStripes).Select(_ => new Lock()).ToArray();
    private readonly int _maxNameLength;

    public FuseBridge(IFileSystem fileSystem)
    {
        FileSystem = fileSystem;
        Nodes = new NodeTable(fileSystem.RootNode);
        _maxNameLength = fileSystem.Capabilities.MaxNameLength;
    }

    public IFileSystem FileSystem { get; }
    public NodeTable Nodes { get; }
    public HandleTable Handles { get; } = new();

    /// <summary>False: opens reply FOPEN_NOFLUSH and Release calls the layout's Flush first.</summary>
    public bool FlushOnClose { get; set; } = true;

    /// <summary>Set once INIT granted the writeback cache: the kernel then places appends itself.</summary>
    public bool KernelOwnsAppend { get; set; }

    private ulong L(ulong fuseId) => Nodes.ToLayout(fuseId);

    /// <summary>Counts a node handed to the kernel in an entry reply and returns it.</summary>
    private NodeAttributes Hand(NodeAttributes attributes)
    {
        Nodes.Acquire(Nodes.ToFuse(attributes.Node));
        return attributes;
    }

    /// <summary>Counts a node handed out in a READDIRPLUS entry.</summary>
    public void Acquire(ulong layoutId) => Nodes.Acquire(Nodes.ToFuse(layoutId));

    public NodeAttributes? Lookup(ulong parent, string name)
    {
        if (name == ".") return Hand(FileSystem.GetAttributes(L(parent)));
        if (name != "..") CheckName(name);
        var found = FileSystem.Lookup(L(parent), name);
        return found is null ? null : Hand(found);
    }

    /// <summary>Largest unlinked file whose forgetting is taken as cheap (a few blocks to free).</summary>
    private const long CheapToFreeBytes = 1 << 20;

    /// <summary>
    /// False when RELEASE of <paramref name="fh"/> may wait on the device: data or size changed through
    /// the handle, so the layout's flush has work. A handle we do not know fails fast (EBADF).
    /// </summary>
    public bool ReleaseIsCheap(ulong fh) => !Handles.TryGet(fh, out var h) || !h!.Changed;

    /// <summary>
    /// False when FORGET may make the layout free much data: the last reference to an unlinked node
    /// larger than <see cref="CheapToFreeBytes"/>. Dropping one of several references, or forgetting a
    /// linked node, only touches tables.
    /// </summary>
    public bool ForgetIsCheap(ulong node, ulong count)
    {
        if (node == NodeTable.RootId || Nodes.LookupCount(node) > count) return true;
        try
        {
            var attributes = FileSystem.GetAttributes(L(node));
            return attributes.Links > 0 || attributes.Size <= CheapToFreeBytes;
        }
        catch (Exception)
        {
            // Asked before the request is processed, outside its error handling: whatever went wrong
            // will surface (and be answered) when FORGET runs, on a worker that gave up the reader role.
            return false;
        }
    }

    public void Forget(ulong node, ulong count)
    {
        if (Nodes.Release(node, count)) FileSystem.Forget(L(node));
    }

    public NodeAttributes GetAttributes(ulong node) => FileSystem.GetAttributes(L(node));

    public NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? fh)
    {
        ulong? handle = null;
        if (fh is { } f)
        {
            var h = Handles.Get(f);
            if (changes.Size is not null) h.Changed = true;
            handle = h.LayoutHandle;
        }
        return FileSystem.SetAttributes(L(node), changes, handle);
    }

    public string ReadLink(ulong node) => FileSystem.ReadLink(L(node));

    public NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner)
    {
        CheckNewName(name);
        return Hand(FileSystem.Symlink(L(parent), name, target, owner));
    }

    public NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner)
    {
        CheckNewName(name);
        return Hand(FileSystem.MakeNode(L(parent), name, mode, rdev, owner));
    }

    public NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner)
    {
        CheckNewName(name);
        return Hand(FileSystem.MakeDirectory(L(parent), name, mode, owner));
    }

    public void Unlink(ulong parent, string name)
    {
        if (name is "." or "..") throw new FsException(Errno.EISDIR);
        CheckName(name);
        FileSystem.Unlink(L(parent), name);
    }

    public void RemoveDirectory(ulong parent, string name)
    {
        if (name == ".") throw new FsException(Errno.EINVAL);
        if (name == "..") throw new FsException(Errno.ENOTEMPTY);
        CheckName(name);
        FileSystem.RemoveDirectory(L(parent), name);
    }

    public void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags)
    {
        if (name is "." or ".." || newName is "." or "..") throw new FsException(Errno.EINVAL);
        CheckName(name);
        CheckName(newName);
        FileSystem.Rename(L(parent), name, L(newParent), newName, flags);
    }

    public NodeAttributes Link(ulong node, ulong newParent, string newName)
    {
        CheckNewName(newName);
        return Hand(FileSystem.Link(L(node), L(newParent), newName));
    }

    public (ulong Fh, OpenReplyFlags Flags) Open(ulong node, OpenFlags flags, bool killSetId = false)
    {
        ulong layoutNode = L(node);
        ulong handle = FileSystem.Open(layoutNode, flags);
        try
        {
            if ((flags & OpenFlags.Truncate) != 0 && (flags & OpenFlags.AccessMask) != OpenFlags.ReadOnly
                && FileSystem.GetAttributes(layoutNode).IsRegular)
            {
                FileSystem.SetAttributes(layoutNode, new SetAttributes { Size = 0 }, handle);
                if (killSetId) ClearSetId(layoutNode, handle);
            }
        }
        catch
        {
            FileSystem.Release(layoutNode, handle);
            throw;
        }
        return (Handles.Add(new OpenHandle(layoutNode, handle, flags, false)), ReplyFlags(flags, FlushOnClose));
    }

    /// <summary>CREATE; a name that appeared since the kernel's negative lookup is opened unless O_EXCL.</summary>
    public (NodeAttributes Attributes, ulong Fh, OpenReplyFlags Flags) Create(
        ulong parent, string name, uint mode, OpenFlags flags, Credentials owner)
    {
        CheckNewName(name);
        ulong layoutParent = L(parent);
        NodeAttributes attributes;
        ulong handle;
        try
        {
            (attributes, handle) = FileSystem.Create(layoutParent, name, mode, flags, owner);
        }
        catch (FsException e) when (e.Errno == Errno.EEXIST && (flags & OpenFlags.Exclusive) == 0)
        {
            var existing = FileSystem.Lookup(layoutParent, name);
            if (existing is null) throw;
            if (existing.IsDirectory) throw new FsException(Errno.EISDIR);
            handle = FileSystem.Open(existing.Node, flags);
            attributes = (flags & OpenFlags.Truncate) != 0 && existing.IsRegular
                ? FileSystem.SetAttributes(existing.Node, new SetAttributes { Size = 0 }, handle)
                : existing;
        }
        Hand(attributes);
        return (attributes, Handles.Add(new OpenHandle(attributes.Node, handle, flags, false)), ReplyFlags(flags, FlushOnClose));
    }

    private static OpenReplyFlags ReplyFlags(OpenFlags flags, bool flushOnClose) =>
        // Only this process changes the image, so pages cached from an earlier open stay right;
        // AUTO_INVAL_DATA still drops them if mtime or size moves.
        ((flags & OpenFlags.Direct) != 0 ? OpenReplyFlags.DirectIo : OpenReplyFlags.KeepCache)
        | (flushOnClose ? OpenReplyFlags.None : OpenReplyFlags.NoFlush);

    public int Read(ulong node, ulong fh, long offset, Span<byte> buffer)
    {
        var h = Handles.Get(fh);
        return FileSystem.Read(h.LayoutNode, h.LayoutHandle, offset, buffer);
    }

    public int Write(ulong node, ulong fh, long offset, ReadOnlySpan<byte> data, bool killSetId = false, bool fromCache = false)
    {
        var h = Handles.Get(fh);
        h.Changed = true;
        if (killSetId || !h.CapabilitiesDropped)
            DropPrivileges(h, killSetId);
        if (fromCache && KernelOwnsAppend) return WriteBack(h, offset, data);
        if ((h.Flags & OpenFlags.Append) == 0 || KernelOwnsAppend)
            return FileSystem.Write(h.LayoutNode, h.LayoutHandle, offset, data);
        // The contract leaves O_APPEND to front ends: read EOF and write there under one lock per node,
        // so two appenders never land on the same offset.
        lock (_appendLocks[(int)(h.LayoutNode % AppendLockStripes)])
        {
            long end = FileSystem.GetAttributes(h.LayoutNode).Size;
            return FileSystem.Write(h.LayoutNode, h.LayoutHandle, end, data);
        }
    }

    /// <summary>
    /// Page-cache write-back under the writeback cache: the kernel owns mtime and ctime then (it stamped
    /// them at write(2) time and sends them in a SETATTR whenever it changed them), so the layout's own
    /// stamp for this late WRITE is undone; otherwise the stored time would be the write-back moment.
    /// </summary>
    private int WriteBack(OpenHandle h, long offset, ReadOnlySpan<byte> data)
    {
        var before = FileSystem.GetAttributes(h.LayoutNode);
        int written = FileSystem.Write(h.LayoutNode, h.LayoutHandle, offset, data);
        try
        {
            FileSystem.SetAttributes(h.LayoutNode,
                new SetAttributes { Mtime = TimeChange.At(before.Mtime), Ctime = before.Ctime }, h.LayoutHandle);
        }
        catch (FsException e) when (e.Errno is Errno.EINVAL or Errno.EOPNOTSUPP or Errno.ENOSYS or Errno.EPERM)
        {
            // A layout that cannot set these times keeps its own; the data is written, so the WRITE succeeded.
        }
        return written;
    }

    /// <summary>
    /// What the kernel does itself unless it hands the job over with HANDLE_KILLPRIV_V2 (which spares a
    /// security.capability GETXATTR round trip before every write): a write drops the file's capabilities,
    /// and, when the kernel flags the writer as unprivileged, set-uid and group-executable set-gid.
    /// </summary>
    private void DropPrivileges(OpenHandle h, bool killSetId)
    {
        if (!h.CapabilitiesDropped)
        {
            h.CapabilitiesDropped = true;
            if (FileSystem.Capabilities.ExtendedAttributes && !FileSystem.Capabilities.ReadOnly)
            {
                try { FileSystem.RemoveExtendedAttribute(h.LayoutNode, "security.capability"); }
                catch (FsException e) when (e.Errno is Errno.ENODATA or Errno.EOPNOTSUPP or Errno.ENOSYS or Errno.EPERM) { }
            }
        }
        if (killSetId) ClearSetId(h.LayoutNode, h.LayoutHandle);
    }

    /// <summary>Adds clearing set-uid (and set-gid where group execute is set) to <paramref name="changes"/>
    /// unless they set the mode themselves.</summary>
    public SetAttributes WithSetIdCleared(ulong node, SetAttributes changes) =>
        changes.Mode is null && SetIdClearedMode(L(node)) is { } mode ? changes with { Mode = mode } : changes;

    private void ClearSetId(ulong layoutNode, ulong? layoutHandle)
    {
        if (SetIdClearedMode(layoutNode) is { } mode)
            FileSystem.SetAttributes(layoutNode, new SetAttributes { Mode = mode }, layoutHandle);
    }

    /// <summary>The node's permissions without set-uid, and without set-gid where group execute is set (as the
    /// kernel's should_remove_suid); null when that changes nothing.</summary>
    private uint? SetIdClearedMode(ulong layoutNode)
    {
        const uint SetUid = 0x800, SetGid = 0x400, GroupExecute = 0x8;
        uint mode = FileSystem.GetAttributes(layoutNode).Mode;
        uint permissions = mode & MountFs.Vfs.UnixFileMode.PermissionMask;
        uint cleared = permissions & ~SetUid;
        if ((mode & GroupExecute) != 0) cleared &= ~SetGid;
        return cleared != permissions ? cleared : null;
    }

    public void Flush(ulong fh)
    {
        var h = Handles.Get(fh);
        FileSystem.Flush(h.LayoutNode, h.LayoutHandle);
    }

    public void Release(ulong fh)
    {
        var h = Handles.Remove(fh);
        try
        {
            if (!FlushOnClose) FileSystem.Flush(h.LayoutNode, h.LayoutHandle);
        }
        finally
        {
            FileSystem.Release(h.LayoutNode, h.LayoutHandle);
        }
    }

    public void Fsync(ulong node, ulong fh, bool dataOnly)
    {
        if (fh == 0) { FileSystem.Fsync(L(node), 0, dataOnly); return; }
        var h = Handles.Get(fh);
        FileSystem.Fsync(h.LayoutNode, h.LayoutHandle, dataOnly);
    }

    public ulong OpenDirectory(ulong node, OpenFlags flags)
    {
        ulong layoutNode = L(node);
        ulong handle = FileSystem.OpenDirectory(layoutNode);
        return Handles.Add(new OpenHandle(layoutNode, handle, flags, true));
    }

    /// <summary>FOPEN_CACHE_DIR keeps listings in the kernel; KEEP_CACHE keeps them across opendir.
    /// The kernel resets them whenever the directory's version or mtime moves.</summary>
    public bool CacheDirectories { get; set; }

    public OpenReplyFlags DirectoryReplyFlags =>
        CacheDirectories ? OpenReplyFlags.CacheDir | OpenReplyFlags.KeepCache : OpenReplyFlags.None;

    public void ReadDirectory(ulong fh, long offset, DirectoryEntryVisitor visitor)
    {
        var h = Handles.Get(fh);
        FileSystem.ReadDirectory(h.LayoutNode, h.LayoutHandle, offset, visitor);
    }

    public void ReleaseDirectory(ulong fh)
    {
        var h = Handles.Remove(fh);
        FileSystem.ReleaseDirectory(h.LayoutNode, h.LayoutHandle);
    }

    public void FsyncDirectory(ulong fh, bool dataOnly)
    {
        var h = Handles.Get(fh);
        FileSystem.FsyncDirectory(h.LayoutNode, h.LayoutHandle, dataOnly);
    }

    public FileSystemStatistics GetStatistics() => FileSystem.GetStatistics();

    public void Access(ulong node, AccessMode mode, Credentials who) => FileSystem.Access(L(node), mode, who);

    public void Allocate(ulong fh, FallocateMode mode, long offset, long length)
    {
        var h = Handles.Get(fh);
        h.Changed = true;
        FileSystem.Allocate(h.LayoutNode, h.LayoutHandle, mode, offset, length);
    }

    public long SeekData(ulong node, long offset, bool findHole) => FileSystem.SeekData(L(node), offset, findHole);

    public bool HasExtendedAttributes => FileSystem.Capabilities.ExtendedAttributes;

    public byte[] GetExtendedAttribute(ulong node, string name) => FileSystem.GetExtendedAttribute(L(node), name);

    public IReadOnlyList<string> ListExtendedAttributes(ulong node) => FileSystem.ListExtendedAttributes(L(node));

    public void SetExtendedAttribute(ulong node, string name, ReadOnlySpan<byte> value, int flags) =>
        FileSystem.SetExtendedAttribute(L(node), name, value, flags);

    public void RemoveExtendedAttribute(ulong node, string name) => FileSystem.RemoveExtendedAttribute(L(node), name);

    public void SyncFileSystem() => FileSystem.SyncFileSystem();

    private void CheckNewName(string name)
    {
        if (name is "." or "..") throw new FsException(Errno.EEXIST);
        CheckName(name);
    }

    /// <summary>Names are single components: the kernel never sends '/' but a forged request might.</summary>
    private void CheckName(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\0'))
            throw new FsException(Errno.EINVAL, $"invalid name '{name}'");
        // MaxNameLength counts the layout's own unit (UTF-8 bytes or UTF-16 units); a name longer than
        // that in UTF-16 units is too long in either, the rest the layout judges itself.
        if (name.Length > _maxNameLength) throw new FsException(Errno.ENAMETOOLONG);
    }
}
