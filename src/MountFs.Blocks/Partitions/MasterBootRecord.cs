using System.Buffers.Binary;

namespace MountFs.Blocks.Partitions;

/// <summary>
/// Sector 0 of an MBR disk (and the layout of every EBR): 0..439 boot code, 440 disk signature u32 LE,
/// 444 two reserved bytes, 446 four <see cref="MbrPartitionEntry"/>, 510 boot signature 0x55 0xAA.
/// </summary>
public sealed record MasterBootRecord(uint DiskSignature, IReadOnlyList<MbrPartitionEntry> Entries)
{
    public const int Size = 512;
    public const int DiskSignatureOffset = 440;
    public const int EntriesOffset = 446;
    public const int BootSignatureOffset = 510;

    /// <summary>True when the sector ends in 0x55 0xAA (a boot sector of some kind, not necessarily an MBR).</summary>
    public static bool HasBootSignature(ReadOnlySpan<byte> sector) =>
        sector.Length >= Size && sector[BootSignatureOffset] == 0x55 && sector[BootSignatureOffset + 1] == 0xAA;

    public static MasterBootRecord Read(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < Size)
            throw new ArgumentException($"an MBR needs {Size} bytes, got {sector.Length}", nameof(sector));
        var entries = new MbrPartitionEntry[4];
        for (int i = 0; i < 4; i++)
            entries[i] = MbrPartitionEntry.Read(sector.Slice(EntriesOffset + i * MbrPartitionEntry.Size, MbrPartitionEntry.Size));
        return new MasterBootRecord(BinaryPrimitives.ReadUInt32LittleEndian(sector[DiskSignatureOffset..]), entries);
    }

    /// <summary>Writes signature, entries and boot signature; the boot code (bytes 0..439) is left as it is.</summary>
    public void Write(Span<byte> sector)
    {
        if (sector.Length < Size)
            throw new ArgumentException($"an MBR needs {Size} bytes, got {sector.Length}", nameof(sector));
        if (Entries.Count > 4)
            throw new ArgumentException("an MBR holds at most four entries");
        BinaryPrimitives.WriteUInt32LittleEndian(sector[DiskSignatureOffset..], DiskSignature);
        sector.Slice(DiskSignatureOffset + 4, 2).Clear();
        sector.Slice(EntriesOffset, 4 * MbrPartitionEntry.Size).Clear();
        for (int i = 0; i < Entries.Count; i++)
            Entries[i].Write(sector.Slice(EntriesOffset + i * MbrPartitionEntry.Size, MbrPartitionEntry.Size));
        sector[BootSignatureOffset] = 0x55;
        sector[BootSignatureOffset + 1] = 0xAA;
    }
}
