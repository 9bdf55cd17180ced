namespace MountFs.Ext.Checking;

/// <summary>
/// Passes 1B-1D: blocks claimed by more than one inode. As e2fsck's default answer does, each sharing file but the
/// last gets private copies of the shared blocks (an indirect block is copied before what it points at is looked at,
/// so shared subtrees are untangled level by level); the last claimant keeps the originals.
/// </summary>
internal static class DuplicateBlockPass
{
    public static void Run(CheckSession s)
    {
        if (s.DuplicateClaims.Count == 0) return;
        s.Say($"Running additional passes to resolve {s.DuplicateClaims.Count} blocks claimed by more than one inode...");
        var walker = new BlockTreeWalker(s.Disk, s.Geo.FirstDataBlock);
        for (uint ino = 1; ino <= s.Geo.InodesCount && s.DuplicateClaims.Count > 0; ino++)
        {
            if (!s.InodeUsed[(int)ino] || ino == 7) continue;
            var inode = s.ReadInode(ino);
            if (!Walkable(s, ino, inode)) continue;
            int shared = 0;
            walker.Walk(inode, p =>
            {
                if (IsShared(s, p.Block)) shared++;
                return p.Block;
            });
            if (shared == 0) continue;
            s.Fix($"File inode {ino} has {shared} multiply-claimed block(s); cloning them.");
            bool full = false;
            walker.Walk(inode, p =>
            {
                if (!IsShared(s, p.Block)) return p.Block;
                uint copy = s.AllocateBlock();
                if (copy == 0)
                {
                    full = true;
                    walker.Stop = true;
                    return p.Block;
                }
                s.Disk.Read(p.Block).CopyTo(s.Disk.Overwrite(copy), 0);
                Release(s, p.Block);
                // Pass 2 must work on the directory's own copy, not on the block it now leaves to the other file.
                if (p.Level == PointerLevel.Data && s.Directories.TryGetValue(ino, out var info) && p.Logical < info.Blocks.Count && info.Blocks[(int)p.Logical] == p.Block)
                    info.Blocks[(int)p.Logical] = copy;
                return copy;
            });
            if (walker.InodeChanged) s.WriteInode(ino, inode);
            if (full)
            {
                s.Unfixable($"No free block left to clone the shared blocks of inode {ino}.");
                return;
            }
        }
    }

    private static bool IsShared(CheckSession s, uint block) => s.DuplicateClaims.ContainsKey(block);

    private static void Release(CheckSession s, uint block)
    {
        int n = s.DuplicateClaims[block] - 1;
        if (n <= 1) s.DuplicateClaims.Remove(block);
        else s.DuplicateClaims[block] = n;
    }

    /// <summary>The inodes pass 1 walked: reserved ones with blocks, directories, regular files and slow symlinks.</summary>
    private static bool Walkable(CheckSession s, uint ino, Inode inode)
    {
        if (ino < s.Sb.FirstInode && ino != 2) return ino == 1 || inode.IsRegular || inode.IsDirectory;
        return inode.IsRegular || inode.IsDirectory || (inode.IsSymlink && inode.Size >= Inode.FastSymlinkMax);
    }
}
