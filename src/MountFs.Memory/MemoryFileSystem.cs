using System.Text;
using MountFs.Vfs;

namespace MountFs.Memory;

/// <summary>
/// The reference file system: every node and byte lives in memory, with the POSIX semantics of
/// Linux tmpfs. It is both a mountable layout ("memory") and the model the other layouts are
/// checked against, so it implements every operation of <see cref="IFileSystem"/>.
/// </summary>
/// <remarks>
/// One lock serialises all operations (the reference is about being right, not fast); it is never
/// held while a <see cref="DirectoryEntryVisitor"/> runs. Node ids and handles are never reused,
/// so a stale id answers ESTALE / EBADF instead of reaching a newer node.
/// This file holds lookup, attributes and the namespace operations; file data, directory listing
/// and extended attributes are in the other parts of the class.
/// </remarks>
public sealed partial class MemoryFileSystem : IFileSystem
{
    /// <summary>Block size reported by statfs and the unit of capacity accounting.</summary>
    public const int BlockSize = SparseFileData.PageSize;

    private const int MaxSymlinkLength = 4095;
    private const uint SetGid = 0x400;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, MemoryNode> _nodes = [];
    private readonly Dictionary<ulong, OpenHandle> _handles = [];
    private readonly MemoryNode _root;
    private readonly Func<Timestamp> _clock;
    private readonly long _capacityPages;
    private readonly long _maxNodes;
    private ulong _nextNode = 1;
    private ulong _nextHandle = 1;
    private long _usedPages;
    private bool _disposed;

    public MemoryFileSystem() : this(new MemoryFileSystemOptions()) { }

    public MemoryFileSystem(MemoryFileSystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var capabilities = options.Capabilities ?? MemoryFileSystemOptions.DefaultCapabilities;
        Capabilities = capabilities with { ReadOnly = capabilities.ReadOnly || options.ReadOnly };
        _clock = options.Clock ?? (() => Timestamp.Now);
        _capacityPages = Math.Max(0, options.CapacityBytes / BlockSize);
        _maxNodes = Math.Max(1, options.MaxNodes);
        _root = NewNode(UnixFileMode.Directory | (options.RootMode & UnixFileMode.PermissionMask),
            new Credentials(options.RootUid, options.RootGid), parent: null, Now());
        _root.Parent = _root;
        _root.Links = 2;
    }

    public FileSystemCapabilities Capabilities { get; }

    public ulong RootNode => _root.Id;

    public NodeAttributes? Lookup(ulong parent, string name)
    {
        lock (_lock)
        {
            var directory = Directory(parent);
            MemoryNode? found = name switch
            {
                "." => directory,
                ".." => directory.Parent,
                _ => FindEntry(directory, name),
            };
            if (found is null) return null;
            found.Referenced = true;
            return Attributes(found);
        }
    }

