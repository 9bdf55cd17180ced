using MountFs.Vfs;
using System.Buffers.Binary;

namespace MountFs.Ext;

// The ext2 block map: i_block[0..11] direct, [12] single, [13] double, [14] triple indirect; 0 is a hole.
public sealed partial class Ext2FileSystem
{
    /// <summary>Last block allocated per inode: the goal for its next block, so files stay contiguous.</summary>
    private readonly Dictionary<uint, uint> _allocationHint = [];

    /// <summary>Splits a file block number into the i_block slot and the index at each indirect level.</summary>
    private int MapPath(long fileBlock, Span<int> path, uint ino)
    {
        long p = _geo.PointersPerBlock;
        if (fileBlock < 0) throw new FsException(Errno.EINVAL);
        if (fileBlock < Inode.DirectBlocks) { path[0] = (int)fileBlock; return 1; }
        fileBlock -= Inode.DirectBlocks;
        if (fileBlock < p) { path[0] = Inode.SingleIndirect; path[1] = (int)fileBlock; return 2; }
        fileBlock -= p;
        if (fileBlock < p * p) { path[0] = Inode.DoubleIndirect; path[1] = (int)(fileBlock / p); path[2] = (int)(fileBlock % p); return 3; }
        fileBlock -= p * p;
        if (fileBlock < p * p * p)
        {
            path[0] = Inode.TripleIndirect;
            path[1] = (int)(fileBlock / (p * p));
            path[2] = (int)(fileBlock / p % p);
            path[3] = (int)(fileBlock % p);
            return 4;
        }
        throw new FsException(Errno.EFBIG, $"{_image}: file block {fileBlock} of inode {ino} beyond the triple-indirect range");
    }

    /// <summary>The physical block holding file block <paramref name="fileBlock"/>, or 0 for a hole.</summary>
    private uint MapBlock(uint ino, Inode inode, long fileBlock) => WalkMap(ino, inode, fileBlock, quiet: false);

    /// <summary>
    /// <see cref="MapBlock"/> for a block nobody asked to read (a read-around neighbour): 0 for a hole, a block past
    /// the map's range or any pointer outside the data area, with no error and no log line, so damage next to a
    /// read never fails it (the neighbour's own read reports the damage). An unreadable indirect block gives 0 too.
    /// </summary>
    private uint PeekBlock(Inode inode, long fileBlock)
    {
        if (fileBlock < 0 || fileBlock >= _geo.MaxFileBlocks) return 0;
        try { return WalkMap(0, inode, fileBlock, quiet: true); }
        catch (IOException) { return 0; }
    }

    /// <summary>Follows the map to <paramref name="fileBlock"/>; a pointer outside the data area is corruption, or with
    /// <paramref name="quiet"/> just a 0.</summary>
    private uint WalkMap(uint ino, Inode inode, long fileBlock, bool quiet)
    {
        Span<int> path = stackalloc int[4];
        int depth = MapPath(fileBlock, path, ino);
        uint block = inode.Block(path[0]);
        for (int level = 1; level < depth && block != 0; level++)
        {
            if (!InDataArea(block, quiet, "indirect block pointer", ino)) return 0;
            var ind = _cache.Read(block);
            block = BinaryPrimitives.ReadUInt32LittleEndian(ind.AsSpan(path[level] * 4));
        }
        return block == 0 || InDataArea(block, quiet, "block pointer", ino) ? block : 0;
    }

    /// <summary>Whether a pointer lies in the data area; outside it, throws unless <paramref name="quiet"/>.</summary>
    private bool InDataArea(uint block, bool quiet, string structure, uint ino)
    {
        if (block >= _sb.FirstDataBlock && block < _sb.BlocksCount) return true;
        if (!quiet) CheckBlock(block, structure, ino);
        return false;
    }

