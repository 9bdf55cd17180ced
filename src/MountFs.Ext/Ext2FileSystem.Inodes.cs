using MountFs.Vfs;

namespace MountFs.Ext;

// Inode table access and the inode ↔ NodeAttributes mapping.
public sealed partial class Ext2FileSystem
{
    private (uint Block, int Offset) InodeLocation(uint ino)
    {
        if (ino < 1 || ino > _sb.InodesCount)
            throw Corrupt("inode number", $"inode {ino} outside [1, {_sb.InodesCount}]");
        var (g, blockInTable, offset) = _geo.LocateInode(ino);
        return (_groups[g].InodeTable + blockInTable, offset);
    }

    /// <summary>A copy of inode <paramref name="ino"/> as stored.</summary>
    internal Inode ReadInode(uint ino)
    {
        var (block, offset) = InodeLocation(ino);
        return Inode.Read(_cache.Read(block).AsSpan(offset, _geo.InodeSize));
    }

    private void WriteInode(Transaction tx, uint ino, Inode inode)
    {
        var (block, offset) = InodeLocation(ino);
        inode.WriteTo(tx.Modify(block, BlockKind.InodeTable).AsSpan(offset, _geo.InodeSize));
    }

    /// <summary>Reads a live inode for a node id handed out earlier; ENOENT/ESTALE-like EUCLEAN when it is not in use.</summary>
    private Inode LiveInode(ulong node)
    {
        if (node < 1 || node > _sb.InodesCount) throw new FsException(Errno.ENOENT, $"{_image}: no inode {node}");
        uint ino = (uint)node;
        var inode = ReadInode(ino);
        if (inode.Mode == 0 || inode.LinksCount == 0 && !IsPinned(ino) && ino != RootInode)
            throw new FsException(Errno.ENOENT, $"{_image}: inode {ino} is not in use");
        return inode;
    }

    private Inode NewInode(uint mode, Credentials owner, ushort links)
    {
        var inode = new Inode(_geo.InodeSize)
        {
            Mode = (ushort)mode,
            Uid = owner.Uid,
            Gid = owner.Gid,
            LinksCount = links,
            Generation = (uint)Random.Shared.Next(),
        };
        if (_geo.InodeSize > Inode.GoodOldSize)
            inode.ExtraSize = (ushort)Math.Min(32, _geo.InodeSize - Inode.GoodOldSize);
        var now = Timestamp.Now;
        SetTimes(inode, now, now, now);
        var (s, e) = Inode.EncodeTime(now.Seconds, now.Nanoseconds);
        inode.CrtimeSeconds = s;
        inode.CrtimeExtra = e;
        return inode;
    }

    private static void SetTimes(Inode inode, Timestamp? atime, Timestamp? mtime, Timestamp? ctime)
    {
        if (atime is { } a) { var (s, e) = Inode.EncodeTime(a.Seconds, a.Nanoseconds); inode.AtimeSeconds = s; inode.AtimeExtra = e; }
        if (mtime is { } m) { var (s, e) = Inode.EncodeTime(m.Seconds, m.Nanoseconds); inode.MtimeSeconds = s; inode.MtimeExtra = e; }
        if (ctime is { } c) { var (s, e) = Inode.EncodeTime(c.Seconds, c.Nanoseconds); inode.CtimeSeconds = s; inode.CtimeExtra = e; }
    }

    private static Timestamp Time(uint seconds, uint extra, bool hasExtra)
    {
        var (s, ns) = Inode.DecodeTime(seconds, extra, hasExtra);
        return new Timestamp(s, ns);
    }

    private NodeAttributes Attributes(uint ino, Inode inode)
    {
        bool extra = inode.HasTimeExtra;
        uint type = inode.FileType;
        uint rdev = type is 0x2000 or 0x6000 ? inode.DeviceNumber : 0;
        return new NodeAttributes(ino, inode.Mode, inode.LinksCount, inode.Uid, inode.Gid, inode.Size, (long)inode.Blocks512,
            Time(inode.AtimeSeconds, inode.AtimeExtra, extra),
            Time(inode.MtimeSeconds, inode.MtimeExtra, extra),
            Time(inode.CtimeSeconds, inode.CtimeExtra, extra),
            rdev, _geo.BlockSize);
    }

    /// <summary>Does this inode own data blocks through i_block (as opposed to a fast symlink or a device number)?</summary>
    private bool HasBlockMap(Inode inode) =>
        inode.IsRegular || inode.IsDirectory || inode.IsSymlink && !inode.IsFastSymlink(_geo.BlockSize);

    public NodeAttributes GetAttributes(ulong node)
    {
        lock (_gate) return Attributes((uint)node, LiveInode(node));
    }

    public void Access(ulong node, AccessMode mode, Credentials who)
    {
        lock (_gate)
        {
            var inode = LiveInode(node);
            if (mode == AccessMode.Exists) return;
            uint perm = inode.Mode & 0x1FFu;
            if (who.Uid == 0)
            {
                if ((mode & AccessMode.Execute) != 0 && !inode.IsDirectory && (perm & 0x49) == 0)
                    throw new FsException(Errno.EACCES);
                return;
            }
            uint granted = who.Uid == inode.Uid ? perm >> 6 & 7 : who.Gid == inode.Gid ? perm >> 3 & 7 : perm & 7;
            if (((uint)mode & ~granted & 7) != 0) throw new FsException(Errno.EACCES);
        }
    }
}
