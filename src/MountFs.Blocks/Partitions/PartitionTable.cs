using System.IO.Hashing;

namespace MountFs.Blocks.Partitions;

public enum PartitionScheme
{
    /// <summary>No partition table: the device is one file system, or empty.</summary>
    None,
    Mbr,
    Gpt,
}

/// <summary>
/// The partitions of a disk, read from an MBR (primaries plus the logicals of an extended partition) or a GPT
/// (primary header, else the backup at the last LBA).
/// </summary>
public sealed record PartitionTable(PartitionScheme Scheme, string DiskIdentifier, IReadOnlyList<Partition> Partitions, IReadOnlyList<string> Warnings)
{
    private const int MaxLogicalPartitions = 128;
    private const long MaxEntryArrayBytes = 4 << 20;

    /// <summary>
    /// Reads the partition table of <paramref name="disk"/>. Never throws for bad on-disk data: a table that is
    /// present but inconsistent (bad CRCs on both GPT copies, partitions past the disk end or overlapping, an EBR
    /// loop, …) gives a result whose <see cref="PartitionTableReadResult.Error"/> says what is wrong.
    /// A disk without a recognisable table gives <see cref="PartitionScheme.None"/>.
    /// </summary>
    public static PartitionTableReadResult Read(IBlockDevice disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        int sectorSize = disk.SectorSize;
        long sectors = disk.Length / sectorSize;
        if (sectorSize < MasterBootRecord.Size || sectors < 1)
            return NoTable();
        try
        {
            var sector0 = new byte[sectorSize];
            disk.Read(0, sector0);
            if (!MasterBootRecord.HasBootSignature(sector0))
                return NoTable();
            var mbr = MasterBootRecord.Read(sector0);
            // A FAT or NTFS boot sector also ends in 55 AA; real MBR entries have status 0x00 or 0x80.
            if (mbr.Entries.Any(e => e.Status is not (0x00 or 0x80)) || mbr.Entries.All(e => e.IsEmpty))
                return NoTable();
            if (mbr.Entries.Any(e => e.Type == MbrPartitionEntry.TypeGptProtective))
                return ReadGpt(disk, sectors);
            var result = ReadMbr(disk, mbr, sectors);
            // A boot sector whose "entries" are only boot code that happens to pass the status check.
            if (result.Error is not null && LooksLikeVolumeBootRecord(sector0))
                return NoTable();
            return result;
        }
        catch (IOException e)
        {
            return PartitionTableReadResult.Corrupt($"{disk.Name}: cannot read the partition table: {e.Message}");
        }
    }

    private static PartitionTableReadResult NoTable() => PartitionTableReadResult.Found(new PartitionTable(PartitionScheme.None, "", [], []));

    private static bool LooksLikeVolumeBootRecord(ReadOnlySpan<byte> sector) =>
        sector[0] is 0xEB or 0xE9 && (sector.Slice(0x36, 3).SequenceEqual("FAT"u8) || sector.Slice(0x52, 3).SequenceEqual("FAT"u8) || sector.Slice(3, 4).SequenceEqual("NTFS"u8));

    private static PartitionTableReadResult ReadMbr(IBlockDevice disk, MasterBootRecord mbr, long diskSectors)
    {
        int sectorSize = disk.SectorSize;
        var partitions = new List<Partition>();
        var warnings = new List<string>();
        MbrPartitionEntry? extended = null;
        for (int i = 0; i < 4; i++)
        {
            var entry = mbr.Entries[i];
            if (entry.IsEmpty)
                continue;
            if (entry.SectorCount == 0)
            {
                warnings.Add($"partition {i + 1} has no sectors and is ignored");
                continue;
            }
            if (entry.FirstLba == 0)
                return PartitionTableReadResult.Corrupt($"{disk.Name}: MBR partition {i + 1} starts at sector 0, over the MBR itself");
            if ((long)entry.FirstLba + entry.SectorCount > diskSectors)
                return PartitionTableReadResult.Corrupt($"{disk.Name}: MBR partition {i + 1} (sectors {entry.FirstLba}+{entry.SectorCount}) passes the disk end ({diskSectors} sectors)");
            if (entry.IsExtended)
            {
                if (extended is not null)
                    return PartitionTableReadResult.Corrupt($"{disk.Name}: MBR has more than one extended partition");
                extended = entry;
                continue;
            }
            partitions.Add(FromMbr(i + 1, entry, entry.FirstLba, sectorSize, logical: false));
        }

        if (extended is MbrPartitionEntry container)
        {
            string? error = ReadLogicals(disk, container, partitions);
            if (error is not null)
                return PartitionTableReadResult.Corrupt($"{disk.Name}: {error}");
        }

        string? overlap = FindOverlap(partitions);
        if (overlap is not null)
            return PartitionTableReadResult.Corrupt($"{disk.Name}: {overlap}");
        return PartitionTableReadResult.Found(new PartitionTable(PartitionScheme.Mbr, $"0x{mbr.DiskSignature:x8}", partitions, warnings));
    }

