namespace MountFs.Ext.Checking;

/// <summary>
/// The orphan list (inodes unlinked or being truncated while open when the system went down), chained from
/// s_last_orphan through i_dtime: an orphan with no links is deleted, one with links is truncated to i_size, and the
/// list head is cleared, as e2fsck does before its passes. A file system marked with errors has its list dropped
/// unprocessed (the full check finds what it held).
/// </summary>
internal static class OrphanPass
{
    public static void Run(CheckSession s)
    {
        var sb = s.Sb;
        uint ino = sb.LastOrphan;
        if (ino == 0) return;
        s.Fix($"Orphan inode list starts at inode {ino}; processing it.", preenSafe: true);
        sb.LastOrphan = 0;
        if ((sb.State & SuperBlock.StateErrors) != 0) return;
        var seen = new HashSet<uint>();
        var walker = new BlockTreeWalker(s.Disk, s.Geo.FirstDataBlock);
        while (ino != 0)
        {
            if (ino < sb.FirstInode || ino > s.Geo.InodesCount)
            {
                s.Fix($"Illegal inode {ino} in the orphan inode list; stopping there.", preenSafe: true);
                return;
            }
            if (!seen.Add(ino))
            {
                s.Fix($"The orphan inode list loops at inode {ino}; stopping there.", preenSafe: true);
                return;
            }
            var inode = s.ReadInode(ino);
            uint next = inode.Dtime;
            bool delete = inode.LinksCount == 0;
            s.Say($"{(delete ? "Clearing" : "Truncating")} orphaned inode {ino} (mode 0{Convert.ToString(inode.Mode, 8)}, size {inode.Size})");
            if (inode.IsRegular || inode.IsDirectory || (inode.IsSymlink && inode.Size >= Inode.FastSymlinkMax))
                Truncate(s, walker, inode, delete ? 0 : (inode.Size + s.BlockSize - 1) / s.BlockSize);
            if (delete)
            {
                inode.Dtime = s.Now;
                inode.Size = 0;
                inode.FileAcl = 0;
                inode.Blocks512 = 0;
            }
            else
            {
                inode.Dtime = 0;
            }
            s.WriteInode(ino, inode);
            ino = next;
        }
    }

    /// <summary>Clears every pointer at or past file block <paramref name="keep"/> and recounts i_blocks for what stays.</summary>
    private static void Truncate(CheckSession s, BlockTreeWalker walker, Inode inode, long keep)
    {
        walker.Walk(inode, p =>
        {
            if (p.Block < s.Geo.FirstDataBlock || p.Block >= s.Geo.BlocksCount) return p.Block;
            return p.Logical >= keep ? 0 : p.Block;
        });
        long kept = 0;
        walker.Walk(inode, p =>
        {
            kept++;
            return p.Block;
        });
        inode.Blocks512 = (ulong)(kept + (inode.FileAcl != 0 ? 1 : 0)) * (ulong)(s.BlockSize / 512);
    }
}
