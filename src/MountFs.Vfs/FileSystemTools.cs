using MountFs.Blocks;

namespace MountFs.Vfs;

/// <summary>What `mountfs mkfs` asks of a layout; a null field means the layout's default (as mkfs.fat / mke2fs pick it).</summary>
/// <remarks>One record for all layouts so the command line maps onto it once; a layout that gets an option it has
/// no use for (say -N on FAT) refuses it with a message rather than ignoring it.</remarks>
public sealed record FormatOptions
{
    /// <summary>Layout variant asked for by -t beyond the layout itself: "fat12", "fat16", "fat32"; null = choose.</summary>
    public string? Variant { get; init; }
    public string? Label { get; init; }
    /// <summary>ext2 -b: block size in bytes.</summary>
    public int? BlockSize { get; init; }
    /// <summary>ext2 -N: number of inodes.</summary>
    public long? InodeCount { get; init; }
    /// <summary>ext2 -m: percentage of blocks reserved for root.</summary>
    public double? ReservedPercent { get; init; }
    /// <summary>FAT -c: sectors per cluster.</summary>
    public int? SectorsPerCluster { get; init; }
    /// <summary>Receives fractions 0..1 while a large image is written.</summary>
    public IProgress<double>? Progress { get; init; }
}

/// <summary>Writes an empty file system of one layout onto a device.</summary>
public interface IFileSystemFormatter
{
    /// <exception cref="FsException">EINVAL with a message (for example the minimum size) when the options or the
    /// device size cannot hold the layout.</exception>
    void Format(IBlockDevice device, FormatOptions options);
}

/// <summary>How fsck may act, as fsck(8)'s -n, -p and -y.</summary>
public enum RepairMode
{
    /// <summary>-n: open read-only, change nothing.</summary>
    CheckOnly,
    /// <summary>-p: fix what is safe without asking.</summary>
    Preen,
    /// <summary>-y: fix everything found.</summary>
    All,
}

/// <summary>fsck(8) exit code bits.</summary>
[Flags]
public enum FsckExitCode
{
    Clean = 0,
    Corrected = 1,
    RebootNeeded = 2,
    Uncorrected = 4,
    OperationalError = 8,
    UsageError = 16,
    Cancelled = 32,
}

/// <summary>The outcome of a check: the exit code and one line per problem found (and what was done).</summary>
public sealed record FsckResult(FsckExitCode ExitCode, IReadOnlyList<string> Problems);

/// <summary>Checks (and in repair modes fixes) one layout on a device, as e2fsck / fsck.fat do.</summary>
public interface IFileSystemChecker
{
    /// <param name="force">-f: check even when the volume is marked clean.</param>
    /// <param name="log">Receives the human-readable report as it runs.</param>
    FsckResult Check(IBlockDevice device, RepairMode mode, bool force, TextWriter log);
}
