using System.CommandLine;
using System.Globalization;
using MountFs.Blocks;
using MountFs.Blocks.Partitions;
using MountFs.Tool.ImageFiles;
using MountFs.Vfs;
using Spectre.Console;

namespace MountFs.Tool.Commands;

/// <summary>`mountfs info IMAGE`: size, sparse allocation, partition table and file system of an image
/// (of each partition, on a partitioned disk).</summary>
public static class InfoCommand
{
    public static Command Create(ToolContext context)
    {
        var image = new Argument<string>("IMAGE") { Description = "Image file or block device; IMAGE@N for its partition N" };
        var command = new Command("info", "Show an image's size, allocation, partition table and file system") { image };
        command.SetAction(result =>
        {
            string path = result.GetRequiredValue(image);
            return CommandRunner.Run(context, path, () => Show(context, path));
        });
        return command;
    }

    private static int Show(ToolContext context, string path)
    {
        var rows = new List<(string Key, string Value)>();
        if (ImageSpec.TryParse(path) is { Partition: int number } spec)
        {
            using var partition = ImageSpec.Open(path, writable: false);
            rows.Add(("Image", path));
            rows.Add(("Kind", $"partition {number} of {spec.Path}" +
                (partition is BoundedBlockDevice view ? $", at byte {view.Offset.ToString(CultureInfo.InvariantCulture)}" : "")));
            rows.Add(("Size", $"{partition.Length} bytes ({SizeArgument.Format(partition.Length)})"));
            rows.Add(("Sector size", partition.SectorSize.ToString(CultureInfo.InvariantCulture)));
            DescribeFileSystem(context, path, partition, rows);
            Render(context, rows);
            return ExitCodes.Success;
        }
        using (var device = ImageSessions.OpenDevice(path, writable: false))
        {
            rows.Add(("Image", path));
            rows.Add(("Kind", device.IsBlockDevice ? "block device" : "image file"));
            rows.Add(("Size", $"{device.Length} bytes ({SizeArgument.Format(device.Length)})"));
            rows.Add(("Sector size", device.SectorSize.ToString(CultureInfo.InvariantCulture)));
            if (!device.IsBlockDevice)
            {
                long allocated = device.AllocatedBytes;
                double percent = device.Length == 0 ? 0 : 100.0 * allocated / device.Length;
                rows.Add(("Allocated", string.Create(CultureInfo.InvariantCulture,
                    $"{allocated} bytes ({SizeArgument.Format(allocated)}, {percent:0.0}%{(allocated < device.Length ? ", sparse" : "")})")));
            }
            var partitions = PartitionTable.Read(device);
            if (partitions.Table is { Scheme: not PartitionScheme.None } table)
            {
                rows.Add(("Partition table", $"{table.Scheme.ToString().ToLowerInvariant()}, disk id {table.DiskIdentifier}, {table.Partitions.Count} partition(s)"));
                foreach (string warning in table.Warnings) rows.Add(("Warning", warning));
                Render(context, rows);
                RenderPartitions(context, device, table);
                return ExitCodes.Success;
            }
            rows.Add(("Partition table", partitions.IsCorrupt ? $"unreadable: {partitions.Error}" : "none"));
            DescribeFileSystem(context, path, device, rows);
        }
        Render(context, rows);
        return ExitCodes.Success;
    }

    /// <summary>One row per partition, with the file system each holds.</summary>
    private static void RenderPartitions(ToolContext context, IBlockDevice device, PartitionTable table)
    {
        var grid = new Table().Border(context.Interactive ? TableBorder.Minimal : TableBorder.Ascii)
            .AddColumns("#", "Start", "Sectors", "Size", "Type", "Name", "File system");
        foreach (var partition in table.Partitions)
        {
            string fileSystem;
            try
            {
                using var view = partition.Open(device, readOnly: true);
                fileSystem = context.Registry.Probe(view)?.Name ?? "-";
            }
            catch (ArgumentException e)
            {
                fileSystem = $"cannot open: {e.Message}";
            }
            grid.AddRow(
                partition.Number.ToString(CultureInfo.InvariantCulture),
                partition.FirstLba.ToString(CultureInfo.InvariantCulture),
                partition.SectorCount.ToString(CultureInfo.InvariantCulture),
                SizeArgument.Format(partition.Length),
                Markup.Escape(partition.TypeDescription + (partition.Bootable ? ", bootable" : "")),
                Markup.Escape(partition.Name.Length == 0 ? "-" : partition.Name),
                Markup.Escape(fileSystem));
        }
        context.Console.Write(grid);
    }

    private static void DescribeFileSystem(ToolContext context, string path, IBlockDevice device, List<(string, string)> rows)
    {
        var layout = context.Registry.Probe(device);
        if (layout is null)
        {
            rows.Add(("File system", "none recognised"));
            return;
        }
        rows.Add(("File system", layout.Name));
        try
        {
            // Mount takes the device; a view keeps our handle (and its lock) for the caller to release.
            using var fileSystem = layout.Mount(new BoundedBlockDevice(device, 0, device.Length, leaveOpen: true, readOnly: true),
                new MountOptions { ReadOnly = true });
            var stats = fileSystem.GetStatistics();
            rows.Add(("Block size", stats.BlockSize.ToString(CultureInfo.InvariantCulture)));
            rows.Add(("Blocks", $"{stats.Blocks} total, {stats.BlocksFree} free, {stats.BlocksAvailable} available"));
            rows.Add(("Space", $"{SizeArgument.Format(stats.Blocks * stats.BlockSize)} total, {SizeArgument.Format(stats.BlocksFree * stats.BlockSize)} free"));
            // FAT, like the kernel's vfat, reports no inode counts: say so rather than "0 total".
            rows.Add(("Inodes", stats.Files == 0 && stats.FilesFree == 0 ? "not counted by this layout" : $"{stats.Files} total, {stats.FilesFree} free"));
            rows.Add(("Max name length", stats.MaxNameLength.ToString(CultureInfo.InvariantCulture)));
            rows.Add(("Features", Describe(fileSystem.Capabilities)));
        }
        catch (Exception e) when (ErrorText.DescribeExpected(e) is { } message)
        {
            rows.Add(("State", $"cannot be opened: {message}"));
            context.Warn(path, $"{layout.Name} file system cannot be opened: {message}");
        }
    }

    private static string Describe(FileSystemCapabilities c)
    {
        var features = new List<string>();
        if (c.Permissions) features.Add("permissions");
        if (c.HardLinks) features.Add("hard links");
        if (c.Symlinks) features.Add("symlinks");
        if (c.SpecialFiles) features.Add("special files");
        if (c.SparseFiles) features.Add("sparse files");
        if (c.ExtendedAttributes) features.Add("xattrs");
        if (c.CaseInsensitive) features.Add("case-insensitive names");
        features.Add(c.MaxFileSize == long.MaxValue ? "no file size limit" : $"max file size {SizeArgument.Format(c.MaxFileSize)}");
        return string.Join(", ", features);
    }

    private static void Render(ToolContext context, List<(string Key, string Value)> rows)
    {
        // Plain "Key: value" lines rather than a table: scripts grep them.
        int width = rows.Max(r => r.Key.Length) + 2;
        foreach (var (key, value) in rows)
            context.Out.WriteLine((key + ":").PadRight(width) + value);
    }
}
