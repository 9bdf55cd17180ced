using System.Numerics;

namespace MountFs.Ext;

// Block and inode allocation over the group bitmaps.
public sealed partial class Ext2FileSystem
{
    /// <summary>
    /// Allocates one block, preferring <paramref name="goal"/> and the blocks after it in its group (keeps a file's
    /// blocks together), then the following groups. ENOSPC when none is free.
    /// </summary>
    private uint AllocateBlock(Transaction tx, uint goal)
    {
        int groups = _geo.GroupCount;
        if (goal < _sb.FirstDataBlock || goal >= _sb.BlocksCount) goal = _sb.FirstDataBlock;
        int startGroup = _geo.GroupOfBlock(goal);
        for (int i = 0; i <= groups; i++)
        {
            int g = (startGroup + i) % groups;
            if (_groups[g].FreeBlocksCount == 0) continue;
            int count = (int)_geo.GroupBlockCount(g);
            int from = i == 0 ? (int)(goal - _geo.GroupFirstBlock(g)) : 0;
            var bitmap = _cache.Read(_groups[g].BlockBitmap);
            int bit = FindClearBit(bitmap, from, count);
            if (bit < 0 && from > 0) bit = FindClearBit(bitmap, 0, from);
            if (bit < 0)
            {
                _log.WriteLine($"{_image}: ext2: group {g} descriptor claims {_groups[g].FreeBlocksCount} free blocks but its bitmap (block {_groups[g].BlockBitmap}) has none");
                continue;
            }
            bitmap = tx.Modify(_groups[g].BlockBitmap, BlockKind.Bitmap);
            bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            Group(tx, g).FreeBlocksCount--;
            uint block = _geo.GroupFirstBlock(g) + (uint)bit;
            tx.Allocated(block);
            return block;
        }
        throw new Vfs.FsException(Vfs.Errno.ENOSPC, $"{_image}: no free blocks");
    }

    private void FreeBlock(Transaction tx, uint block, uint owner)
    {
        if (block < _sb.FirstDataBlock || block >= _sb.BlocksCount)
        {
            _log.WriteLine($"{_image}: ext2: corrupt block map: inode {owner} frees block {block} outside the file system; ignored");
            return;
        }
        int g = _geo.GroupOfBlock(block);
        int bit = (int)(block - _geo.GroupFirstBlock(g));
        var bitmap = _cache.Read(_groups[g].BlockBitmap);
        if ((bitmap[bit >> 3] & (1 << (bit & 7))) == 0)
        {
            _log.WriteLine($"{_image}: ext2: corrupt block bitmap: inode {owner} frees block {block} already free; ignored");
            return;
        }
        bitmap = tx.Modify(_groups[g].BlockBitmap, BlockKind.Bitmap);
        bitmap[bit >> 3] &= (byte)~(1 << (bit & 7));
        Group(tx, g).FreeBlocksCount++;
        tx.Freed(block);
    }

