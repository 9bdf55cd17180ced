using System.Buffers.Binary;

namespace MountFs.Ext.Checking;

/// <summary>What a pointer in an inode's block tree points at.</summary>
internal enum PointerLevel
{
    Data = 0,
    Indirect = 1,
    DoubleIndirect = 2,
    TripleIndirect = 3,
}

/// <summary>One non-zero pointer met while walking: the block, what it is, and the first file block it covers.</summary>
internal readonly record struct BlockPointer(uint Block, PointerLevel Level, long Logical);

/// <summary>
/// Walks the direct/indirect block tree of an inode, pre-order (an indirect block before what it points at). The
/// visitor returns the pointer's new value: the same to keep it, 0 to clear it (its subtree is then skipped), another
/// block to redirect it (the walk continues below the new block). Changes go to the inode object and, for pointers
/// inside indirect blocks, to the overlay disk.
/// </summary>
/// <remarks>An indirect block is never descended twice in one walk and pointers outside the file system are never
/// followed, so a hostile tree costs at most one read per distinct block.</remarks>
internal sealed class BlockTreeWalker
{
    private readonly CheckDisk _disk;
    private readonly uint _firstDataBlock;
    private readonly HashSet<uint> _descended = [];
    private readonly int _perBlock;
    // One buffer per indirection level: a walk holds at most one block of each level at a time.
    private readonly byte[][] _levelBuffers;

    public BlockTreeWalker(CheckDisk disk, uint firstDataBlock)
    {
        _disk = disk;
        _firstDataBlock = firstDataBlock;
        _perBlock = disk.BlockSize / 4;
        _levelBuffers = [new byte[disk.BlockSize], new byte[disk.BlockSize], new byte[disk.BlockSize]];
    }

    /// <summary>Set by a visitor to end the walk early.</summary>
    public bool Stop { get; set; }

    /// <summary>True when the walk changed a pointer held in the inode itself (the caller writes the inode).</summary>
    public bool InodeChanged { get; private set; }

    public void Walk(Inode inode, Func<BlockPointer, uint> visit)
    {
        Stop = false;
        InodeChanged = false;
        _descended.Clear();
        for (int i = 0; i < Inode.DirectBlocks && !Stop; i++)
        {
            uint p = inode.Block(i);
            if (p == 0) continue;
            uint nv = visit(new BlockPointer(p, PointerLevel.Data, i));
            if (nv != p) { inode.SetBlock(i, nv); InodeChanged = true; }
        }
        long start = Inode.DirectBlocks;
        long span = _perBlock;
        for (int level = 1; level <= 3 && !Stop; level++)
        {
            int slot = Inode.SingleIndirect + level - 1;
            uint p = inode.Block(slot);
            if (p != 0)
            {
                uint nv = visit(new BlockPointer(p, (PointerLevel)level, start));
                if (nv != p) { inode.SetBlock(slot, nv); InodeChanged = true; }
                if (nv != 0 && !Stop) Descend(nv, level, start, visit);
            }
            start += span;
            span *= _perBlock;
        }
    }

    private void Descend(uint block, int level, long start, Func<BlockPointer, uint> visit)
    {
        if (block < _firstDataBlock || !_disk.InRange(block) || !_descended.Add(block)) return;
        long childSpan = 1;
        for (int l = 1; l < level; l++) childSpan *= _perBlock;
        byte[] data = _levelBuffers[level - 1];
        _disk.ReadInto(block, data);
        bool modified = false;
        for (int j = 0; j < _perBlock && !Stop; j++)
        {
            uint p = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(j * 4));
            if (p == 0) continue;
            long logical = start + j * childSpan;
            uint nv = visit(new BlockPointer(p, (PointerLevel)(level - 1), logical));
            if (nv != p)
            {
                if (!modified) { data = _disk.Modify(block); modified = true; }
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(j * 4), nv);
            }
            if (level > 1 && nv != 0 && !Stop) Descend(nv, level - 1, logical, visit);
        }
    }
}
