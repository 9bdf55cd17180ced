using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>FAT12/16/32 with VFAT long names as the tools see it.</summary>
public sealed class FatLayout : IFileSystemLayout
{
    public string Name => "fat";

    public IReadOnlyList<string> Aliases { get; } = ["vfat", "fat12", "fat16", "fat32", "msdos"];

    /// <summary>Where mount-time log lines go (corruption reports); standard error when null.</summary>
    public TextWriter? Log { get; init; }

    public bool Probe(IBlockDevice device)
    {
        try
        {
            int size = Math.Max(512, device.SectorSize);
            if (device.Length < size) return false;
            var sector = new byte[size];
            device.Read(0, sector);
            var bpb = BiosParameterBlock.Parse(sector);
            if (!bpb.HasBootSignature || bpb.JumpBoot[0] is not (0xEB or 0xE9 or 0xE8)) return false;
            return FatGeometry.TryCreate(bpb, device.Length, out _) != null;
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return false;
        }
    }

    public IFileSystem Mount(IBlockDevice device, MountOptions options)
    {
        IBlockDevice cached = options.CacheBytes >= 4096 && device.SectorSize <= 4096
            ? new CachedBlockDevice(device, options.CacheBytes, 4096)
            : device;
        return new FatFileSystem(cached, options, Log);
    }

    public IFileSystemFormatter? Formatter { get; } = new FatFormatter();

    public IFileSystemChecker? Checker { get; } = new FatChecker();
}
