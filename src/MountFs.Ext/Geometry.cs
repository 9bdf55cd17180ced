namespace MountFs.Ext;

/// <summary>
/// Where things are in an ext2 image, derived from superblock values alone: group count and sizes, which groups
/// carry superblock + GDT backups (sparse_super: 0, 1 and powers of 3, 5, 7), the GDT and reserved-GDT extents,
/// and the standard (mke2fs, no flex_bg) positions of bitmaps and inode tables.
/// </summary>
public sealed class Geometry
{
    public Geometry(uint blocksCount, uint firstDataBlock, int blockSize, uint blocksPerGroup, uint inodesPerGroup,
        int inodeSize, bool sparseSuper, int reservedGdtBlocks)
    {
        if (blockSize is < 1024 or > 65536 || (blockSize & (blockSize - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(blockSize));
        if (blocksPerGroup == 0 || inodesPerGroup == 0) throw new ArgumentOutOfRangeException(nameof(blocksPerGroup));
        if (inodeSize < 128 || inodeSize > blockSize) throw new ArgumentOutOfRangeException(nameof(inodeSize));
        if (blocksCount <= firstDataBlock) throw new ArgumentOutOfRangeException(nameof(blocksCount));
        BlocksCount = blocksCount;
        FirstDataBlock = firstDataBlock;
        BlockSize = blockSize;
        BlocksPerGroup = blocksPerGroup;
        InodesPerGroup = inodesPerGroup;
        InodeSize = inodeSize;
        SparseSuper = sparseSuper;
        ReservedGdtBlocks = reservedGdtBlocks;
        GroupCount = (int)(((long)blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup);
        DescriptorsPerBlock = blockSize / GroupDescriptor.Size;
        GdtBlocks = (GroupCount + DescriptorsPerBlock - 1) / DescriptorsPerBlock;
        InodesPerBlock = blockSize / inodeSize;
        InodeTableBlocks = (int)((inodesPerGroup * (long)inodeSize + blockSize - 1) / blockSize);
        PointersPerBlock = blockSize / 4;
    }

    public static Geometry From(SuperBlock sb) => new(sb.BlocksCount, sb.FirstDataBlock, sb.BlockSize, sb.BlocksPerGroup,
        sb.InodesPerGroup, sb.InodeSize, sb.HasRoCompat(RoCompatFeatures.SparseSuper),
        sb.HasCompat(CompatFeatures.ResizeInode) ? sb.ReservedGdtBlocks : 0);

    public uint BlocksCount { get; }
    public uint FirstDataBlock { get; }
    public int BlockSize { get; }
    public uint BlocksPerGroup { get; }
    public uint InodesPerGroup { get; }
    public int InodeSize { get; }
    public bool SparseSuper { get; }
    public int ReservedGdtBlocks { get; }
    public int GroupCount { get; }
    public int DescriptorsPerBlock { get; }
    public int GdtBlocks { get; }
    public int InodesPerBlock { get; }
    public int InodeTableBlocks { get; }
    public int PointersPerBlock { get; }
    public uint InodesCount => (uint)(GroupCount * (long)InodesPerGroup);

    public uint GroupFirstBlock(int group) => FirstDataBlock + (uint)group * BlocksPerGroup;

    /// <summary>Blocks in <paramref name="group"/>: BlocksPerGroup except for a short last group.</summary>
    public uint GroupBlockCount(int group) =>
        group == GroupCount - 1 ? BlocksCount - GroupFirstBlock(group) : BlocksPerGroup;

    public int GroupOfBlock(uint block) => (int)((block - FirstDataBlock) / BlocksPerGroup);
    public int GroupOfInode(uint inode) => (int)((inode - 1) / InodesPerGroup);

    /// <summary>Whether the group holds a superblock + GDT copy: all groups without sparse_super, else 0, 1, 3^k, 5^k, 7^k.</summary>
    public bool HasSuperBlock(int group)
    {
        if (!SparseSuper || group <= 1) return true;
        return IsPowerOf(group, 3) || IsPowerOf(group, 5) || IsPowerOf(group, 7);
    }

    private static bool IsPowerOf(int n, int b)
    {
        while (n % b == 0) n /= b;
        return n == 1;
    }

    /// <summary>Blocks at the group's start taken by the superblock copy, GDT copy and reserved GDT blocks.</summary>
    public int SuperBlockOverhead(int group) => HasSuperBlock(group) ? 1 + GdtBlocks + ReservedGdtBlocks : 0;

    /// <summary>First GDT block of the copy in <paramref name="group"/> (group 0: the primary table).</summary>
    public uint GdtStart(int group) => GroupFirstBlock(group) + 1;

    /// <summary>Metadata blocks of a group in the standard layout: backup area + 2 bitmaps + inode table.</summary>
    public int GroupOverhead(int group) => SuperBlockOverhead(group) + 2 + InodeTableBlocks;

    /// <summary>mke2fs's placement without flex_bg: block bitmap right after the backup area, then inode bitmap, then the inode table.</summary>
    public (uint BlockBitmap, uint InodeBitmap, uint InodeTable) StandardMetadata(int group)
    {
        uint start = GroupFirstBlock(group) + (uint)SuperBlockOverhead(group);
        return (start, start + 1, start + 2);
    }

    /// <summary>Byte offset of inode <paramref name="inode"/> (1-based) within its group's inode table.</summary>
    public (int Group, uint BlockInTable, int OffsetInBlock) LocateInode(uint inode)
    {
        uint index = (inode - 1) % InodesPerGroup;
        return (GroupOfInode(inode), (uint)(index / InodesPerBlock), (int)(index % InodesPerBlock) * InodeSize);
    }

    /// <summary>File blocks addressable through i_block: 12 direct + one, two and three levels of pointers.</summary>
    public long MaxFileBlocks
    {
        get
        {
            long p = PointersPerBlock;
            return Inode.DirectBlocks + p + p * p + p * p * p;
        }
    }
}
