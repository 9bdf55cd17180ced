namespace MountFs.Blocks.Partitions;

/// <summary>One partition found by <see cref="PartitionTable.Read"/>.</summary>
/// <param name="Number">As Linux numbers them: MBR primaries 1-4, logicals from 5; GPT entry index + 1.</param>
/// <param name="FirstLba">First sector, in units of <paramref name="SectorSize"/>.</param>
/// <param name="SectorCount">Length in sectors.</param>
/// <param name="MbrType">MBR type byte (0 on GPT).</param>
/// <param name="TypeGuid">GPT type GUID (empty on MBR).</param>
/// <param name="UniqueGuid">GPT partition GUID (empty on MBR).</param>
/// <param name="Name">GPT name ("" on MBR).</param>
/// <param name="Bootable">MBR active flag, or GPT attribute bit 2 (legacy BIOS bootable).</param>
/// <param name="IsLogical">An MBR logical partition inside the extended one.</param>
public sealed record Partition(
    int Number, long FirstLba, long SectorCount, int SectorSize, byte MbrType, Guid TypeGuid, Guid UniqueGuid,
    string Name, bool Bootable, bool IsLogical, ulong Attributes)
{
    /// <summary>Byte offset of the partition on the disk.</summary>
    public long Offset => FirstLba * SectorSize;

    /// <summary>Length in bytes.</summary>
    public long Length => SectorCount * SectorSize;

    /// <summary>"83 Linux", "Linux filesystem (0fc63daf-…)" and so on, for listings.</summary>
    public string TypeDescription => TypeGuid != Guid.Empty
        ? $"{GptTypeName(TypeGuid)} ({TypeGuid.ToString().ToLowerInvariant()})"
        : $"{MbrType:x2} {MbrTypeName(MbrType)}";

    /// <summary>The partition as a device of its own; every access stays inside it. The disk stays open when the
    /// view is disposed.</summary>
    public BoundedBlockDevice Open(IBlockDevice disk, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(disk);
        if (disk.SectorSize != SectorSize)
            throw new ArgumentException($"{disk.Name}: sector size {disk.SectorSize}, partition table uses {SectorSize}");
        return new BoundedBlockDevice(disk, Offset, Length, leaveOpen: true, readOnly, $"{disk.Name} partition {Number}");
    }

    public static string MbrTypeName(byte type) => type switch
    {
        MbrPartitionEntry.TypeFat12 => "FAT12",
        MbrPartitionEntry.TypeFat16Small or MbrPartitionEntry.TypeFat16 => "FAT16",
        MbrPartitionEntry.TypeFat16Lba => "FAT16 (LBA)",
        MbrPartitionEntry.TypeFat32Chs => "FAT32",
        MbrPartitionEntry.TypeFat32Lba => "FAT32 (LBA)",
        MbrPartitionEntry.TypeExtendedChs or MbrPartitionEntry.TypeExtendedLba => "Extended",
        0x07 => "NTFS/exFAT",
        0x82 => "Linux swap",
        MbrPartitionEntry.TypeLinux => "Linux",
        MbrPartitionEntry.TypeLinuxExtended => "Linux extended",
        0x8E => "Linux LVM",
        0xEF => "EFI System",
        0xFD => "Linux RAID",
        MbrPartitionEntry.TypeGptProtective => "GPT protective",
        _ => "unknown",
    };

    public static string GptTypeName(Guid type) =>
        type == GptPartitionEntry.LinuxFileSystem ? "Linux filesystem"
        : type == GptPartitionEntry.EfiSystem ? "EFI System"
        : type == GptPartitionEntry.MicrosoftBasicData ? "Microsoft basic data"
        : type == GptPartitionEntry.LinuxSwap ? "Linux swap"
        : "unknown";
}
