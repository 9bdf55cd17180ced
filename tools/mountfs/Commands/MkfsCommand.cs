using System.CommandLine;
using MountFs.Blocks;
using MountFs.Tool.ImageFiles;
using MountFs.Vfs;
using Spectre.Console;

namespace MountFs.Tool.Commands;

/// <summary>
/// `mountfs mkfs -t TYPE [options] IMAGE [SIZE]`: writes an empty file system through the layout's formatter.
/// As mke2fs: with SIZE the image file is created (sparse) or resized; without it an existing file or
/// device is formatted in place over its whole length.
/// </summary>
public static class MkfsCommand
{
    public static Command Create(ToolContext context)
    {
        var type = CommonOptions.Type(context.Registry, "File-system type to create (default ext2)");
        var blockSize = new Option<int?>("-b") { Description = "Block size in bytes (ext2: 1024, 2048 or 4096)", HelpName = "BLOCK-SIZE" };
        var inodes = new Option<long?>("-N") { Description = "Number of inodes (ext2)", HelpName = "INODES" };
        var label = new Option<string?>("-L") { Description = "Volume label", HelpName = "LABEL" };
        var reserved = new Option<double?>("-m") { Description = "Percentage of blocks reserved for root (ext2)", HelpName = "PERCENT" };
        var cluster = new Option<int?>("-c") { Description = "Sectors per cluster (FAT)", HelpName = "SECTORS" };
        var image = new Argument<string>("IMAGE") { Description = "Image file (created when SIZE is given) or block device; IMAGE@N for its partition N" };
        var size = new Argument<string?>("SIZE")
        {
            Description = "Size of the file system: a number with suffix K, M, G, T (powers of 1024) or s (512-byte sectors); " +
                          "a bare number counts KiB, or blocks when -b is given. Default: the whole image",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("mkfs", "Create an empty file system on an image (like mke2fs / mkfs.fat)")
        {
            type, blockSize, inodes, label, reserved, cluster, image, size,
        };
        command.SetAction(result =>
        {
            string path = result.GetRequiredValue(image);
            return CommandRunner.Run(context, path, () =>
            {
                string typeName = result.GetValue(type) ?? "ext2";
                var layout = context.Registry.Find(typeName)
                    ?? throw new ToolException(typeName, $"unknown file-system type (known: {context.Registry.DescribeTypes()})", ExitCodes.Usage);
                var formatter = layout.Formatter
                    ?? throw new ToolException(typeName, "this layout has no mkfs");
                int? block = result.GetValue(blockSize);
                long? bytes = null;
                if (result.GetValue(size) is { } sizeText)
                {
                    bytes = SizeArgument.Parse(sizeText, block ?? 1024)
                        ?? throw new ToolException(sizeText, "not a size (examples: 64M, 1G, 2048s)", ExitCodes.Usage);
                }
                var options = new FormatOptions
                {
                    Variant = string.Equals(typeName, layout.Name, StringComparison.OrdinalIgnoreCase) ? null : typeName.ToLowerInvariant(),
                    Label = result.GetValue(label),
                    BlockSize = block,
                    InodeCount = result.GetValue(inodes),
                    ReservedPercent = result.GetValue(reserved),
                    SectorsPerCluster = result.GetValue(cluster),
                };
                return Format(context, path, bytes, layout, formatter, options);
            });
        });
        return command;
    }

    private static int Format(ToolContext context, string path, long? size, IFileSystemLayout layout, IFileSystemFormatter formatter, FormatOptions options)
    {
        bool created = false;
        IBlockDevice device;
        if (ImageSpec.TryParse(path) is { Partition: not null })
        {
            device = ImageSpec.Open(path, writable: true);
            if (size is long limit && limit < device.Length)
                device = new BoundedBlockDevice(device, 0, limit - limit % 512, leaveOpen: false);
            else if (size is long over && over > device.Length)
            {
                long have = device.Length;
                device.Dispose();
                throw new ToolException(path, $"size {over} is larger than the partition ({have} bytes)");
            }
        }
        else if (size is long wanted)
        {
            long length = wanted - wanted % 512;
            if (length <= 0) throw new ToolException(path, $"size {wanted} is smaller than one 512-byte sector");
            if (!File.Exists(path))
            {
                device = FileBlockDevice.Create(path, length);
                created = true;
            }
            else
            {
                device = OpenSized(path, length);
            }
        }
        else
        {
            if (!File.Exists(path))
                throw new ToolException(path, "No such file or directory (give a SIZE to create it)");
            device = ImageSessions.OpenDevice(path, writable: true);
            if (device.Length == 0)
            {
                device.Dispose();
                throw new ToolException(path, "image is empty (give a SIZE to make it larger)");
            }
        }

        long formatted = device.Length;
        try
        {
            using (device)
            {
                Run(context, formatter, device, options);
                device.Flush();
            }
        }
        catch
        {
            // A half-written image we created ourselves is worse than none.
            if (created) File.Delete(path);
            throw;
        }
        context.Out.WriteLine($"{path}: {layout.Name} file system of {SizeArgument.Format(formatted)} created");
        return ExitCodes.Success;
    }

    /// <summary>An existing image opened with exactly <paramref name="length"/> bytes: extended (sparsely) if shorter,
    /// a view of its start if longer, as mke2fs formats only the size asked for.</summary>
    private static IBlockDevice OpenSized(string path, long length)
    {
        var device = ImageSessions.OpenDevice(path, writable: true);
        if (device.Length == length) return device;
        if (device.Length > length) return new BoundedBlockDevice(device, 0, length, leaveOpen: false);
        if (device.IsBlockDevice)
        {
            long have = device.Length;
            device.Dispose();
            throw new ToolException(path, $"size {length} is larger than the device ({have} bytes)");
        }
        device.Dispose();
        // The lock was released above; the window is as narrow as mke2fs's own extend-then-open.
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            file.SetLength(length);
        return ImageSessions.OpenDevice(path, writable: true);
    }

    private static void Run(ToolContext context, IFileSystemFormatter formatter, IBlockDevice device, FormatOptions options)
    {
        if (!context.Interactive)
        {
            formatter.Format(device, options);
            return;
        }
        context.Console.Progress().AutoClear(true).Start(progress =>
        {
            var task = progress.AddTask("Writing file system", maxValue: 1.0);
            formatter.Format(device, options with { Progress = new ProgressCallback(f => task.Value = f) });
            task.Value = 1.0;
        });
    }

    /// <summary>Reports on the formatter's own thread (Progress&lt;T&gt; would post to the thread pool and lag behind).</summary>
    private sealed class ProgressCallback(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
