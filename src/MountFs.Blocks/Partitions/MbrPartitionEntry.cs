using System.Buffers.Binary;

namespace MountFs.Blocks.Partitions;

/// <summary>
/// One 16-byte partition entry of an MBR or EBR: 0 status (0x80 active), 1 CHS of the first sector (3 bytes),
/// 4 type, 5 CHS of the last sector, 8 first LBA u32 LE, 12 sector count u32 LE.
/// </summary>
public readonly record struct MbrPartitionEntry(byte Status, uint FirstChs, byte Type, uint LastChs, uint FirstLba, uint SectorCount)
{
    public const int Size = 16;

    public const byte TypeEmpty = 0x00;
    public const byte TypeFat12 = 0x01;
    public const byte TypeFat16Small = 0x04;
    public const byte TypeExtendedChs = 0x05;
    public const byte TypeFat16 = 0x06;
    public const byte TypeFat32Chs = 0x0B;
    public const byte TypeFat32Lba = 0x0C;
    public const byte TypeFat16Lba = 0x0E;
    public const byte TypeExtendedLba = 0x0F;
    public const byte TypeLinux = 0x83;
    public const byte TypeLinuxExtended = 0x85;
    public const byte TypeGptProtective = 0xEE;

    public bool IsEmpty => Type == TypeEmpty;
    public bool IsActive => Status == 0x80;
    public bool IsExtended => Type is TypeExtendedChs or TypeExtendedLba or TypeLinuxExtended;

    public static MbrPartitionEntry Read(ReadOnlySpan<byte> entry)
    {
        if (entry.Length < Size)
            throw new ArgumentException($"an MBR entry needs {Size} bytes, got {entry.Length}", nameof(entry));
        return new MbrPartitionEntry(
            entry[0], ReadChs(entry[1..4]), entry[4], ReadChs(entry[5..8]),
            BinaryPrimitives.ReadUInt32LittleEndian(entry[8..12]),
            BinaryPrimitives.ReadUInt32LittleEndian(entry[12..16]));
    }

    public void Write(Span<byte> entry)
    {
        if (entry.Length < Size)
            throw new ArgumentException($"an MBR entry needs {Size} bytes, got {entry.Length}", nameof(entry));
        entry[0] = Status;
        WriteChs(entry[1..4], FirstChs);
        entry[4] = Type;
        WriteChs(entry[5..8], LastChs);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[8..12], FirstLba);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[12..16], SectorCount);
    }

    /// <summary>The 3 CHS bytes (head, sector | cylinder high bits, cylinder low) for an LBA under the usual
    /// 255-head, 63-sector translation; FE FF FF past cylinder 1023, as fdisk writes it.</summary>
    public static uint ChsFor(long lba)
    {
        const int heads = 255, sectors = 63;
        long cylinder = lba / (heads * sectors);
        if (cylinder > 1023)
            return 0xFE | 0xFF << 8 | 0xFF << 16;
        uint head = (uint)(lba / sectors % heads);
        uint sector = (uint)(lba % sectors + 1);
        return head | (sector | (uint)(cylinder >> 2 & 0xC0)) << 8 | (uint)(cylinder & 0xFF) << 16;
    }

    private static uint ReadChs(ReadOnlySpan<byte> chs) => (uint)(chs[0] | chs[1] << 8 | chs[2] << 16);

    private static void WriteChs(Span<byte> chs, uint value)
    {
        chs[0] = (byte)value;
        chs[1] = (byte)(value >> 8);
        chs[2] = (byte)(value >> 16);
    }
}