    /// <summary>
    /// Maps file block <paramref name="fileBlock"/>, allocating it (and any missing indirect blocks, zero-filled) if it
    /// is a hole. Updates i_block and i_blocks of <paramref name="inode"/> in memory; the caller writes the inode.
    /// </summary>
    private uint MapOrAllocate(Transaction tx, uint ino, Inode inode, long fileBlock, out bool fresh)
    {
        Span<int> path = stackalloc int[4];
        int depth = MapPath(fileBlock, path, ino);
        fresh = false;
        uint sectorsPerBlock = (uint)(_geo.BlockSize / 512);
        uint block = inode.Block(path[0]);
        if (block == 0)
        {
            block = AllocateBlock(tx, Goal(ino));
            NoteAllocated(ino, block);
            inode.SetBlock(path[0], block);
            inode.Blocks512 += sectorsPerBlock;
            if (depth > 1) tx.Create(block, BlockKind.Indirect);
            else fresh = true;
        }
        else CheckBlock(block, depth > 1 ? "indirect block pointer" : "block pointer", ino);
        for (int level = 1; level < depth; level++)
        {
            uint parent = block;
            block = BinaryPrimitives.ReadUInt32LittleEndian(_cache.Read(parent).AsSpan(path[level] * 4));
            bool leaf = level == depth - 1;
            if (block == 0)
            {
                block = AllocateBlock(tx, Goal(ino));
                NoteAllocated(ino, block);
                BinaryPrimitives.WriteUInt32LittleEndian(tx.Modify(parent, BlockKind.Indirect).AsSpan(path[level] * 4), block);
                inode.Blocks512 += sectorsPerBlock;
                if (!leaf) tx.Create(block, BlockKind.Indirect);
                else fresh = true;
            }
            else CheckBlock(block, leaf ? "block pointer" : "indirect block pointer", ino);
        }
        return block;
    }

    private uint Goal(uint ino)
    {
        if (_allocationHint.TryGetValue(ino, out uint last)) return last + 1;
        int g = _geo.GroupOfInode(ino);
        return _groups[g].InodeTable + (uint)_geo.InodeTableBlocks;
    }

    private void NoteAllocated(uint ino, uint block)
    {
        if (_allocationHint.Count > 4096) _allocationHint.Clear();
        _allocationHint[ino] = block;
    }

    /// <summary>
    /// Frees every block at or past file block <paramref name="keepBlocks"/>, and indirect blocks left empty. Updates
    /// <paramref name="inode"/> in memory. Bounded: a corrupt map that revisits blocks cannot make it run away.
    /// </summary>
    private void TruncateBlocks(Transaction tx, uint ino, Inode inode, long keepBlocks)
    {
        long p = _geo.PointersPerBlock;
        long budget = (long)_sb.BlocksCount + 16;
        uint sectorsPerBlock = (uint)(_geo.BlockSize / 512);
        for (int i = 0; i < Inode.DirectBlocks; i++)
        {
            uint b = inode.Block(i);
            if (b == 0 || i < keepBlocks) continue;
            FreeBlock(tx, b, ino);
            inode.SetBlock(i, 0);
            inode.Blocks512 = SubtractBlocks(inode.Blocks512, sectorsPerBlock);
        }
        long baseBlock = Inode.DirectBlocks, span = p;
        for (int level = 1; level <= 3; level++)
        {
            int slot = Inode.DirectBlocks + level - 1;
            uint root = inode.Block(slot);
            if (root != 0 && keepBlocks < baseBlock + span)
            {
                if (FreeTree(tx, ino, inode, root, level, baseBlock, keepBlocks, ref budget))
                    inode.SetBlock(slot, 0);
            }
            baseBlock += span;
            span *= p;
        }
        _allocationHint.Remove(ino);
    }

    private static ulong SubtractBlocks(ulong have, uint take) => have >= take ? have - take : 0;

