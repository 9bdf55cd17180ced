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

    /// <remarks>No <see cref="CachedBlockDevice"/> in between (so <see cref="MountOptions.CacheBytes"/> is not used):
    /// the volume already keeps the FAT and every loaded directory in memory and writes them back in its own order,
    /// so such a cache would hold only file data, which the kernel's page cache holds anyway. Going through it cost a block
    /// allocation, a map lookup and two copies per 4 KiB and cut large sequential reads to a quarter of the
    /// device's speed once a file outgrew it.</remarks>
    public IFileSystem Mount(IBlockDevice device, MountOptions options) => new FatFileSystem(device, options, Log);

    public IFileSystemFormatter? Formatter { get; } = new FatFormatter();

    public IFileSystemChecker? Checker { get; } = new FatChecker();
}
