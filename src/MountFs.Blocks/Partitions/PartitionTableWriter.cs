using System.IO.Hashing;

namespace MountFs.Blocks.Partitions;

/// <summary>A partition to create with <see cref="PartitionTableWriter.WriteMbr"/>.</summary>
public sealed record MbrPartitionSpec(long FirstLba, long SectorCount, byte Type, bool Bootable = false);

/// <summary>A partition to create with <see cref="PartitionTableWriter.WriteGpt"/>; LastLba is inclusive.
/// A null UniqueGuid gets a fresh random one.</summary>
public sealed record GptPartitionSpec(long FirstLba, long LastLba, Guid TypeGuid, string Name = "", Guid? UniqueGuid = null, ulong Attributes = 0);

/// <summary>
/// Writes new MBR (up to four primary partitions) and GPT (protective MBR, 128-entry arrays, both headers)
/// partition tables that <c>sfdisk --verify</c> and <c>sgdisk -v</c> accept.
/// </summary>
public static class PartitionTableWriter
{
    /// <summary>Sectors to leave in front of the first partition, as fdisk does (1 MiB with 512-byte sectors).</summary>
    public const long DefaultFirstLba = 2048;

    private const int GptEntryCount = 128;

    /// <summary>Writes an MBR with up to four primary partitions, keeping any boot code, then flushes.</summary>
    /// <exception cref="ArgumentException">Partitions overlap, pass the disk end or the 2^32-sector limit, or start at 0.</exception>
    public static void WriteMbr(IBlockDevice disk, IReadOnlyList<MbrPartitionSpec> partitions, uint diskSignature)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(partitions);
        if (partitions.Count > 4)
            throw new ArgumentException("an MBR holds at most four primary partitions", nameof(partitions));
        long diskSectors = disk.Length / disk.SectorSize;
        Validate(partitions.Select(p => (p.FirstLba, p.SectorCount)).ToArray(), 1, Math.Min(diskSectors, 1L << 32) - 1);
        var entries = partitions.Select(p => new MbrPartitionEntry(
            (byte)(p.Bootable ? 0x80 : 0), MbrPartitionEntry.ChsFor(p.FirstLba), p.Type,
            MbrPartitionEntry.ChsFor(p.FirstLba + p.SectorCount - 1), (uint)p.FirstLba, (uint)p.SectorCount)).ToArray();
        var sector = new byte[disk.SectorSize];
        disk.Read(0, sector);
        new MasterBootRecord(diskSignature, entries).Write(sector);
        disk.Write(0, sector);
        disk.Flush();
    }

    /// <summary>Writes a GPT: backup array, backup header, primary array, primary header, protective MBR (the order
    /// UEFI recommends so a crash leaves one valid copy), then flushes.</summary>
    /// <exception cref="ArgumentException">Partitions overlap or leave the usable area, or a name is too long.</exception>
    public static void WriteGpt(IBlockDevice disk, IReadOnlyList<GptPartitionSpec> partitions, Guid diskGuid)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(partitions);
        if (partitions.Count > GptEntryCount)
            throw new ArgumentException($"at most {GptEntryCount} GPT partitions", nameof(partitions));
        int sectorSize = disk.SectorSize;
        long diskSectors = disk.Length / sectorSize;
        long arraySectors = (long)GptEntryCount * GptPartitionEntry.Size / sectorSize;
        long firstUsable = 2 + arraySectors, lastUsable = diskSectors - 2 - arraySectors;
        if (lastUsable < firstUsable)
            throw new ArgumentException($"{disk.Name}: too small for a GPT ({diskSectors} sectors)");
        Validate(partitions.Select(p => (p.FirstLba, p.LastLba - p.FirstLba + 1)).ToArray(), firstUsable, lastUsable);

        var array = new byte[arraySectors * sectorSize];
        for (int i = 0; i < partitions.Count; i++)
        {
            var p = partitions[i];
            new GptPartitionEntry(p.TypeGuid, p.UniqueGuid ?? Guid.NewGuid(), (ulong)p.FirstLba, (ulong)p.LastLba, p.Attributes, p.Name)
                .Write(array.AsSpan(i * GptPartitionEntry.Size, GptPartitionEntry.Size));
        }
        uint arrayCrc = Crc32.HashToUInt32(array);
        long backupArrayLba = diskSectors - 1 - arraySectors;
        var primary = new GptHeader
        {
            MyLba = 1,
            AlternateLba = (ulong)(diskSectors - 1),
            FirstUsableLba = (ulong)firstUsable,
            LastUsableLba = (ulong)lastUsable,
            DiskGuid = diskGuid,
            PartitionEntryLba = 2,
            NumberOfPartitionEntries = GptEntryCount,
            SizeOfPartitionEntry = GptPartitionEntry.Size,
            PartitionEntryArrayCrc32 = arrayCrc,
        }.WithCrc();
        var backup = (primary with { MyLba = primary.AlternateLba, AlternateLba = 1, PartitionEntryLba = (ulong)backupArrayLba }).WithCrc();

        var headerSector = new byte[sectorSize];
        disk.Write(backupArrayLba * sectorSize, array);
        backup.Write(headerSector);
        disk.Write((diskSectors - 1) * sectorSize, headerSector);
        disk.Write(2L * sectorSize, array);
        Array.Clear(headerSector);
        primary.Write(headerSector);
        disk.Write(sectorSize, headerSector);

        var mbr = new byte[sectorSize];
        disk.Read(0, mbr);
        long protectiveSectors = Math.Min(diskSectors - 1, uint.MaxValue);
        new MasterBootRecord(0, [new MbrPartitionEntry(0, MbrPartitionEntry.ChsFor(1), MbrPartitionEntry.TypeGptProtective,
            MbrPartitionEntry.ChsFor(protectiveSectors), 1, (uint)protectiveSectors)]).Write(mbr);
        disk.Write(0, mbr);
        disk.Flush();
    }

    private static void Validate((long First, long Count)[] partitions, long firstUsable, long lastUsable)
    {
        foreach (var (first, count) in partitions)
            if (count < 1 || first < firstUsable || first > lastUsable || count - 1 > lastUsable - first)
                throw new ArgumentException($"partition at sector {first} of {count} sectors is outside the usable sectors {firstUsable}..{lastUsable}");
        var sorted = partitions.OrderBy(p => p.First).ToArray();
        for (int i = 1; i < sorted.Length; i++)
            if (sorted[i].First < sorted[i - 1].First + sorted[i - 1].Count)
                throw new ArgumentException($"partitions at sectors {sorted[i - 1].First} and {sorted[i].First} overlap");
    }
}