    public void Forget(ulong node)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(node, out var found)) return;
            found.Referenced = false;
            ReclaimIfUnused(found);
        }
    }

    public NodeAttributes GetAttributes(ulong node)
    {
        lock (_lock) return Attributes(Node(node));
    }

    public NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_lock)
        {
            var target = Node(node);
            EnsureWritable();
            if (!Capabilities.Permissions && (changes.Mode is not null || changes.Uid is not null || changes.Gid is not null))
                throw new FsException(Errno.EPERM, "this file system stores no owners or permissions");
            if (changes.Size is long size) CheckTruncate(target, size);

            var now = Now();
            bool changed = false;
            if (changes.Mode is uint mode)
            {
                target.Mode = UnixFileMode.TypeOf(target.Mode) | (mode & UnixFileMode.PermissionMask);
                changed = true;
            }
            if (changes.Uid is uint uid) { target.Uid = uid; changed = true; }
            if (changes.Gid is uint gid) { target.Gid = gid; changed = true; }
            if (changes.Size is long newSize)
            {
                Resize(target.Data!, newSize);
                target.Mtime = now;
                changed = true;
            }
            if (changes.Atime is TimeChange atime) { target.Atime = Resolve(atime, now); changed = true; }
            if (changes.Mtime is TimeChange mtime) { target.Mtime = Resolve(mtime, now); changed = true; }
            if (changes.Ctime is Timestamp ctime) target.Ctime = Round(ctime);
            else if (changed) target.Ctime = now;
            return Attributes(target);
        }
    }

    public string ReadLink(ulong node)
    {
        lock (_lock)
        {
            var link = Node(node);
            return link.Target ?? throw new FsException(Errno.EINVAL, "not a symbolic link");
        }
    }

    public NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_lock)
        {
            if (target.Length == 0) throw new FsException(Errno.ENOENT, "empty symbolic link target");
            if (Encoding.UTF8.GetByteCount(target) > MaxSymlinkLength)
                throw new FsException(Errno.ENAMETOOLONG, "symbolic link target too long");
            var directory = DirectoryForNewName(parent, name);
            if (!Capabilities.Symlinks) throw new FsException(Errno.EPERM, "symbolic links are not supported");
            var now = Now();
            var link = NewNode(UnixFileMode.Symlink | 0x1FF, owner, directory, now, target: target);
            Insert(directory, name, link, now);
            return Attributes(link);
        }
    }

    public NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner)
    {
        lock (_lock)
        {
            uint type = UnixFileMode.TypeOf(mode);
            if (type == 0) type = UnixFileMode.Regular;
            if (type is not (UnixFileMode.Regular or UnixFileMode.Fifo or UnixFileMode.Socket
                or UnixFileMode.CharacterDevice or UnixFileMode.BlockDevice))
                throw new FsException(Errno.EINVAL, "mknod makes only files, FIFOs, sockets and device nodes");
            var directory = DirectoryForNewName(parent, name);
            if (type != UnixFileMode.Regular && !Capabilities.SpecialFiles)
                throw new FsException(Errno.EPERM, "special files are not supported");
            var now = Now();
            var node = NewNode(type | (mode & UnixFileMode.PermissionMask), owner, directory, now);
            if (type is UnixFileMode.CharacterDevice or UnixFileMode.BlockDevice) node.Rdev = rdev;
            Insert(directory, name, node, now);
            return Attributes(node);
        }
    }

    public NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner)
    {
        lock (_lock)
        {
            var directory = DirectoryForNewName(parent, name);
            var now = Now();
            // mkdir(2) keeps the permission bits and the sticky bit only.
            var child = NewNode(UnixFileMode.Directory | (mode & 0x3FF), owner, directory, now);
            child.Links = 2;
            child.Parent = directory;
            directory.Links++;
            Insert(directory, name, child, now);
            return Attributes(child);
        }
    }

    public void Unlink(ulong parent, string name)
    {
        lock (_lock)
        {
            var directory = Directory(parent);
            ValidateName(name);
            var victim = FindEntry(directory, name) ?? throw new FsException(Errno.ENOENT, name);
            EnsureWritable();
            if (victim.IsDirectory) throw new FsException(Errno.EISDIR, $"{name} is a directory");
            var now = Now();
            directory.Entries!.Remove(name);
            Touch(directory, now);
            victim.Links--;
            victim.Ctime = now;
            ReclaimIfUnused(victim);
        }
    }

    public void RemoveDirectory(ulong parent, string name)
    {
        lock (_lock)
        {
            var directory = Directory(parent);
            ValidateName(name);
            var victim = FindEntry(directory, name) ?? throw new FsException(Errno.ENOENT, name);
            EnsureWritable();
            if (!victim.IsDirectory) throw new FsException(Errno.ENOTDIR, $"{name} is not a directory");
            if (victim.Entries!.Count > 0) throw new FsException(Errno.ENOTEMPTY, $"{name} is not empty");
            var now = Now();
            directory.Entries!.Remove(name);
            directory.Links--;
            Touch(directory, now);
            victim.Links = 0;
            victim.Ctime = now;
            ReclaimIfUnused(victim);
        }
    }

    public void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None)
    {
        lock (_lock)
        {
            if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange | RenameFlags.Whiteout)) != 0)
                throw new FsException(Errno.EINVAL, "unknown rename flags");
            if ((flags & RenameFlags.NoReplace) != 0 && (flags & RenameFlags.Exchange) != 0)
                throw new FsException(Errno.EINVAL, "RENAME_NOREPLACE and RENAME_EXCHANGE together");
            if ((flags & RenameFlags.Whiteout) != 0)
                throw new FsException(Errno.EINVAL, "RENAME_WHITEOUT is not supported");
            bool exchange = (flags & RenameFlags.Exchange) != 0;

            var from = Directory(parent);
            var to = Directory(newParent);
            ValidateName(name);
            ValidateName(newName);
            var sourceSlot = from.Entries!.Find(name) ?? throw new FsException(Errno.ENOENT, name);
            var targetSlot = to.Entries!.Find(newName);
            if (targetSlot is null && to.Links == 0) throw new FsException(Errno.ENOENT, "target directory was removed");
            if (exchange && targetSlot is null) throw new FsException(Errno.ENOENT, newName);
            if ((flags & RenameFlags.NoReplace) != 0 && targetSlot is not null) throw new FsException(Errno.EEXIST, newName);
            EnsureWritable();

            var source = sourceSlot.Node;
            var target = targetSlot?.Node;
            if (from != to)
            {
                // As Linux checks it: the source may not be an ancestor of the new parent, nor the target of the old one.
                if (source.IsDirectory && IsAncestorOrSelf(source, to))
                    throw new FsException(Errno.EINVAL, "cannot move a directory into its own subtree");
                if (target is { IsDirectory: true } && IsAncestorOrSelf(target, from))
                    throw new FsException(exchange ? Errno.EINVAL : Errno.ENOTEMPTY, $"{newName} is an ancestor of the source");
            }

            var now = Now();
            if (source == target)
            {
                // Two names of one node: POSIX says do nothing. One name in a case-insensitive
                // directory given a new case: keep the new spelling, as vfat does.
                if (sourceSlot == targetSlot && !string.Equals(name, newName, StringComparison.Ordinal))
                {
                    from.Entries.Remove(name);
                    from.Entries.Add(newName, source);
                    Touch(from, now);
                    source.Ctime = now;
                }
                return;
            }

            if (exchange)
            {
                sourceSlot.Node = target!;
                targetSlot!.Node = source;
                if (from != to)
                {
                    Reparent(source, from, to);
                    Reparent(target!, to, from);
                }
                source.Ctime = now;
                target!.Ctime = now;
                Touch(from, now);
                Touch(to, now);
                return;
            }

            if (target is not null)
            {
                if (source.IsDirectory && !target.IsDirectory) throw new FsException(Errno.ENOTDIR, $"{newName} is not a directory");
                if (!source.IsDirectory && target.IsDirectory) throw new FsException(Errno.EISDIR, $"{newName} is a directory");
                if (target.IsDirectory && target.Entries!.Count > 0) throw new FsException(Errno.ENOTEMPTY, $"{newName} is not empty");
                to.Entries.Remove(newName);
                if (target.IsDirectory)
                {
                    target.Links = 0;
                    to.Links--;
                }
                else
                {
                    target.Links--;
                }
                target.Ctime = now;
            }
            from.Entries.Remove(name);
            to.Entries.Add(newName, source);
            if (from != to) Reparent(source, from, to);
            source.Ctime = now;
            Touch(from, now);
            Touch(to, now);
            if (target is not null) ReclaimIfUnused(target);
        }
    }

    public NodeAttributes Link(ulong node, ulong newParent, string newName)
    {
        lock (_lock)
        {
            var existing = Node(node);
            var directory = DirectoryForNewName(newParent, newName);
            if (!Capabilities.HardLinks) throw new FsException(Errno.EPERM, "hard links are not supported");
            if (existing.IsDirectory) throw new FsException(Errno.EPERM, "hard links to directories are not allowed");
            if (existing.Links == 0) throw new FsException(Errno.ENOENT, "the node has been removed");
            var now = Now();
            existing.Links++;
            existing.Ctime = now;
            Insert(directory, newName, existing, now);
            return Attributes(existing);
        }
    }

    public FileSystemStatistics GetStatistics()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            long freePages = Math.Max(0, _capacityPages - _usedPages);
            return new FileSystemStatistics(BlockSize, _capacityPages, freePages, freePages,
                _maxNodes, Math.Max(0, _maxNodes - _nodes.Count), Capabilities.MaxNameLength);
        }
    }

    public void Access(ulong node, AccessMode mode, Credentials who)
    {
        lock (_lock)
        {
            var target = Node(node);
            if (mode == AccessMode.Exists) return;
            if ((mode & AccessMode.Write) != 0 && Capabilities.ReadOnly && !IsDevice(target))
                throw new FsException(Errno.EROFS, "read-only file system");
            uint wanted = (uint)mode & 7;
            if (who.Uid == 0)
            {
                // Root may read and write anything, and execute what has some execute bit (or search any directory).
                if ((mode & AccessMode.Execute) == 0 || target.IsDirectory || (target.Mode & 0x49) != 0) return;
                throw new FsException(Errno.EACCES, "no execute permission for anyone");
            }
            int shift = who.Uid == target.Uid ? 6 : who.Gid == target.Gid ? 3 : 0;
            uint granted = (target.Mode >> shift) & 7;
            if ((granted & wanted) != wanted) throw new FsException(Errno.EACCES, "permission denied");
        }
    }

    public void SyncFileSystem()
    {
        lock (_lock) ThrowIfDisposed();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            // Regions live outside the GC heap: give them back now rather than at finalization.
            foreach (var node in _nodes.Values) node.Data?.Release();
        }
    }

    private static bool IsDevice(MemoryNode node) =>
        UnixFileMode.TypeOf(node.Mode) is UnixFileMode.CharacterDevice or UnixFileMode.BlockDevice
            or UnixFileMode.Fifo or UnixFileMode.Socket;

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new FsException(Errno.EIO, "the memory file system has been disposed");
    }

    private MemoryNode Node(ulong id)
    {
        ThrowIfDisposed();
        return _nodes.GetValueOrDefault(id) ?? throw new FsException(Errno.ESTALE, $"no node {id}");
    }

    private MemoryNode Directory(ulong id)
    {
        var node = Node(id);
        return node.IsDirectory ? node : throw new FsException(Errno.ENOTDIR, $"node {id} is not a directory");
    }

    private MemoryNode? FindEntry(MemoryNode directory, string name)
    {
        ValidateName(name);
        return directory.Entries!.Find(name)?.Node;
    }

    /// <summary>The directory a new name goes into, after the checks Linux makes before creating anything.</summary>
    private MemoryNode DirectoryForNewName(ulong parent, string name)
    {
        var directory = Directory(parent);
        ValidateName(name);
        if (directory.Links == 0) throw new FsException(Errno.ENOENT, "the directory has been removed");
        if (directory.Entries!.Find(name) is not null) throw new FsException(Errno.EEXIST, name);
        EnsureWritable();
        return directory;
    }

    private void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name.Contains('\0'))
            throw new FsException(Errno.EINVAL, "invalid name");
        if (Encoding.UTF8.GetByteCount(name) > Capabilities.MaxNameLength)
            throw new FsException(Errno.ENAMETOOLONG, $"name longer than {Capabilities.MaxNameLength} bytes");
    }

    private void EnsureWritable()
    {
        if (Capabilities.ReadOnly) throw new FsException(Errno.EROFS, "read-only file system");
    }

    private MemoryNode NewNode(uint mode, Credentials owner, MemoryNode? parent, Timestamp now,
        string? target = null)
    {
        if (_nodes.Count >= _maxNodes) throw new FsException(Errno.ENOSPC, "no free nodes");
        uint gid = owner.Gid;
        // BSD group semantics, as Linux applies them: a set-gid directory hands its group down,
        // and its set-gid bit to subdirectories.
        if (parent is not null && (parent.Mode & SetGid) != 0)
        {
            gid = parent.Gid;
            if (UnixFileMode.IsDirectory(mode)) mode |= SetGid;
        }
        var node = new MemoryNode(_nextNode++, mode)
        {
            Data = UnixFileMode.IsRegular(mode) ? new SparseFileData() : null,
            Entries = UnixFileMode.IsDirectory(mode) ? new DirectoryTable(Capabilities.CaseInsensitive) : null,
            Target = target,
            Links = 1,
            Uid = owner.Uid,
            Gid = gid,
            Atime = now,
            Mtime = now,
            Ctime = now,
        };
        _nodes.Add(node.Id, node);
        return node;
    }

    private static void Insert(MemoryNode directory, string name, MemoryNode node, Timestamp now)
    {
        directory.Entries!.Add(name, node);
        Touch(directory, now);
        node.Referenced = true;
    }

    private static void Touch(MemoryNode directory, Timestamp now)
    {
        directory.Mtime = now;
        directory.Ctime = now;
    }

    private static void Reparent(MemoryNode node, MemoryNode from, MemoryNode to)
    {
        if (!node.IsDirectory) return;
        node.Parent = to;
        from.Links--;
        to.Links++;
    }

    private static bool IsAncestorOrSelf(MemoryNode ancestor, MemoryNode node)
    {
        for (var current = node; ; current = current.Parent!)
        {
            if (current == ancestor) return true;
            if (current.Parent is null || current.Parent == current) return false;
        }
    }

    private void ReclaimIfUnused(MemoryNode node)
    {
        if (node.Links > 0 || node.OpenHandles > 0 || node.Referenced || node == _root) return;
        _nodes.Remove(node.Id);
        if (node.Data is null) return;
        _usedPages -= node.Data.PageCount;
        node.Data.Release();
    }

    private NodeAttributes Attributes(MemoryNode node)
    {
        long size = node switch
        {
            { Data: not null } => node.Data.Size,
            { Target: not null } => Encoding.UTF8.GetByteCount(node.Target),
            // tmpfs's convention: a nominal 20 bytes per entry, "." and ".." included.
            { Entries: not null } => (node.Entries.Count + 2) * 20L,
            _ => 0,
        };
        long blocks = (node.Data?.PageCount ?? 0) * (BlockSize / 512);
        return new NodeAttributes(node.Id, node.Mode, node.Links, node.Uid, node.Gid, size, blocks,
            node.Atime, node.Mtime, node.Ctime, node.Rdev, BlockSize);
    }

    private Timestamp Now() => Round(_clock());

    private Timestamp Resolve(TimeChange change, Timestamp now) => change.Value is Timestamp t ? Round(t) : now;

    /// <summary>Stores times as coarsely as the capabilities say (2 s when emulating FAT).</summary>
    private Timestamp Round(Timestamp t)
    {
        long granularity = Capabilities.TimeGranularity.Ticks;
        if (granularity <= 1) return t;
        long ticks = t.Nanoseconds / 100;
        if (granularity < TimeSpan.TicksPerSecond)
            return new Timestamp(t.Seconds, (uint)(ticks - ticks % granularity) * 100);
        long seconds = granularity / TimeSpan.TicksPerSecond;
        return new Timestamp(t.Seconds - (((t.Seconds % seconds) + seconds) % seconds), 0);
    }
}
