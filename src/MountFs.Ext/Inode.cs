using System.Buffers.Binary;

namespace MountFs.Ext;

/// <summary>
/// One on-disk inode (struct ext2_inode, 128 bytes, plus the large-inode tail up to s_inode_size). Backed by its
/// raw bytes so fields and in-inode extended attributes this code does not interpret survive a read-modify-write.
/// </summary>
public sealed class Inode
{
    public const int GoodOldSize = 128;
    public const int BlockPointers = 15;
    public const int DirectBlocks = 12;
    public const int SingleIndirect = 12, DoubleIndirect = 13, TripleIndirect = 14;
    /// <summary>A symlink target shorter than this lives in i_block itself ("fast" symlink).</summary>
    public const int FastSymlinkMax = 60;

    // i_flags bits.
    public const uint SecureDeleteFlag = 0x1, ImmutableFlag = 0x10, AppendFlag = 0x20, NoDumpFlag = 0x40,
        NoAtimeFlag = 0x80, IndexFlag = 0x1000, ExtentsFlag = 0x80000, InlineDataFlag = 0x10000000;

    private readonly byte[] _raw;

    public Inode(int size = 256)
    {
        if (size < GoodOldSize) throw new ArgumentOutOfRangeException(nameof(size));
        _raw = new byte[size];
    }

    private Inode(byte[] raw) => _raw = raw;

