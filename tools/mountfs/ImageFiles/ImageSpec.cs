using System.Globalization;
using MountFs.Blocks;
using MountFs.Blocks.Partitions;

namespace MountFs.Tool.ImageFiles;

/// <summary>
/// What an IMAGE operand names: an image file or block device, or with "@N" partition N of a
/// partitioned one ("disk.img@2", numbered as Linux numbers them: MBR 1-4 and logicals from 5, GPT from 1).
/// </summary>
public sealed record ImageSpec(string Path, int? Partition)
{
    /// <summary>The spec for <paramref name="operand"/>, or null when it names nothing that exists.</summary>
    public static ImageSpec? TryParse(string operand)
    {
        if (File.Exists(operand) && !Directory.Exists(operand)) return new ImageSpec(operand, null);
        if (SplitPartition(operand) is not var (path, number)) return null;
        return File.Exists(path) && !Directory.Exists(path) ? new ImageSpec(path, number) : null;
    }

    /// <summary>"PATH@N" with a non-empty PATH and N of one to three ASCII digits, split at the last '@'; else null.
    /// Parsed by hand: a regular expression here linked the whole regex engine (0.2 MB) into the native tool,
    /// whose every start reads the whole executable from a cold cache.</summary>
    public static (string Path, int Number)? SplitPartition(string operand)
    {
        int at = operand.LastIndexOf('@');
        if (at < 1) return null;
        var digits = operand.AsSpan(at + 1);
        if (digits.Length is < 1 or > 3 || digits.ContainsAnyExceptInRange('0', '9')) return null;
        return (operand[..at], int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture));
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
}
