using System.Globalization;
using System.Text.RegularExpressions;
using MountFs.Blocks;
using MountFs.Blocks.Partitions;

namespace MountFs.Tool.ImageFiles;

/// <summary>
/// What an IMAGE operand names: an image file or block device, or with "@N" partition N of a
/// partitioned one ("disk.img@2", numbered as Linux numbers them: MBR 1-4 and logicals from 5, GPT from 1).
/// </summary>
public sealed partial record ImageSpec(string Path, int? Partition)
{
    /// <summary>The spec for <paramref name="operand"/>, or null when it names nothing that exists.</summary>
    public static ImageSpec? TryParse(string operand)
    {
        if (File.Exists(operand) && !Directory.Exists(operand)) return new ImageSpec(operand, null);
        var match = PartitionSuffix().Match(operand);
        if (match.Success && File.Exists(match.Groups[1].Value) && !Directory.Exists(match.Groups[1].Value)
            && int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
            return new ImageSpec(match.Groups[1].Value, number);
        return null;
    }

    public static bool Exists(string operand) => TryParse(operand) is not null;

    /// <summary>
    /// Opens the image (or the partition, as a bounded view), turning the usual failures into one-line errors.
    /// </summary>
    /// <param name="openDisk">Supplies a partition's disk and keeps owning it; when null the view owns a disk of its own.</param>
    public static IBlockDevice Open(string operand, bool writable, Func<string, bool, FileBlockDevice>? openDisk = null)
    {
        var spec = TryParse(operand);
        if (spec?.Partition is not int number) return ImageSessions.OpenDevice(operand, writable);
        bool shared = openDisk is not null;
        var disk = openDisk?.Invoke(spec.Path, writable) ?? ImageSessions.OpenDevice(spec.Path, writable);
        try
        {
            var read = PartitionTable.Read(disk);
            if (read.Table is not { Scheme: not PartitionScheme.None } table)
                throw new ToolException(spec.Path, read.Error ?? "has no partition table");
            var partition = table.Partitions.FirstOrDefault(p => p.Number == number)
                ?? throw new ToolException(operand, $"no such partition (the disk has {string.Join(", ", table.Partitions.Select(p => p.Number))})");
            if (partition.SectorSize != disk.SectorSize)
                throw new ToolException(operand, $"partition table uses {partition.SectorSize}-byte sectors, the device {disk.SectorSize}");
            return new BoundedBlockDevice(disk, partition.Offset, partition.Length, leaveOpen: shared, readOnly: !writable, name: operand);
        }
        catch
        {
            if (!shared) disk.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"^(.+)@(\d{1,3})$")]
    private static partial Regex PartitionSuffix();
}
