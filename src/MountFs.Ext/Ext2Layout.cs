using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext;

/// <summary>The ext2 layout as the tools see it: probe by superblock magic and feature set, mount, mkfs.</summary>
public sealed class Ext2Layout : IFileSystemLayout
{
    public string Name => "ext2";
    public IReadOnlyList<string> Aliases => [];

    /// <summary>True for a valid ext2 superblock without a journal (ext3 is recognised by its own layout) and without
    /// incompat features this code cannot handle.</summary>
    public bool Probe(IBlockDevice device)
    {
        try
        {
            if (device.Length < SuperBlock.PrimaryOffset + SuperBlock.Size) return false;
            var buf = new byte[SuperBlock.Size];
            device.Read(SuperBlock.PrimaryOffset, buf);
            var sb = SuperBlock.Read(buf);
            if (sb.Validate(device.Length) != null) return false;
            if (sb.HasCompat(CompatFeatures.HasJournal)) return false;
            return (sb.FeatureIncompat & ~SuperBlock.SupportedIncompat) == 0;
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return false;
        }
    }

    public IFileSystem Mount(IBlockDevice device, MountOptions options) => Ext2FileSystem.Mount(device, options);

    public IFileSystemFormatter? Formatter => new Ext2Formatter();

    public IFileSystemChecker? Checker => new Checking.Ext2Checker();
}