    /// <summary>
    /// Allocates an inode. Directories go Orlov-lite: top-level ones to the group with the fewest directories among
    /// those with at least average free inodes (spreads the tree), deeper ones near their parent while its group is
    /// not poorer than average; other nodes go near their parent's group.
    /// </summary>
    private uint AllocateInode(Transaction tx, uint parent, bool directory)
    {
        int groups = _geo.GroupCount;
        int start = _geo.GroupOfInode(parent);
        if (directory && groups > 1)
        {
            long totalFreeInodes = 0, totalFreeBlocks = 0;
            foreach (var gd in _groups) { totalFreeInodes += gd.FreeInodesCount; totalFreeBlocks += gd.FreeBlocksCount; }
            long avg = totalFreeInodes / groups;
            // Orlov-lite: top-level directories spread out; deeper ones stay with their parent while its group is not
            // poorer than average, so a subtree's inodes and blocks stay close.
            var home = _groups[start];
            bool stayHome = parent != RootInode && home.FreeInodesCount >= avg && home.FreeBlocksCount >= totalFreeBlocks / groups;
            if (stayHome) avg = long.MaxValue;
            int best = -1;
            for (int g = 0; g < groups; g++)
            {
                var gd = _groups[g];
                if (gd.FreeInodesCount == 0 || gd.FreeInodesCount < avg) continue;
                // Fewest directories first (spreads the tree), then most free blocks (room for their files).
                if (best < 0 || gd.UsedDirsCount < _groups[best].UsedDirsCount ||
                    gd.UsedDirsCount == _groups[best].UsedDirsCount && gd.FreeBlocksCount > _groups[best].FreeBlocksCount)
                    best = g;
            }
            if (best >= 0) start = best;
        }
        for (int i = 0; i < groups; i++)
        {
            int g = (start + i) % groups;
            if (_groups[g].FreeInodesCount == 0) continue;
            int floor = g == 0 ? (int)_sb.FirstInode - 1 : 0; // group 0 starts after the reserved inodes
            int from = Math.Max(floor, InodeSearchStart(g));
            var bitmap = _cache.Read(_groups[g].InodeBitmap);
            int bit = FindClearBit(bitmap, from, (int)_geo.InodesPerGroup);
            if (bit < 0 && from > floor) bit = FindClearBit(bitmap, floor, from);
            if (bit < 0)
            {
                _log.WriteLine($"{_image}: ext2: group {g} descriptor claims {_groups[g].FreeInodesCount} free inodes but its bitmap has none");
                continue;
            }
            bitmap = tx.Modify(_groups[g].InodeBitmap, BlockKind.Bitmap);
            bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            ref var d = ref Group(tx, g);
            d.FreeInodesCount--;
            if (directory) d.UsedDirsCount++;
            _inodeSearchStart![g] = bit + 1;
            return (uint)(g * _geo.InodesPerGroup + bit + 1);
        }
        throw new Vfs.FsException(Vfs.Errno.ENOSPC, $"{_image}: no free inodes");
    }

    private void FreeInodeBit(Transaction tx, uint ino, bool directory)
    {
        int g = _geo.GroupOfInode(ino);
        int bit = (int)((ino - 1) % _geo.InodesPerGroup);
        var bitmap = _cache.Read(_groups[g].InodeBitmap);
        if ((bitmap[bit >> 3] & (1 << (bit & 7))) == 0)
        {
            _log.WriteLine($"{_image}: ext2: corrupt inode bitmap: inode {ino} freed but already free; ignored");
            return;
        }
        bitmap = tx.Modify(_groups[g].InodeBitmap, BlockKind.Bitmap);
        bitmap[bit >> 3] &= (byte)~(1 << (bit & 7));
        if (_inodeSearchStart != null && bit < _inodeSearchStart[g]) _inodeSearchStart[g] = bit;
        ref var d = ref Group(tx, g);
        d.FreeInodesCount++;
        if (directory && d.UsedDirsCount > 0) d.UsedDirsCount--;
    }

    /// <summary>Per group, a bit below which every inode is known to be in use: the inode search starts there
    /// instead of rescanning the used prefix of the bitmap (only a hint; a rolled-back allocation can leave it too high,
    /// which the wrap-around search covers).</summary>
    private int[]? _inodeSearchStart;

    private int InodeSearchStart(int g)
    {
        _inodeSearchStart ??= new int[_geo.GroupCount];
        return _inodeSearchStart[g];
    }

    private bool IsInodeInUse(uint ino)
    {
        int g = _geo.GroupOfInode(ino);
        int bit = (int)((ino - 1) % _geo.InodesPerGroup);
        return (_cache.Read(_groups[g].InodeBitmap)[bit >> 3] & (1 << (bit & 7))) != 0;
    }

    /// <summary>First clear bit in [from, to) of a bitmap, or -1; skips full bytes and words quickly.</summary>
    internal static int FindClearBit(ReadOnlySpan<byte> bitmap, int from, int to)
    {
        int i = from;
        while (i < to)
        {
            if ((i & 63) == 0 && i + 64 <= to)
            {
                ulong word = BitConverter.ToUInt64(bitmap.Slice(i >> 3, 8));
                if (word == ulong.MaxValue) { i += 64; continue; }
                return i + BitOperations.TrailingZeroCount(~word);
            }
            if ((bitmap[i >> 3] & (1 << (i & 7))) == 0) return i;
            i++;
        }
        return -1;
    }
}