    /// <summary>Frees the part of the subtree rooted at <paramref name="block"/> (covering file blocks from
    /// <paramref name="baseBlock"/>) past <paramref name="keep"/>; returns true when the root itself was freed.</summary>
    private bool FreeTree(Transaction tx, uint ino, Inode inode, uint block, int level, long baseBlock, long keep, ref long budget)
    {
        uint sectorsPerBlock = (uint)(_geo.BlockSize / 512);
        if (block < _sb.FirstDataBlock || block >= _sb.BlocksCount)
        {
            _log.WriteLine($"{_image}: ext2: corrupt indirect block pointer: inode {ino} points at block {block}; dropped");
            return true;
        }
        if (--budget < 0) throw Corrupt("block map", $"inode {ino}: indirect blocks revisit blocks (cycle or shared map)");
        long childSpan = 1;
        for (int i = 1; i < level; i++) childSpan *= _geo.PointersPerBlock;
        var data = _cache.Read(block);
        byte[]? writable = null;
        int firstChild = keep <= baseBlock ? 0 : (int)((keep - baseBlock + childSpan - 1) / childSpan);
        // A child straddling the keep point is partially kept: recurse into it without freeing it.
        int partial = keep > baseBlock ? (int)((keep - baseBlock) / childSpan) : -1;
        for (int i = Math.Max(0, Math.Min(partial, firstChild)); i < _geo.PointersPerBlock; i++)
        {
            uint child = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(i * 4));
            if (child == 0) continue;
            long childBase = baseBlock + i * childSpan;
            bool freed;
            if (level == 1)
            {
                if (childBase < keep) continue;
                FreeBlock(tx, child, ino);
                inode.Blocks512 = SubtractBlocks(inode.Blocks512, sectorsPerBlock);
                freed = true;
            }
            else
            {
                if (childBase + childSpan <= keep) continue;
                freed = FreeTree(tx, ino, inode, child, level - 1, childBase, keep, ref budget);
            }
            if (freed && keep > baseBlock)
            {
                writable ??= tx.Modify(block, BlockKind.Indirect);
                BinaryPrimitives.WriteUInt32LittleEndian(writable.AsSpan(i * 4), 0);
                data = writable;
            }
        }
        if (keep <= baseBlock)
        {
            FreeBlock(tx, block, ino);
            inode.Blocks512 = SubtractBlocks(inode.Blocks512, sectorsPerBlock);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Whether file block <paramref name="fileBlock"/> is mapped, and how many blocks from it on share that answer
    /// when it is a hole (a missing indirect block makes a whole subtree a hole, skipped in one step).
    /// </summary>
    private (bool Mapped, long Run) ProbeBlock(uint ino, Inode inode, long fileBlock)
    {
        Span<int> path = stackalloc int[4];
        int depth = MapPath(fileBlock, path, ino);
        long p = _geo.PointersPerBlock;
        uint block = inode.Block(path[0]);
        for (int level = 0; ; level++)
        {
            if (block == 0)
            {
                // The pointer at this level covers p^(depth-1-level) blocks; skip what is left of them.
                long within = 0, span = 1;
                for (int k = depth - 1; k > level; k--) { within += path[k] * span; span *= p; }
                return (false, span - within);
            }
            if (level == depth - 1) { CheckBlock(block, "block pointer", ino); return (true, 1); }
            CheckBlock(block, "indirect block pointer", ino);
            block = BinaryPrimitives.ReadUInt32LittleEndian(_cache.Read(block).AsSpan(path[level + 1] * 4));
        }
    }

    public long SeekData(ulong node, long offset, bool findHole)
    {
        lock (_gate)
        {
            uint ino = (uint)node;
            var inode = LiveInode(node);
            long size = inode.Size;
            if (offset < 0 || offset >= size) throw new FsException(Errno.ENXIO);
            if (!inode.IsRegular) return findHole ? size : offset;
            int bs = _geo.BlockSize;
            long fb = offset / bs, end = (size + bs - 1) / bs;
            while (fb < end)
            {
                var (mapped, run) = ProbeBlock(ino, inode, fb);
                if (mapped != findHole) return Math.Max(offset, fb * bs);
                fb += mapped ? 1 : Math.Max(1, run);
            }
            if (findHole) return size;
            throw new FsException(Errno.ENXIO);
        }
    }
}
