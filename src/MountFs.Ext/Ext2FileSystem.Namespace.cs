using System.Text;
using MountFs.Vfs;

namespace MountFs.Ext;

// Name operations: lookup, create, link, unlink, rename, symlinks; node lifetime (links, orphans, eviction).
public sealed partial class Ext2FileSystem
{
    public NodeAttributes? Lookup(ulong parent, string name)
    {
        lock (_gate)
        {
            var dir = DirectoryInode((uint)parent);
            var bytes = Encoding.UTF8.GetBytes(name);
            if (bytes.Length > DirectoryEntry.MaxNameLength) throw new FsException(Errno.ENAMETOOLONG);
            if (Find((uint)parent, dir, bytes) is not { } slot) return null;
            return Attributes(slot.Inode, Referenced(slot.Inode, EntryTarget((uint)parent, slot.Inode)));
        }
    }

    /// <summary>The inode a directory entry names; a free or zeroed one means a dangling entry (EUCLEAN).</summary>
    private Inode EntryTarget(uint dirIno, uint ino)
    {
        var inode = ReadInode(ino);
        if (inode.Mode == 0 || inode.LinksCount == 0 && !IsPinned(ino))
            throw Corrupt("directory entry", $"directory {dirIno} names inode {ino}, which is not in use");
        return inode;
    }

    /// <summary>Node ids a front end holds (from lookups and creations) until it forgets them: an unlinked node
    /// keeps its inode number (on the orphan list) while referenced, so an old id never names a new node.</summary>
    private readonly HashSet<uint> _referenced = [];

    private Inode Referenced(uint ino, Inode inode)
    {
        _referenced.Add(ino);
        return inode;
    }

    private bool IsPinned(uint ino) => _openCounts.ContainsKey(ino) || _referenced.Contains(ino);

    public void Forget(ulong node)
    {
        lock (_gate)
        {
            if (!_referenced.Remove((uint)node) || _openCounts.ContainsKey((uint)node)) return;
            FreeIfUnlinked((uint)node);
        }
    }

    /// <summary>Frees a node nobody references any more if it has no links (it sits on the orphan list).</summary>
    private void FreeIfUnlinked(uint ino)
    {
        if (_readOnly || _disposed || ino < 1 || ino > _sb.InodesCount) return;
        var inode = ReadInode(ino);
        if (inode.LinksCount != 0 || inode.Mode == 0 || !IsInodeInUse(ino)) return;
        using var tx = Begin();
        RemoveOrphan(tx, ino, inode);
        Evict(tx, ino, ReadInode(ino));
        tx.Commit();
        AfterCommit();
    }

    private void EnsureAbsent(uint dirIno, byte[] name)
    {
        var dir = DirectoryInode(dirIno);
        if (dir.LinksCount == 0) throw new FsException(Errno.ENOENT, "directory was removed");
        if (Find(dirIno, dir, name) != null) throw new FsException(Errno.EEXIST);
    }

    /// <summary>BSD group semantics in a set-gid directory: new nodes take its group, new directories its set-gid bit.</summary>
    private void InheritGroup(Inode child, uint parentIno)
    {
        var parent = ReadInode(parentIno);
        if ((parent.Mode & 0x400) == 0) return;
        child.Gid = parent.Gid;
        if (child.IsDirectory) child.Mode |= 0x400;
    }

    private (uint Ino, Inode Inode) CreateNode(Transaction tx, uint parent, byte[] name, uint mode, uint rdev, Credentials owner)
    {
        uint ino = AllocateInode(tx, parent, directory: false);
        var inode = NewInode(mode, owner, 1);
        InheritGroup(inode, parent);
        uint type = mode & UnixFileMode.TypeMask;
        if (type is UnixFileMode.CharacterDevice or UnixFileMode.BlockDevice) inode.DeviceNumber = rdev;
        WriteInode(tx, ino, inode);
        AddEntry(tx, parent, name, ino, DirectoryEntry.FileTypeOf(mode));
        return (ino, inode);
    }

