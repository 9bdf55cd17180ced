using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Tool.ImageFiles;

/// <summary>
/// The images one command has open, each mounted once (so `cp a.img:/x a.img:/y` shares one
/// instance instead of tripping over its own lock), and each partitioned disk opened once for all
/// of its partitions. Disposing syncs and releases them all.
/// </summary>
public sealed class ImageSessions(LayoutRegistry registry, string? type = null) : IDisposable
{
    private readonly Dictionary<string, (ImageTree Tree, bool Writable)> _open = [];
    private readonly Dictionary<string, FileBlockDevice> _disks = [];

    /// <summary>The image's tree; <paramref name="writable"/> asks for a read-write mount.</summary>
    /// <remarks>An image first opened read-only and then wanted writable is reopened read-write.</remarks>
    public ImageTree Open(string image, bool writable)
    {
        string key = Path.GetFullPath(image);
        if (_open.TryGetValue(key, out var session))
        {
            if (session.Writable || !writable) return session.Tree;
            session.Tree.FileSystem.Dispose();
            _open.Remove(key);
        }
        var fileSystem = Mount(registry, image, writable, type, out _, OpenDisk);
        var tree = new ImageTree(image, fileSystem, ProcessCredentials.Current);
        _open[key] = (tree, writable);
        return tree;
    }

    /// <summary>The shared handle of a partitioned disk; the first open decides whether it is writable,
    /// which suits cp (its destination is opened first).</summary>
    private FileBlockDevice OpenDisk(string disk, bool writable)
    {
        string key = Path.GetFullPath(disk);
        if (_disks.TryGetValue(key, out var open))
        {
            if (writable && open.IsReadOnly) throw new ToolException(disk, "already open read-only by this command");
            return open;
        }
        return _disks[key] = OpenDevice(disk, writable);
    }

    /// <summary>Opens <paramref name="image"/>, finds its layout (or takes <paramref name="type"/>) and mounts it.</summary>
    /// <param name="openDisk">Supplies (and keeps) the disk of an IMAGE@N partition; null opens one for the mount to own.</param>
    public static IFileSystem Mount(LayoutRegistry registry, string image, bool writable, string? type, out IFileSystemLayout layout,
        Func<string, bool, FileBlockDevice>? openDisk = null)
    {
        var device = ImageSpec.Open(image, writable, openDisk);
        try
        {
            layout = FindLayout(registry, image, device, type);
            try
            {
                return layout.Mount(device, new MountOptions { ReadOnly = !writable });
            }
            catch (FsException e)
            {
                throw new ToolException(image, $"cannot open the {layout.Name} file system: {ErrorText.Describe(e)}");
            }
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing image or block device, turning the usual failures into one-line errors.</summary>
    public static FileBlockDevice OpenDevice(string image, bool writable)
    {
        if (Directory.Exists(image)) throw new ToolException(image, "is a directory, not an image");
        try
        {
            return FileBlockDevice.Open(image, readOnly: !writable);
        }
        catch (FileNotFoundException)
        {
            throw new ToolException(image, "No such file or directory");
        }
        catch (DeviceLockedException)
        {
            throw new ToolException(image, "in use by another process (the image is locked)");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ToolException(image, "Permission denied");
        }
    }

    /// <summary>The layout named by -t, or the one that recognises the device.</summary>
    public static IFileSystemLayout FindLayout(LayoutRegistry registry, string image, IBlockDevice device, string? type)
    {
        if (type is not null)
            return registry.Find(type)
                ?? throw new ToolException(type, $"unknown file-system type (known: {registry.DescribeTypes()})", ExitCodes.Usage);
        return registry.Probe(device)
            ?? throw new ToolException(image, $"no recognised file system (known: {registry.DescribeTypes()})");
    }

    public void Dispose()
    {
        List<Exception>? failures = null;
        foreach (var (tree, _) in _open.Values)
        {
            try
            {
                tree.FileSystem.Dispose();
            }
            catch (Exception e)
            {
                (failures ??= []).Add(e);
            }
        }
        _open.Clear();
        foreach (var disk in _disks.Values) disk.Dispose();
        _disks.Clear();
        if (failures is not null) throw failures[0];
    }
}
