using System.Buffers.Binary;

namespace MountFs.Ext;

/// <summary>One 32-byte block group descriptor (struct ext2_group_desc), as stored in the group descriptor table.</summary>
public struct GroupDescriptor
{
    public const int Size = 32;

    public uint BlockBitmap;        // 0
    public uint InodeBitmap;        // 4
    public uint InodeTable;         // 8
    public ushort FreeBlocksCount;  // 12
    public ushort FreeInodesCount;  // 14
    public ushort UsedDirsCount;    // 16
    public ushort Flags;            // 18 (ext4 bg_flags; 0 on ext2)
    public uint ExcludeBitmap;      // 20
    public ushort BlockBitmapChecksum; // 24
    public ushort InodeBitmapChecksum; // 26
    public ushort InodeTableUnused; // 28
    public ushort Checksum;         // 30

    public static GroupDescriptor Read(ReadOnlySpan<byte> s)
    {
        if (s.Length < Size) throw new ArgumentException($"group descriptor needs {Size} bytes, got {s.Length}");
        return new GroupDescriptor
        {
            BlockBitmap = BinaryPrimitives.ReadUInt32LittleEndian(s),
            InodeBitmap = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
            InodeTable = BinaryPrimitives.ReadUInt32LittleEndian(s[8..]),
            FreeBlocksCount = BinaryPrimitives.ReadUInt16LittleEndian(s[12..]),
            FreeInodesCount = BinaryPrimitives.ReadUInt16LittleEndian(s[14..]),
            UsedDirsCount = BinaryPrimitives.ReadUInt16LittleEndian(s[16..]),
            Flags = BinaryPrimitives.ReadUInt16LittleEndian(s[18..]),
            ExcludeBitmap = BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            BlockBitmapChecksum = BinaryPrimitives.ReadUInt16LittleEndian(s[24..]),
            InodeBitmapChecksum = BinaryPrimitives.ReadUInt16LittleEndian(s[26..]),
            InodeTableUnused = BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            Checksum = BinaryPrimitives.ReadUInt16LittleEndian(s[30..]),
        };
    }

    public readonly void WriteTo(Span<byte> d)
    {
        if (d.Length < Size) throw new ArgumentException($"group descriptor needs {Size} bytes, got {d.Length}");
        BinaryPrimitives.WriteUInt32LittleEndian(d, BlockBitmap);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], InodeBitmap);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], InodeTable);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], FreeBlocksCount);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], FreeInodesCount);
        BinaryPrimitives.WriteUInt16LittleEndian(d[16..], UsedDirsCount);
        BinaryPrimitives.WriteUInt16LittleEndian(d[18..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(d[20..], ExcludeBitmap);
        BinaryPrimitives.WriteUInt16LittleEndian(d[24..], BlockBitmapChecksum);
        BinaryPrimitives.WriteUInt16LittleEndian(d[26..], InodeBitmapChecksum);
        BinaryPrimitives.WriteUInt16LittleEndian(d[28..], InodeTableUnused);
        BinaryPrimitives.WriteUInt16LittleEndian(d[30..], Checksum);
    }
}