    /// <summary>Walks the EBR chain: each EBR's first entry is a logical partition relative to that EBR, its second
    /// links to the next EBR relative to the extended partition's start.</summary>
    private static string? ReadLogicals(IBlockDevice disk, MbrPartitionEntry container, List<Partition> partitions)
    {
        long start = container.FirstLba, end = start + container.SectorCount;
        var sector = new byte[disk.SectorSize];
        var visited = new HashSet<long>();
        long ebr = start;
        for (int number = 5; ; number++)
        {
            if (!visited.Add(ebr) || visited.Count > MaxLogicalPartitions)
                return $"the extended partition's EBR chain loops or is longer than {MaxLogicalPartitions} links (at sector {ebr})";
            if (ebr < start || ebr >= end)
                return $"EBR at sector {ebr} lies outside the extended partition";
            disk.Read(ebr * disk.SectorSize, sector);
            if (!MasterBootRecord.HasBootSignature(sector))
                return $"EBR at sector {ebr} lacks the 55 AA signature";
            var record = MasterBootRecord.Read(sector);
            var logical = record.Entries[0];
            if (!logical.IsEmpty && logical.SectorCount > 0)
            {
                long first = ebr + logical.FirstLba;
                if (logical.FirstLba == 0 || first + logical.SectorCount > end)
                    return $"logical partition {number} (sectors {first}+{logical.SectorCount}) lies outside the extended partition";
                partitions.Add(FromMbr(number, logical, first, disk.SectorSize, logical: true));
            }
            var link = record.Entries[1];
            if (link.IsEmpty || !link.IsExtended)
                return null;
            ebr = start + link.FirstLba;
        }
    }

    private static Partition FromMbr(int number, MbrPartitionEntry entry, long firstLba, int sectorSize, bool logical) =>
        new(number, firstLba, entry.SectorCount, sectorSize, entry.Type, Guid.Empty, Guid.Empty, "", entry.IsActive, logical, 0);

    private static PartitionTableReadResult ReadGpt(IBlockDevice disk, long diskSectors)
    {
        var warnings = new List<string>();
        var primary = ReadGptCopy(disk, 1, diskSectors);
        var backup = ReadGptCopy(disk, diskSectors - 1, diskSectors);
        GptCopy chosen;
        if (primary.Error is null)
        {
            chosen = primary;
            if (backup.Error is not null)
                warnings.Add($"backup GPT header unusable ({backup.Error})");
        }
        else if (backup.Error is null)
        {
            chosen = backup;
            warnings.Add($"primary GPT header unusable ({primary.Error}); using the backup at sector {diskSectors - 1}");
        }
        else
        {
            return PartitionTableReadResult.Corrupt($"{disk.Name}: protective MBR but no valid GPT: primary: {primary.Error}; backup: {backup.Error}");
        }

        var header = chosen.Header!;
        var partitions = new List<Partition>();
        for (int i = 0; i < chosen.Entries!.Count; i++)
        {
            var entry = chosen.Entries[i];
            if (entry.IsUnused)
                continue;
            if (entry.FirstLba > entry.LastLba)
                return PartitionTableReadResult.Corrupt($"{disk.Name}: GPT partition {i + 1} ends (sector {entry.LastLba}) before it starts (sector {entry.FirstLba})");
            if (entry.FirstLba < header.FirstUsableLba || entry.LastLba > header.LastUsableLba)
                return PartitionTableReadResult.Corrupt($"{disk.Name}: GPT partition {i + 1} (sectors {entry.FirstLba}..{entry.LastLba}) lies outside the usable area {header.FirstUsableLba}..{header.LastUsableLba}");
            partitions.Add(new Partition(i + 1, (long)entry.FirstLba, (long)(entry.LastLba - entry.FirstLba + 1), disk.SectorSize, 0,
                entry.TypeGuid, entry.UniqueGuid, entry.Name, (entry.Attributes & 4) != 0, false, entry.Attributes));
        }
        string? overlap = FindOverlap(partitions);
        if (overlap is not null)
            return PartitionTableReadResult.Corrupt($"{disk.Name}: {overlap}");
        return PartitionTableReadResult.Found(new PartitionTable(PartitionScheme.Gpt, header.DiskGuid.ToString().ToLowerInvariant(), partitions, warnings));
    }

