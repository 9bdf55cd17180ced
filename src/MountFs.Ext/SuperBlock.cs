using System.Buffers.Binary;
using System.Text;

namespace MountFs.Ext;

/// <summary>
/// The ext2 superblock (struct ext2_super_block, 1024 bytes at byte 1024 of the device and at the start of each
/// backup group). Backed by its raw bytes so fields this code does not know survive a read-modify-write.
/// </summary>
public sealed class SuperBlock
{
    public const int Size = 1024;
    /// <summary>Byte offset of the primary superblock on the device, whatever the block size.</summary>
    public const int PrimaryOffset = 1024;
    public const ushort MagicValue = 0xEF53;
    public const ushort StateValid = 1;
    public const ushort StateErrors = 2;
    public const uint DynamicRevision = 1;

    private readonly byte[] _raw;

    public SuperBlock() => _raw = new byte[Size];

    private SuperBlock(byte[] raw) => _raw = raw;

    /// <summary>Copies 1024 bytes; no validation (see <see cref="Validate"/>).</summary>
    public static SuperBlock Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size) throw new ArgumentException($"superblock needs {Size} bytes, got {source.Length}");
        return new SuperBlock(source[..Size].ToArray());
    }

    public void WriteTo(Span<byte> destination) => _raw.CopyTo(destination);

    public SuperBlock Clone() => new((byte[])_raw.Clone());

    public ReadOnlySpan<byte> Raw => _raw;

    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_raw.AsSpan(o));
    private void U32(int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(_raw.AsSpan(o), v);
    private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan(o));
    private void U16(int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(_raw.AsSpan(o), v);

    public uint InodesCount { get => U32(0x00); set => U32(0x00, value); }
    public uint BlocksCount { get => U32(0x04); set => U32(0x04, value); }
    public uint ReservedBlocksCount { get => U32(0x08); set => U32(0x08, value); }
    public uint FreeBlocksCount { get => U32(0x0C); set => U32(0x0C, value); }
    public uint FreeInodesCount { get => U32(0x10); set => U32(0x10, value); }
    public uint FirstDataBlock { get => U32(0x14); set => U32(0x14, value); }
    public uint LogBlockSize { get => U32(0x18); set => U32(0x18, value); }
    public uint LogClusterSize { get => U32(0x1C); set => U32(0x1C, value); }
    public uint BlocksPerGroup { get => U32(0x20); set => U32(0x20, value); }
    public uint ClustersPerGroup { get => U32(0x24); set => U32(0x24, value); }
    public uint InodesPerGroup { get => U32(0x28); set => U32(0x28, value); }
    public uint MountTime { get => U32(0x2C); set => U32(0x2C, value); }
    public uint WriteTime { get => U32(0x30); set => U32(0x30, value); }
    public ushort MountCount { get => U16(0x34); set => U16(0x34, value); }
    public short MaxMountCount { get => (short)U16(0x36); set => U16(0x36, (ushort)value); }
    public ushort Magic { get => U16(0x38); set => U16(0x38, value); }
    public ushort State { get => U16(0x3A); set => U16(0x3A, value); }
    public ushort Errors { get => U16(0x3C); set => U16(0x3C, value); }
    public ushort MinorRevLevel { get => U16(0x3E); set => U16(0x3E, value); }
    public uint LastCheck { get => U32(0x40); set => U32(0x40, value); }
    public uint CheckInterval { get => U32(0x44); set => U32(0x44, value); }
    public uint CreatorOs { get => U32(0x48); set => U32(0x48, value); }
    public uint RevLevel { get => U32(0x4C); set => U32(0x4C, value); }
    public ushort DefResUid { get => U16(0x50); set => U16(0x50, value); }
    public ushort DefResGid { get => U16(0x52); set => U16(0x52, value); }
    /// <summary>First non-reserved inode (11 on revision 1; revision 0 fixes it at 11).</summary>
    public uint FirstInode { get => RevLevel == 0 ? 11 : U32(0x54); set => U32(0x54, value); }
    /// <summary>Inode record size (revision 0 fixes it at 128).</summary>
    public ushort InodeSize { get => RevLevel == 0 ? (ushort)128 : U16(0x58); set => U16(0x58, value); }
    public ushort BlockGroupNumber { get => U16(0x5A); set => U16(0x5A, value); }
    public CompatFeatures FeatureCompat { get => (CompatFeatures)U32(0x5C); set => U32(0x5C, (uint)value); }
    public IncompatFeatures FeatureIncompat { get => (IncompatFeatures)U32(0x60); set => U32(0x60, (uint)value); }
    public RoCompatFeatures FeatureRoCompat { get => (RoCompatFeatures)U32(0x64); set => U32(0x64, (uint)value); }

    /// <summary>s_uuid in RFC 4122 byte order.</summary>
    public Guid Uuid
    {
        get => new(_raw.AsSpan(0x68, 16), bigEndian: true);
        set => value.TryWriteBytes(_raw.AsSpan(0x68, 16), bigEndian: true, out _);
    }

    /// <summary>s_volume_name: up to 16 bytes, NUL-padded (no NUL when exactly 16).</summary>
    public string VolumeName { get => FixedString(0x78, 16); set => FixedString(0x78, 16, value); }
    public string LastMounted { get => FixedString(0x88, 64); set => FixedString(0x88, 64, value); }
    public uint AlgorithmUsageBitmap { get => U32(0xC8); set => U32(0xC8, value); }
    public byte PreallocBlocks { get => _raw[0xCC]; set => _raw[0xCC] = value; }
    public byte PreallocDirBlocks { get => _raw[0xCD]; set => _raw[0xCD] = value; }
    /// <summary>GDT blocks reserved after each GDT copy for online resize (resize_inode).</summary>
    public ushort ReservedGdtBlocks { get => U16(0xCE); set => U16(0xCE, value); }
    public Guid JournalUuid
    {
        get => new(_raw.AsSpan(0xD0, 16), bigEndian: true);
        set => value.TryWriteBytes(_raw.AsSpan(0xD0, 16), bigEndian: true, out _);
    }
    public uint JournalInode { get => U32(0xE0); set => U32(0xE0, value); }
    public uint JournalDevice { get => U32(0xE4); set => U32(0xE4, value); }
    /// <summary>Head of the orphan list: inodes unlinked while open, chained through i_dtime.</summary>
    public uint LastOrphan { get => U32(0xE8); set => U32(0xE8, value); }

    /// <summary>s_hash_seed[4] for htree names (16 bytes).</summary>
    public Span<byte> HashSeed => _raw.AsSpan(0xEC, 16);
    public byte DefaultHashVersion { get => _raw[0xFC]; set => _raw[0xFC] = value; }
    public byte JournalBackupType { get => _raw[0xFD]; set => _raw[0xFD] = value; }
    /// <summary>Group descriptor size; 0 means 32 (only 64bit uses more).</summary>
    public ushort DescriptorSize { get => U16(0xFE); set => U16(0xFE, value); }
    public uint DefaultMountOptions { get => U32(0x100); set => U32(0x100, value); }
    public uint FirstMetaBg { get => U32(0x104); set => U32(0x104, value); }
    public uint MkfsTime { get => U32(0x108); set => U32(0x108, value); }
    /// <summary>s_jnl_blocks[17]: backup of the journal inode's i_block and size.</summary>
    public uint JournalBlock(int i) => (uint)i < 17 ? U32(0x10C + 4 * i) : throw new ArgumentOutOfRangeException(nameof(i));
    public void SetJournalBlock(int i, uint v) { if ((uint)i >= 17) throw new ArgumentOutOfRangeException(nameof(i)); U32(0x10C + 4 * i, v); }
    public ushort MinExtraInodeSize { get => U16(0x15C); set => U16(0x15C, value); }
    public ushort WantExtraInodeSize { get => U16(0x15E); set => U16(0x15E, value); }
    public uint Flags { get => U32(0x160); set => U32(0x160, value); }
    public ulong KilobytesWritten
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_raw.AsSpan(0x178));
        set => BinaryPrimitives.WriteUInt64LittleEndian(_raw.AsSpan(0x178), value);
    }

    // Derived values.
    public int BlockSize => LogBlockSize <= 6 ? 1024 << (int)LogBlockSize : 0;
    public bool HasCompat(CompatFeatures f) => (FeatureCompat & f) == f;
    public bool HasIncompat(IncompatFeatures f) => (FeatureIncompat & f) == f;
    public bool HasRoCompat(RoCompatFeatures f) => (FeatureRoCompat & f) == f;

    /// <summary>What this code implements; anything else in incompat refuses the mount, in ro_compat forces read-only.</summary>
    public const IncompatFeatures SupportedIncompat = IncompatFeatures.FileType;
    public const RoCompatFeatures SupportedRoCompat = RoCompatFeatures.SparseSuper | RoCompatFeatures.LargeFile;
    public const CompatFeatures SupportedCompat =
        CompatFeatures.ExtAttr | CompatFeatures.ResizeInode | CompatFeatures.DirIndex | CompatFeatures.DirPrealloc;

    /// <summary>
    /// Checks the values every later computation divides by or indexes with; returns null when sane, else why not.
    /// <paramref name="deviceBytes"/> bounds s_blocks_count.
    /// </summary>
    public string? Validate(long deviceBytes)
    {
        if (Magic != MagicValue) return $"bad magic 0x{Magic:X4}";
        if (LogBlockSize > 6) return $"s_log_block_size {LogBlockSize} out of range";
        if (RevLevel > 1) return $"revision {RevLevel} unknown";
        int bs = BlockSize;
        if (FirstDataBlock != (bs == 1024 ? 1u : 0u)) return $"s_first_data_block {FirstDataBlock} wrong for {bs}-byte blocks";
        if (BlocksPerGroup < 8 || BlocksPerGroup > 8u * (uint)bs || BlocksPerGroup % 8 != 0) return $"s_blocks_per_group {BlocksPerGroup} out of range";
        if (InodesPerGroup < 1 || InodesPerGroup > 8u * (uint)bs) return $"s_inodes_per_group {InodesPerGroup} out of range";
        int isz = InodeSize;
        if (isz < 128 || isz > bs || (isz & (isz - 1)) != 0) return $"s_inode_size {isz} out of range";
        if (BlocksCount <= FirstDataBlock) return $"s_blocks_count {BlocksCount} too small";
        if ((long)BlocksCount * bs > deviceBytes) return $"s_blocks_count {BlocksCount} ({(long)BlocksCount * bs} bytes) exceeds the device ({deviceBytes} bytes)";
        long groups = ((long)BlocksCount - FirstDataBlock + BlocksPerGroup - 1) / BlocksPerGroup;
        if ((long)InodesCount != groups * InodesPerGroup) return $"s_inodes_count {InodesCount} is not {groups} groups x {InodesPerGroup}";
        if (FirstInode < 11 || FirstInode >= InodesCount) return $"s_first_ino {FirstInode} out of range";
        if (DescriptorSize != 0 && DescriptorSize != 32 && !HasIncompat(IncompatFeatures.SixtyFourBit)) return $"s_desc_size {DescriptorSize} without 64bit";
        return null;
    }

    private string FixedString(int offset, int length)
    {
        var span = _raw.AsSpan(offset, length);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    private void FixedString(int offset, int length, string value)
    {
        var span = _raw.AsSpan(offset, length);
        span.Clear();
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > length) throw new ArgumentException($"'{value}' is longer than {length} bytes");
        bytes.CopyTo(span);
    }
}
