using System.Buffers.Binary;
using System.IO.Hashing;

namespace MountFs.Blocks.Partitions;

/// <summary>
/// The GPT header (UEFI 2.10 §5.3.2), at LBA 1 and, as a backup, at the last LBA. All fields little-endian:
/// 0 "EFI PART"; 8 revision; 12 header size; 16 header CRC32; 20 reserved; 24 MyLBA; 32 AlternateLBA;
/// 40 FirstUsableLBA; 48 LastUsableLBA; 56 DiskGUID; 72 PartitionEntryLBA; 80 NumberOfPartitionEntries;
/// 84 SizeOfPartitionEntry; 88 PartitionEntryArrayCRC32.
/// </summary>
public sealed record GptHeader
{
    public const int Size = 92;
    public const uint Revision1 = 0x0001_0000;
    public static ReadOnlySpan<byte> Signature => "EFI PART"u8;

    public uint Revision { get; init; } = Revision1;
    public uint HeaderSize { get; init; } = Size;
    public uint HeaderCrc32 { get; init; }
    public ulong MyLba { get; init; }
    public ulong AlternateLba { get; init; }
    public ulong FirstUsableLba { get; init; }
    public ulong LastUsableLba { get; init; }
    public Guid DiskGuid { get; init; }
    public ulong PartitionEntryLba { get; init; }
    public uint NumberOfPartitionEntries { get; init; }
    public uint SizeOfPartitionEntry { get; init; }
    public uint PartitionEntryArrayCrc32 { get; init; }

    /// <summary>True when the sector starts with "EFI PART".</summary>
    public static bool HasSignature(ReadOnlySpan<byte> sector) => sector.Length >= 8 && sector[..8].SequenceEqual(Signature);

    /// <summary>Decodes the fields; the caller checks signature, sizes and CRC (see <see cref="ComputeHeaderCrc"/>).</summary>
    public static GptHeader Read(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < Size)
            throw new ArgumentException($"a GPT header needs {Size} bytes, got {sector.Length}", nameof(sector));
        return new GptHeader
        {
            Revision = BinaryPrimitives.ReadUInt32LittleEndian(sector[8..]),
            HeaderSize = BinaryPrimitives.ReadUInt32LittleEndian(sector[12..]),
            HeaderCrc32 = BinaryPrimitives.ReadUInt32LittleEndian(sector[16..]),
            MyLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[24..]),
            AlternateLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[32..]),
            FirstUsableLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[40..]),
            LastUsableLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[48..]),
            DiskGuid = new Guid(sector.Slice(56, 16)),
            PartitionEntryLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[72..]),
            NumberOfPartitionEntries = BinaryPrimitives.ReadUInt32LittleEndian(sector[80..]),
            SizeOfPartitionEntry = BinaryPrimitives.ReadUInt32LittleEndian(sector[84..]),
            PartitionEntryArrayCrc32 = BinaryPrimitives.ReadUInt32LittleEndian(sector[88..]),
        };
    }

    /// <summary>Writes the header into the start of a sector (the rest of which must be zero), with
    /// <see cref="HeaderCrc32"/> as stored in this record; use <see cref="WithCrc"/> first to get a valid one.</summary>
    public void Write(Span<byte> sector)
    {
        if (sector.Length < Size)
            throw new ArgumentException($"a GPT header needs {Size} bytes, got {sector.Length}", nameof(sector));
        Signature.CopyTo(sector);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[8..], Revision);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[12..], HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[16..], HeaderCrc32);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[20..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[24..], MyLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[32..], AlternateLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[40..], FirstUsableLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[48..], LastUsableLba);
        DiskGuid.TryWriteBytes(sector.Slice(56, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(sector[72..], PartitionEntryLba);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[80..], NumberOfPartitionEntries);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[84..], SizeOfPartitionEntry);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[88..], PartitionEntryArrayCrc32);
    }

    /// <summary>This header with <see cref="HeaderCrc32"/> recomputed (header size must be 92 for writing).</summary>
    public GptHeader WithCrc()
    {
        Span<byte> bytes = stackalloc byte[Size];
        var sized = this with { HeaderSize = Size };
        sized.Write(bytes);
        return sized with { HeaderCrc32 = ComputeHeaderCrc(bytes, Size) };
    }

    /// <summary>CRC32 of the first HeaderSize bytes of a stored header with its CRC field taken as zero.</summary>
    public static uint ComputeHeaderCrc(ReadOnlySpan<byte> sector, int headerSize)
    {
        var crc = new Crc32();
        crc.Append(sector[..16]);
        crc.Append([0, 0, 0, 0]);
        crc.Append(sector[20..headerSize]);
        return crc.GetCurrentHashAsUInt32();
    }
}
