using MountFs.Blocks;

namespace MountFs.Vfs;

/// <summary>
/// One on-disk format (ext2, FAT, ...) as the tools see it: recognise a device, open it as a
/// file system. The tool's Main builds an explicit list of these; nothing is found by reflection.
/// </summary>
public interface IFileSystemLayout
{
    /// <summary>Name users type after -t (for example "ext2", "fat").</summary>
    string Name { get; }

    /// <summary>Other names -t accepts for this layout (for example "vfat", "fat32").</summary>
    IReadOnlyList<string> Aliases { get; }

    /// <summary>True when the device holds this layout. Reads only; never throws for foreign or corrupt data.</summary>
    bool Probe(IBlockDevice device);

    /// <summary>
    /// Opens the layout on <paramref name="device"/>; the file system owns the device from then on
    /// and disposes it. Refuses (FsException EINVAL/EUCLEAN, with a message) what it cannot mount safely.
    /// </summary>
    IFileSystem Mount(IBlockDevice device, MountOptions options);

    /// <summary>The layout's mkfs, or null when it has none.</summary>
    IFileSystemFormatter? Formatter => null;

    /// <summary>The layout's fsck, or null when it has none.</summary>
    IFileSystemChecker? Checker => null;
}
