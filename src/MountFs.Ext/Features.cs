namespace MountFs.Ext;

/// <summary>s_feature_compat bits: a reader that does not know one may still read and write.</summary>
[Flags]
public enum CompatFeatures : uint
{
    None = 0,
    DirPrealloc = 0x0001,
    ImagicInodes = 0x0002,
    HasJournal = 0x0004,
    ExtAttr = 0x0008,
    ResizeInode = 0x0010,
    DirIndex = 0x0020,
    LazyBg = 0x0040,
    ExcludeBitmap = 0x0100,
    SparseSuper2 = 0x0200,
    FastCommit = 0x0400,
    StableInodes = 0x0800,
    OrphanFile = 0x1000,
}

/// <summary>s_feature_incompat bits: a reader that does not know one must not mount.</summary>
[Flags]
public enum IncompatFeatures : uint
{
    None = 0,
    Compression = 0x0001,
    FileType = 0x0002,
    Recover = 0x0004,
    JournalDev = 0x0008,
    MetaBg = 0x0010,
    Extents = 0x0040,
    SixtyFourBit = 0x0080,
    Mmp = 0x0100,
    FlexBg = 0x0200,
    EaInode = 0x0400,
    DirData = 0x1000,
    CsumSeed = 0x2000,
    LargeDir = 0x4000,
    InlineData = 0x8000,
    Encrypt = 0x10000,
    Casefold = 0x20000,
}

/// <summary>s_feature_ro_compat bits: a reader that does not know one may mount read-only.</summary>
[Flags]
public enum RoCompatFeatures : uint
{
    None = 0,
    SparseSuper = 0x0001,
    LargeFile = 0x0002,
    BtreeDir = 0x0004,
    HugeFile = 0x0008,
    GdtCsum = 0x0010,
    DirNlink = 0x0020,
    ExtraIsize = 0x0040,
    HasSnapshot = 0x0080,
    Quota = 0x0100,
    BigAlloc = 0x0200,
    MetadataCsum = 0x0400,
    Replica = 0x0800,
    ReadOnly = 0x1000,
    Project = 0x2000,
    SharedBlocks = 0x4000,
    Verity = 0x8000,
    OrphanPresent = 0x10000,
}

/// <summary>The feature names e2fsprogs prints (dumpe2fs, mke2fs -O), so messages name features the way users know them.</summary>
public static class FeatureNames
{
    private static readonly (uint Bit, string Name)[] Compat =
    [
        (0x0001, "dir_prealloc"), (0x0002, "imagic_inodes"), (0x0004, "has_journal"), (0x0008, "ext_attr"),
        (0x0010, "resize_inode"), (0x0020, "dir_index"), (0x0040, "lazy_bg"), (0x0100, "snapshot_bitmap"),
        (0x0200, "sparse_super2"), (0x0400, "fast_commit"), (0x0800, "stable_inodes"), (0x1000, "orphan_file"),
    ];

    private static readonly (uint Bit, string Name)[] Incompat =
    [
        (0x0001, "compression"), (0x0002, "filetype"), (0x0004, "needs_recovery"), (0x0008, "journal_dev"),
        (0x0010, "meta_bg"), (0x0040, "extent"), (0x0080, "64bit"), (0x0100, "mmp"), (0x0200, "flex_bg"),
        (0x0400, "ea_inode"), (0x1000, "dirdata"), (0x2000, "metadata_csum_seed"), (0x4000, "large_dir"),
        (0x8000, "inline_data"), (0x10000, "encrypt"), (0x20000, "casefold"),
    ];

    private static readonly (uint Bit, string Name)[] RoCompat =
    [
        (0x0001, "sparse_super"), (0x0002, "large_file"), (0x0004, "btree_dir"), (0x0008, "huge_file"),
        (0x0010, "uninit_bg"), (0x0020, "dir_nlink"), (0x0040, "extra_isize"), (0x0080, "snapshot"),
        (0x0100, "quota"), (0x0200, "bigalloc"), (0x0400, "metadata_csum"), (0x0800, "replica"),
        (0x1000, "read-only"), (0x2000, "project"), (0x4000, "shared_blocks"), (0x8000, "verity"),
        (0x10000, "orphan_present"),
    ];

    public static string Describe(CompatFeatures f) => Describe((uint)f, Compat, "FEATURE_C");
    public static string Describe(IncompatFeatures f) => Describe((uint)f, Incompat, "FEATURE_I");
    public static string Describe(RoCompatFeatures f) => Describe((uint)f, RoCompat, "FEATURE_R");

    private static string Describe(uint bits, (uint Bit, string Name)[] table, string unknownPrefix)
    {
        var names = new List<string>();
        for (int i = 0; i < 32; i++)
        {
            uint bit = 1u << i;
            if ((bits & bit) == 0) continue;
            string? name = null;
            foreach (var (b, n) in table) if (b == bit) name = n;
            names.Add(name ?? $"{unknownPrefix}{i}");
        }
        return string.Join(" ", names);
    }
}
