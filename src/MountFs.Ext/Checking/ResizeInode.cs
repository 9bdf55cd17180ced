using System.Buffers.Binary;

namespace MountFs.Ext.Checking;

/// <summary>
/// The resize inode (inode 7, resize_inode): its double-indirect block lists each reserved GDT block after the
/// primary descriptor table, and each of those (used as an indirect block) lists its copies in the backup groups.
/// Those blocks are metadata; the inode owns only the double-indirect block. Anything else in the tree (a stray
/// pointer, a missing copy, a wrong i_blocks) makes the inode invalid, and it is rebuilt as mke2fs lays it out.
/// </summary>
internal static class ResizeInode
{
    private const uint Number = 7;

    public static void Check(CheckSession s)
    {
        if (!s.Sb.HasCompat(CompatFeatures.ResizeInode)) return;
        var inode = s.ReadInode(Number);
        string? problem = Problem(s, inode);
        if (problem == null)
        {
            uint dind = inode.Block(Inode.DoubleIndirect);
            if (dind != 0) s.BlockUsed[(int)dind] = true;
            return;
        }
        s.Fix($"Resize inode not valid ({problem}); recreating it.");
        Recreate(s);
    }

    private static List<uint> BackupGroups(Geometry geo)
    {
        var groups = new List<uint>();
        for (int g = 1; g < geo.GroupCount; g++) if (geo.HasSuperBlock(g)) groups.Add((uint)g);
        return groups;
    }

    private static string? Problem(CheckSession s, Inode inode)
    {
        var geo = s.Geo;
        int rsv = geo.ReservedGdtBlocks;
        uint dind = inode.Block(Inode.DoubleIndirect);
        for (int i = 0; i < Inode.BlockPointers; i++)
            if (i != Inode.DoubleIndirect && inode.Block(i) != 0) return $"i_block[{i}] is set";
        if (dind == 0) return "no double-indirect block";
        if (inode.LinksCount == 0 || !inode.IsRegular) return "not a regular file in use";
        ulong size = (ulong)inode.SizeHigh << 32 | inode.SizeLow;
        if (size > (ulong)(geo.MaxFileBlocks * geo.BlockSize)) return $"i_size {size} too large";
        if (dind < geo.FirstDataBlock || dind >= geo.BlocksCount || s.Metadata[(int)dind]) return $"double-indirect block {dind} out of range";
        if (s.BlockUsed[(int)dind]) return $"double-indirect block {dind} is used by another file";
        var backups = BackupGroups(geo);
        if (backups.Count > geo.PointersPerBlock) return "more backup groups than one block can list";
        var expected = new uint[geo.PointersPerBlock];
        uint first = geo.FirstDataBlock + 1 + (uint)geo.GdtBlocks;
        for (int i = 0; i < rsv; i++) expected[(geo.GdtBlocks + i) % geo.PointersPerBlock] = first + (uint)i;
        var dindData = s.Disk.Read(dind);
        for (int j = 0; j < geo.PointersPerBlock; j++)
            if (BinaryPrimitives.ReadUInt32LittleEndian(dindData.AsSpan(j * 4)) != expected[j]) return $"double-indirect entry {j} is wrong";
        for (int i = 0; i < rsv; i++)
        {
            uint pblk = first + (uint)i;
            var ind = s.Disk.Read(pblk);
            for (int j = 0; j < geo.PointersPerBlock; j++)
            {
                uint want = j < backups.Count ? pblk + backups[j] * geo.BlocksPerGroup : 0;
                if (BinaryPrimitives.ReadUInt32LittleEndian(ind.AsSpan(j * 4)) != want) return $"reserved GDT block {pblk} entry {j} is wrong";
            }
        }
        if (inode.FileAcl != 0) return "it has an extended attribute block";
        if (rsv > 0 && backups.Count > 0)
        {
            // The highest file block mapped: the last backup copy under the last-placed reserved GDT block.
            long per = geo.PointersPerBlock, lastIndex = 0;
            for (int i = 0; i < rsv; i++) lastIndex = Math.Max(lastIndex, (geo.GdtBlocks + i) % per);
            long last = Inode.DirectBlocks + per + lastIndex * per + backups.Count - 1;
            if ((long)Math.Min(size, long.MaxValue) < last * geo.BlockSize) return $"i_size {size} ends before its last block";
        }
        ulong blocks = (ulong)(1 + rsv * (1 + backups.Count)) * (ulong)(geo.BlockSize / 512);
        if (inode.Blocks512 != blocks) return $"i_blocks is {inode.Blocks512}, should be {blocks}";
        return null;
    }

    private static void Recreate(CheckSession s)
    {
        var geo = s.Geo;
        int rsv = geo.ReservedGdtBlocks;
        uint dind = s.AllocateBlock();
        if (dind == 0)
        {
            s.Unfixable("No free block to rebuild the resize inode.");
            return;
        }
        var backups = BackupGroups(geo);
        var dindData = s.Disk.Overwrite(dind);
        uint first = geo.FirstDataBlock + 1 + (uint)geo.GdtBlocks;
        for (int i = 0; i < rsv; i++)
        {
            uint pblk = first + (uint)i;
            BinaryPrimitives.WriteUInt32LittleEndian(dindData.AsSpan((geo.GdtBlocks + i) % geo.PointersPerBlock * 4), pblk);
            var ind = s.Disk.Overwrite(pblk);
            for (int j = 0; j < backups.Count && j < geo.PointersPerBlock; j++)
                BinaryPrimitives.WriteUInt32LittleEndian(ind.AsSpan(j * 4), pblk + backups[j] * geo.BlocksPerGroup);
        }
        var inode = s.NewInode(0x8180);
        inode.LinksCount = 1;
        inode.SetBlock(Inode.DoubleIndirect, dind);
        inode.Blocks512 = (ulong)(1 + rsv * (1 + backups.Count)) * (ulong)(geo.BlockSize / 512);
        long per = geo.PointersPerBlock;
        inode.Size = (per * per + per + Inode.DirectBlocks) * geo.BlockSize;
        s.WriteInode(Number, inode);
    }
}