    public NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner)
    {
        uint type = mode & UnixFileMode.TypeMask;
        if (type == 0) mode |= UnixFileMode.Regular;
        else if (type is UnixFileMode.Directory or UnixFileMode.Symlink) throw new FsException(Errno.EINVAL, "mknod cannot make directories or symlinks");
        var bytes = NameBytes(name);
        lock (_gate)
        {
            using var tx = Begin();
            EnsureAbsent((uint)parent, bytes);
            var (ino, inode) = CreateNode(tx, (uint)parent, bytes, mode, rdev, owner);
            tx.Commit();
            AfterCommit();
            return Attributes(ino, Referenced(ino, inode));
        }
    }

    public (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner)
    {
        var bytes = NameBytes(name);
        lock (_gate)
        {
            using var tx = Begin();
            EnsureAbsent((uint)parent, bytes);
            var (ino, inode) = CreateNode(tx, (uint)parent, bytes, UnixFileMode.Regular | (mode & UnixFileMode.PermissionMask), 0, owner);
            tx.Commit();
            AfterCommit();
            return (Attributes(ino, Referenced(ino, inode)), OpenHandle(ino));
        }
    }

    public NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner)
    {
        var bytes = NameBytes(name);
        lock (_gate)
        {
            using var tx = Begin();
            uint p = (uint)parent;
            EnsureAbsent(p, bytes);
            if (ReadInode(p).LinksCount >= LinkMax) throw new FsException(Errno.EMLINK);
            uint ino = AllocateInode(tx, p, directory: true);
            var inode = NewInode(UnixFileMode.Directory | (mode & UnixFileMode.PermissionMask), owner, 2);
            InheritGroup(inode, p);
            uint block = MapOrAllocate(tx, ino, inode, 0, out _);
            InitDirectoryBlock(tx.Create(block, BlockKind.Directory), ino, p);
            inode.SizeLow = (uint)_geo.BlockSize;
            WriteInode(tx, ino, inode);
            ForgetIndex(ino);
            AddEntry(tx, p, bytes, ino, DirectoryEntry.TypeDirectory);
            AdjustLinks(tx, p, +1);
            tx.Commit();
            AfterCommit();
            return Attributes(ino, Referenced(ino, inode));
        }
    }

    public NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner)
    {
        var bytes = NameBytes(name);
        var targetBytes = Encoding.UTF8.GetBytes(target);
        if (targetBytes.Length == 0) throw new FsException(Errno.ENOENT, "empty symlink target");
        if (targetBytes.Length >= _geo.BlockSize) throw new FsException(Errno.ENAMETOOLONG, $"symlink target of {targetBytes.Length} bytes");
        lock (_gate)
        {
            using var tx = Begin();
            uint p = (uint)parent;
            EnsureAbsent(p, bytes);
            uint ino = AllocateInode(tx, p, directory: false);
            var inode = NewInode(UnixFileMode.Symlink | 0x1FF, owner, 1);
            InheritGroup(inode, p);
            if (targetBytes.Length < Inode.FastSymlinkMax)
                targetBytes.CopyTo(inode.BlockArea);
            else
            {
                uint block = MapOrAllocate(tx, ino, inode, 0, out _);
                targetBytes.CopyTo(tx.Create(block, BlockKind.Data), 0);
            }
            inode.SizeLow = (uint)targetBytes.Length;
            WriteInode(tx, ino, inode);
            AddEntry(tx, p, bytes, ino, DirectoryEntry.TypeSymlink);
            tx.Commit();
            AfterCommit();
            return Attributes(ino, Referenced(ino, inode));
        }
    }

    public string ReadLink(ulong node)
    {
        lock (_gate)
        {
            var inode = LiveInode(node);
            if (!inode.IsSymlink) throw new FsException(Errno.EINVAL, "not a symlink");
            long size = inode.Size;
            if (inode.IsFastSymlink(_geo.BlockSize))
            {
                if (size >= Inode.FastSymlinkMax) throw Corrupt("symlink", $"inode {node}: fast symlink of {size} bytes");
                return Encoding.UTF8.GetString(inode.BlockArea[..(int)size]);
            }
            if (size <= 0 || size >= _geo.BlockSize) throw Corrupt("symlink", $"inode {node}: size {size}");
            uint block = MapBlock((uint)node, inode, 0);
            if (block == 0) throw Corrupt("symlink", $"inode {node}: no data block");
            return Encoding.UTF8.GetString(_cache.Read(block).AsSpan(0, (int)size));
        }
    }

    public NodeAttributes Link(ulong node, ulong newParent, string newName)
    {
        var bytes = NameBytes(newName);
        lock (_gate)
        {
            uint ino = (uint)node;
            var inode = LiveInode(node);
            EnsureAbsent((uint)newParent, bytes);
            if (inode.IsDirectory) throw new FsException(Errno.EPERM, "hard links to directories are not allowed");
            if (inode.LinksCount >= LinkMax) throw new FsException(Errno.EMLINK);
            if (inode.LinksCount == 0) throw new FsException(Errno.ENOENT, "node was unlinked");
            using var tx = Begin();
            AddEntry(tx, (uint)newParent, bytes, ino, DirectoryEntry.FileTypeOf(inode.Mode));
            inode = AdjustLinks(tx, ino, +1);
            tx.Commit();
            AfterCommit();
            return Attributes(ino, Referenced(ino, inode));
        }
    }

    public void Unlink(ulong parent, string name)
    {
        var bytes = NameBytes(name);
        lock (_gate)
        {
            uint p = (uint)parent;
            var slot = Find(p, DirectoryInode(p), bytes) ?? throw new FsException(Errno.ENOENT);
            var target = EntryTarget(p, slot.Inode);
            if (target.IsDirectory) throw new FsException(Errno.EISDIR);
            using var tx = Begin();
            RemoveEntry(tx, p, bytes);
            DropLink(tx, slot.Inode);
            tx.Commit();
            AfterCommit();
        }
    }

    public void RemoveDirectory(ulong parent, string name)
    {
        var bytes = NameBytes(name);
        lock (_gate)
        {
            uint p = (uint)parent;
            var slot = Find(p, DirectoryInode(p), bytes) ?? throw new FsException(Errno.ENOENT);
            var target = EntryTarget(p, slot.Inode);
            if (!target.IsDirectory) throw new FsException(Errno.ENOTDIR);
            if (!IsEmptyDirectory(slot.Inode)) throw new FsException(Errno.ENOTEMPTY);
            using var tx = Begin();
            RemoveEntry(tx, p, bytes);
            RemoveDirectoryInode(tx, slot.Inode);
            AdjustLinks(tx, p, -1);
            tx.Commit();
            AfterCommit();
        }
    }

    private void RemoveDirectoryInode(Transaction tx, uint ino)
    {
        var inode = ReadInode(ino);
        inode.LinksCount = 0;
        var now = Timestamp.Now;
        SetTimes(inode, null, null, now);
        ForgetIndex(ino);
        if (IsPinned(ino))
        {
            // Still referenced: keep the inode (as an empty directory on the orphan list) but free its blocks now.
            TruncateBlocks(tx, ino, inode, 0);
            inode.SizeLow = 0;
            WriteInode(tx, ino, inode);
            AddOrphan(tx, ino);
        }
        else Evict(tx, ino, inode);
    }

    public void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None)
    {
        var src = NameBytes(name);
        var dst = NameBytes(newName);
        if ((flags & RenameFlags.Whiteout) != 0) throw new FsException(Errno.EINVAL, "RENAME_WHITEOUT is not supported");
        if ((flags & RenameFlags.Exchange) != 0 && (flags & RenameFlags.NoReplace) != 0) throw new FsException(Errno.EINVAL);
        lock (_gate)
        {
            uint p = (uint)parent, np = (uint)newParent;
            bool exchange = (flags & RenameFlags.Exchange) != 0;
            var srcSlot = Find(p, DirectoryInode(p), src) ?? throw new FsException(Errno.ENOENT);
            var srcInode = EntryTarget(p, srcSlot.Inode);
            var npInode = DirectoryInode(np);
            if (npInode.LinksCount == 0) throw new FsException(Errno.ENOENT, "target directory was removed");
            var dstSlot = Find(np, npInode, dst);
            Inode? dstInode = dstSlot is { } ds ? EntryTarget(np, ds.Inode) : null;
            // Linux's order of checks (do_renameat2, then vfs_rename), so errnos match.
            if ((flags & RenameFlags.NoReplace) != 0 && dstSlot != null) throw new FsException(Errno.EEXIST);
            if (exchange && dstSlot == null) throw new FsException(Errno.ENOENT);
            if (srcInode.IsDirectory && IsAncestorOrSelf(srcSlot.Inode, np))
                throw new FsException(Errno.EINVAL, "cannot move a directory into its own subtree");
            if (dstSlot is { } t && dstInode!.IsDirectory && IsAncestorOrSelf(t.Inode, p))
                throw new FsException(exchange ? Errno.EINVAL : Errno.ENOTEMPTY, "rename target is an ancestor of the source");
            if (dstSlot is { } same && same.Inode == srcSlot.Inode) return;
            if (exchange)
            {
                var d = dstSlot!.Value;
                using var xtx = Begin();
                ReplaceEntry(xtx, p, src, d.Inode, DirectoryEntry.FileTypeOf(dstInode!.Mode));
                ReplaceEntry(xtx, np, dst, srcSlot.Inode, DirectoryEntry.FileTypeOf(srcInode.Mode));
                if (p != np)
                {
                    if (srcInode.IsDirectory) { SetParent(xtx, srcSlot.Inode, np); AdjustLinks(xtx, p, -1); AdjustLinks(xtx, np, +1); }
                    if (dstInode.IsDirectory) { SetParent(xtx, d.Inode, p); AdjustLinks(xtx, np, -1); AdjustLinks(xtx, p, +1); }
                }
                TouchCtime(xtx, srcSlot.Inode);
                TouchCtime(xtx, d.Inode);
                xtx.Commit();
                AfterCommit();
                return;
            }
            if (dstSlot is { } existing)
            {
                if (srcInode.IsDirectory && !dstInode!.IsDirectory) throw new FsException(Errno.ENOTDIR);
                if (!srcInode.IsDirectory && dstInode!.IsDirectory) throw new FsException(Errno.EISDIR);
                if (dstInode!.IsDirectory && !IsEmptyDirectory(existing.Inode)) throw new FsException(Errno.ENOTEMPTY);
            }
            if (srcInode.IsDirectory && p != np && dstSlot == null && ReadInode(np).LinksCount >= LinkMax)
                throw new FsException(Errno.EMLINK);
            using var tx = Begin();
            byte type = DirectoryEntry.FileTypeOf(srcInode.Mode);
            if (dstSlot is { } replaced)
            {
                ReplaceEntry(tx, np, dst, srcSlot.Inode, type);
                if (dstInode!.IsDirectory)
                {
                    RemoveDirectoryInode(tx, replaced.Inode);
                    AdjustLinks(tx, np, -1);
                }
                else DropLink(tx, replaced.Inode);
            }
            else AddEntry(tx, np, dst, srcSlot.Inode, type);
            RemoveEntry(tx, p, src);
            if (srcInode.IsDirectory && p != np)
            {
                SetParent(tx, srcSlot.Inode, np);
                AdjustLinks(tx, p, -1);
                AdjustLinks(tx, np, +1);
            }
            TouchCtime(tx, srcSlot.Inode);
            tx.Commit();
            AfterCommit();
        }
    }

    /// <summary>Whether <paramref name="dir"/> is <paramref name="start"/> or one of its ancestors (walking "..").</summary>
    private bool IsAncestorOrSelf(uint dir, uint start)
    {
        uint cur = start;
        for (long steps = 0; ; steps++)
        {
            if (cur == dir) return true;
            if (cur == RootInode) return false;
            uint parent = ParentOf(cur);
            if (parent == cur || steps > _sb.InodesCount) throw Corrupt("directory tree", $"'..' chain from inode {start} loops at inode {cur}");
            cur = parent;
        }
    }

    private void TouchCtime(Transaction tx, uint ino)
    {
        var inode = ReadInode(ino);
        SetTimes(inode, null, null, Timestamp.Now);
        WriteInode(tx, ino, inode);
    }

    private Inode AdjustLinks(Transaction tx, uint ino, int delta)
    {
        var inode = ReadInode(ino);
        int links = inode.LinksCount + delta;
        inode.LinksCount = (ushort)Math.Clamp(links, 0, ushort.MaxValue);
        SetTimes(inode, null, null, Timestamp.Now);
        WriteInode(tx, ino, inode);
        return inode;
    }

    /// <summary>One name fewer: at zero links the node goes (or waits on the orphan list while open).</summary>
    private void DropLink(Transaction tx, uint ino)
    {
        var inode = ReadInode(ino);
        if (inode.LinksCount > 0) inode.LinksCount--;
        SetTimes(inode, null, null, Timestamp.Now);
        if (inode.LinksCount > 0) { WriteInode(tx, ino, inode); return; }
        if (IsPinned(ino)) { WriteInode(tx, ino, inode); AddOrphan(tx, ino); }
        else Evict(tx, ino, inode);
    }

    /// <summary>Frees a node with no links and no handles: its blocks, its xattr block reference, its inode.</summary>
    private void Evict(Transaction tx, uint ino, Inode inode)
    {
        if (HasBlockMap(inode)) TruncateBlocks(tx, ino, inode, 0);
        ReleaseAttributeBlock(tx, ino, inode);
        inode.LinksCount = 0;
        inode.Size = 0;
        inode.Dtime = NowSeconds();
        WriteInode(tx, ino, inode);
        FreeInodeBit(tx, ino, inode.IsDirectory);
        ForgetIndex(ino);
        _allocationHint.Remove(ino);
    }

    /// <summary>
    /// Orphan → the orphan whose i_dtime points at it (0: s_last_orphan does), so removing an orphan is O(1): the
    /// kernel forgets unlinked files in batches, oldest first, which is the far end of the chain. Rebuilt from the
    /// chain when null (after mount or a rolled-back transaction).
    /// </summary>
    private Dictionary<uint, uint>? _orphanPrevious;

    private Dictionary<uint, uint> OrphanPrevious()
    {
        if (_orphanPrevious != null) return _orphanPrevious;
        var map = new Dictionary<uint, uint>();
        uint prev = 0, cur = _sb.LastOrphan;
        for (long steps = 0; cur != 0 && steps <= _sb.InodesCount; steps++)
        {
            if (cur < 1 || cur > _sb.InodesCount || !map.TryAdd(cur, prev)) break;
            prev = cur;
            cur = ReadInode(cur).Dtime;
        }
        return _orphanPrevious = map;
    }

    private void AddOrphan(Transaction tx, uint ino)
    {
        var map = OrphanPrevious();
        var inode = ReadInode(ino);
        var sb = SuperForWrite(tx);
        uint head = sb.LastOrphan;
        inode.Dtime = head;
        sb.LastOrphan = ino;
        WriteInode(tx, ino, inode);
        map[ino] = 0;
        if (head != 0) map[head] = ino;
    }

    /// <summary>Unlinks <paramref name="ino"/> from the orphan chain (s_last_orphan → i_dtime → ...).</summary>
    private void RemoveOrphan(Transaction tx, uint ino, Inode inode)
    {
        uint next = inode.Dtime;
        var map = OrphanPrevious();
        if (map.TryGetValue(ino, out uint previous))
        {
            if (previous == 0 && _sb.LastOrphan == ino)
            {
                SuperForWrite(tx).LastOrphan = next;
                Relink();
                return;
            }
            if (previous != 0)
            {
                var p = ReadInode(previous);
                if (p.Dtime == ino)
                {
                    p.Dtime = next;
                    WriteInode(tx, previous, p);
                    Relink();
                    return;
                }
            }
        }
        // The map disagrees with the chain (a corrupt chain): walk it, and rebuild the map next time.
        _orphanPrevious = null;
        if (_sb.LastOrphan == ino) { SuperForWrite(tx).LastOrphan = next; return; }
        uint cur = _sb.LastOrphan;
        for (long steps = 0; cur != 0 && steps <= _sb.InodesCount; steps++)
        {
            if (cur < 1 || cur > _sb.InodesCount) break;
            var c = ReadInode(cur);
            if (c.Dtime == ino) { c.Dtime = next; WriteInode(tx, cur, c); return; }
            cur = c.Dtime;
        }
        _log.WriteLine($"{_image}: ext2: orphan inode {ino} was not on the orphan list");

        void Relink()
        {
            map.Remove(ino);
            if (next != 0 && map.ContainsKey(next)) map[next] = previous;
        }
    }

    /// <summary>Mount-time cleanup of inodes left on the orphan list by a crash (what e2fsck does first).</summary>
    private void ProcessOrphanList()
    {
        if (_sb.LastOrphan == 0) return;
        using var tx = Begin();
        var seen = new HashSet<uint>();
        uint cur = _sb.LastOrphan;
        while (cur != 0)
        {
            if (cur < _sb.FirstInode || cur > _sb.InodesCount || !seen.Add(cur))
            {
                _log.WriteLine($"{_image}: ext2: corrupt orphan list: bad or repeated inode {cur}; list dropped");
                break;
            }
            var inode = ReadInode(cur);
            uint next = inode.Dtime;
            inode.Dtime = 0;
            if (inode.LinksCount == 0 && inode.Mode != 0 && IsInodeInUse(cur)) Evict(tx, cur, inode);
            else WriteInode(tx, cur, inode);
            cur = next;
        }
        SuperForWrite(tx).LastOrphan = 0;
        _orphanPrevious = null;
        tx.Commit();
    }

    private void ReleaseAllOrphans()
    {
        foreach (uint ino in _openCounts.Keys.Union(_referenced).ToList())
        {
            var inode = ReadInode(ino);
            if (inode.LinksCount != 0) continue;
            using var tx = Begin();
            RemoveOrphan(tx, ino, inode);
            Evict(tx, ino, ReadInode(ino));
            tx.Commit();
        }
        _openCounts.Clear();
        _handles.Clear();
        _referenced.Clear();
    }
}