    /// <summary>Copies <paramref name="source"/> (its length is the inode size, at least 128 bytes).</summary>
    public static Inode Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < GoodOldSize) throw new ArgumentException($"inode needs {GoodOldSize} bytes, got {source.Length}");
        return new Inode(source.ToArray());
    }

    public void WriteTo(Span<byte> destination) => _raw.CopyTo(destination);
    public Inode Clone() => new((byte[])_raw.Clone());
    public int RecordSize => _raw.Length;
    public ReadOnlySpan<byte> Raw => _raw;

    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_raw.AsSpan(o));
    private void U32(int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(_raw.AsSpan(o), v);
    private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan(o));
    private void U16(int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(_raw.AsSpan(o), v);

    public ushort Mode { get => U16(0); set => U16(0, value); }
    public ushort UidLow { get => U16(2); set => U16(2, value); }
    public uint SizeLow { get => U32(4); set => U32(4, value); }
    public uint AtimeSeconds { get => U32(8); set => U32(8, value); }
    public uint CtimeSeconds { get => U32(12); set => U32(12, value); }
    public uint MtimeSeconds { get => U32(16); set => U32(16, value); }
    /// <summary>Deletion time; for an inode on the orphan list, the next orphan's number.</summary>
    public uint Dtime { get => U32(20); set => U32(20, value); }
    public ushort GidLow { get => U16(24); set => U16(24, value); }
    public ushort LinksCount { get => U16(26); set => U16(26, value); }
    /// <summary>i_blocks: 512-byte units allocated, indirect blocks and the xattr block included.</summary>
    public uint BlocksLow { get => U32(28); set => U32(28, value); }
    public uint Flags { get => U32(32); set => U32(32, value); }
    public uint Osd1 { get => U32(36); set => U32(36, value); }
    public uint Block(int i) => (uint)i < BlockPointers ? U32(40 + 4 * i) : throw new ArgumentOutOfRangeException(nameof(i));
    public void SetBlock(int i, uint value) { if ((uint)i >= BlockPointers) throw new ArgumentOutOfRangeException(nameof(i)); U32(40 + 4 * i, value); }
    /// <summary>The 60 bytes of i_block, where a fast symlink keeps its target.</summary>
    public Span<byte> BlockArea => _raw.AsSpan(40, 60);
    public uint Generation { get => U32(100); set => U32(100, value); }
    /// <summary>i_file_acl: the extended-attribute block, 0 for none.</summary>
    public uint FileAcl { get => U32(104); set => U32(104, value); }
    /// <summary>i_size_high (i_dir_acl on revision 0): bits 32-63 of a regular file's size (large_file).</summary>
    public uint SizeHigh { get => U32(108); set => U32(108, value); }
    public uint FragmentAddress { get => U32(112); set => U32(112, value); }
    // osd2, Linux flavour.
    public ushort BlocksHigh { get => U16(116); set => U16(116, value); }
    public ushort FileAclHigh { get => U16(118); set => U16(118, value); }
    public ushort UidHigh { get => U16(120); set => U16(120, value); }
    public ushort GidHigh { get => U16(122); set => U16(122, value); }
    public ushort ChecksumLow { get => U16(124); set => U16(124, value); }

    /// <summary>i_extra_isize: bytes of the large-inode tail in use past 128 (0 on 128-byte inodes).</summary>
    public ushort ExtraSize
    {
        get => _raw.Length > GoodOldSize ? U16(128) : (ushort)0;
        set { if (_raw.Length > GoodOldSize) U16(128, value); else if (value != 0) throw new InvalidOperationException("128-byte inode has no extra space"); }
    }

    private bool HasExtra(int fieldEnd) => _raw.Length >= GoodOldSize + fieldEnd && ExtraSize >= fieldEnd;
    public uint CtimeExtra { get => HasExtra(8) ? U32(132) : 0; set { if (HasExtra(8)) U32(132, value); } }
    public uint MtimeExtra { get => HasExtra(12) ? U32(136) : 0; set { if (HasExtra(12)) U32(136, value); } }
    public uint AtimeExtra { get => HasExtra(16) ? U32(140) : 0; set { if (HasExtra(16)) U32(140, value); } }
    public uint CrtimeSeconds { get => HasExtra(20) ? U32(144) : 0; set { if (HasExtra(20)) U32(144, value); } }
    public uint CrtimeExtra { get => HasExtra(24) ? U32(148) : 0; set { if (HasExtra(24)) U32(148, value); } }

    /// <summary>In-inode extended attribute area: after 128 + i_extra_isize, up to the inode's end (empty if none).</summary>
    public Span<byte> InInodeAttributeArea
    {
        get
        {
            int start = GoodOldSize + ExtraSize;
            return _raw.Length > GoodOldSize && start + 4 <= _raw.Length ? _raw.AsSpan(start) : Span<byte>.Empty;
        }
    }

    // Combined values.
    public uint Uid { get => UidLow | (uint)UidHigh << 16; set { UidLow = (ushort)value; UidHigh = (ushort)(value >> 16); } }
    public uint Gid { get => GidLow | (uint)GidHigh << 16; set { GidLow = (ushort)value; GidHigh = (ushort)(value >> 16); } }

    /// <summary>File size: 64 bits for regular files (large_file); directories and others use only the low half on ext2.</summary>
    public long Size
    {
        get => (long)((ulong)SizeHigh << 32 | SizeLow) & long.MaxValue;
        set { SizeLow = (uint)value; SizeHigh = (uint)((ulong)value >> 32); }
    }

    public ulong Blocks512 { get => BlocksLow | (ulong)BlocksHigh << 32; set { BlocksLow = (uint)value; BlocksHigh = (ushort)(value >> 32); } }

    public uint FileType => (uint)Mode & 0xF000;
    public bool IsDirectory => FileType == 0x4000;
    public bool IsRegular => FileType == 0x8000;
    public bool IsSymlink => FileType == 0xA000;

    /// <summary>
    /// A symlink whose target lives in i_block. Matches e2fsprogs' rule: no data block counted (i_blocks counts only
    /// an xattr block, if any).
    /// </summary>
    public bool IsFastSymlink(int blockSize) =>
        IsSymlink && (Flags & (ExtentsFlag | InlineDataFlag)) == 0 &&
        Blocks512 == (FileAcl != 0 ? (ulong)(blockSize / 512) : 0);

    /// <summary>
    /// Device number (Linux dev_t, 32-bit "new" encoding: minor low byte, 12-bit major, minor high bits above) of a
    /// device node: i_block[0] holds the old 8:8 encoding when both halves fit a byte, else i_block[1] the new one.
    /// </summary>
    public uint DeviceNumber
    {
        get => Block(0) != 0 ? Block(0) : Block(1);
        set
        {
            uint major = (value >> 8) & 0xFFF, minor = (value & 0xFF) | ((value >> 12) & 0xFFF00);
            bool old = major < 256 && minor < 256;
            SetBlock(0, old ? major << 8 | minor : 0);
            SetBlock(1, old ? 0 : value);
            SetBlock(2, 0);
        }
    }

    /// <summary>Encodes a time into seconds + the extra field (nanoseconds &lt;&lt; 2 | epoch bits), as ext4 does.</summary>
    public static (uint Seconds, uint Extra) EncodeTime(long seconds, uint nanoseconds)
    {
        uint lo = (uint)seconds;
        long epoch = (seconds - (int)lo) >> 32;
        return (lo, (nanoseconds << 2) | (uint)(epoch & 3));
    }

    public static (long Seconds, uint Nanoseconds) DecodeTime(uint seconds, uint extra, bool hasExtra)
    {
        long s = (int)seconds;
        if (!hasExtra) return (s, 0);
        s += (long)(extra & 3) << 32;
        return (s, Math.Min(extra >> 2, 999_999_999u));
    }

    public bool HasTimeExtra => HasExtra(16);
}