    private sealed record GptCopy(GptHeader? Header, IReadOnlyList<GptPartitionEntry>? Entries, string? Error);

    private static GptCopy ReadGptCopy(IBlockDevice disk, long lba, long diskSectors)
    {
        int sectorSize = disk.SectorSize;
        if (lba < 1 || lba >= diskSectors)
            return new GptCopy(null, null, $"sector {lba} is outside the disk");
        var sector = new byte[sectorSize];
        disk.Read(lba * sectorSize, sector);
        if (!GptHeader.HasSignature(sector))
            return new GptCopy(null, null, $"no \"EFI PART\" signature at sector {lba}");
        var header = GptHeader.Read(sector);
        if (header.HeaderSize < GptHeader.Size || header.HeaderSize > sectorSize)
            return new GptCopy(null, null, $"header size {header.HeaderSize} at sector {lba} is invalid");
        if (GptHeader.ComputeHeaderCrc(sector, (int)header.HeaderSize) != header.HeaderCrc32)
            return new GptCopy(null, null, $"header CRC mismatch at sector {lba}");
        if (header.MyLba != (ulong)lba)
            return new GptCopy(null, null, $"header at sector {lba} claims to be at sector {header.MyLba}");
        if (header.FirstUsableLba > header.LastUsableLba || header.LastUsableLba >= (ulong)diskSectors)
            return new GptCopy(null, null, $"usable area {header.FirstUsableLba}..{header.LastUsableLba} does not fit the disk of {diskSectors} sectors");
        if (header.SizeOfPartitionEntry < GptPartitionEntry.Size || header.SizeOfPartitionEntry % 8 != 0 || header.SizeOfPartitionEntry > 4096)
            return new GptCopy(null, null, $"partition entry size {header.SizeOfPartitionEntry} is invalid");
        long arrayBytes = (long)header.NumberOfPartitionEntries * header.SizeOfPartitionEntry;
        if (arrayBytes > MaxEntryArrayBytes)
            return new GptCopy(null, null, $"partition entry array of {arrayBytes} bytes is implausibly large");
        long arraySectors = (arrayBytes + sectorSize - 1) / sectorSize;
        if (arraySectors > diskSectors - 2 || header.PartitionEntryLba < 2 || header.PartitionEntryLba > (ulong)(diskSectors - arraySectors)
            || ((ulong)lba >= header.PartitionEntryLba && (ulong)lba < header.PartitionEntryLba + (ulong)arraySectors))
            return new GptCopy(null, null, $"partition entry array at sector {header.PartitionEntryLba} ({arraySectors} sectors) does not fit the disk");
        var array = new byte[arraySectors * sectorSize];
        disk.Read((long)header.PartitionEntryLba * sectorSize, array);
        if (Crc32.HashToUInt32(array.AsSpan(0, (int)arrayBytes)) != header.PartitionEntryArrayCrc32)
            return new GptCopy(null, null, $"partition entry array CRC mismatch (array at sector {header.PartitionEntryLba})");
        var entries = new GptPartitionEntry[header.NumberOfPartitionEntries];
        for (int i = 0; i < entries.Length; i++)
            entries[i] = GptPartitionEntry.Read(array.AsSpan(i * (int)header.SizeOfPartitionEntry, GptPartitionEntry.Size));
        return new GptCopy(header, entries, null);
    }

    private static string? FindOverlap(List<Partition> partitions)
    {
        var sorted = partitions.OrderBy(p => p.FirstLba).ToArray();
        for (int i = 1; i < sorted.Length; i++)
            if (sorted[i].FirstLba < sorted[i - 1].FirstLba + sorted[i - 1].SectorCount)
                return $"partitions {sorted[i - 1].Number} and {sorted[i].Number} overlap";
        return null;
    }
}

/// <summary>What <see cref="PartitionTable.Read"/> found: a table (possibly of scheme None), or why the table on
/// the disk cannot be trusted.</summary>
public sealed record PartitionTableReadResult(PartitionTable? Table, string? Error)
{
    public static PartitionTableReadResult Found(PartitionTable table) => new(table, null);

    public static PartitionTableReadResult Corrupt(string error) => new(null, error);

    public bool IsCorrupt => Error is not null;
}
