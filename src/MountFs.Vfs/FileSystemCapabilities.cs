namespace MountFs.Vfs;

/// <summary>What a layout can hold; front ends and the model test kit skip what it cannot.</summary>
/// <remarks>
/// An operation outside these capabilities fails with the errno Linux file systems use for it
/// (EPERM for hard links and symlinks on FAT, EFBIG past <see cref="MaxFileSize"/>,
/// ENAMETOOLONG past <see cref="MaxNameLength"/>), never silently succeeds.
/// </remarks>
public sealed record FileSystemCapabilities
{
    public bool HardLinks { get; init; } = true;
    public bool Symlinks { get; init; } = true;
    /// <summary>Mode, uid and gid are stored per node (false: derived from mount options).</summary>
    public bool Permissions { get; init; } = true;
    /// <summary>Device nodes, FIFOs and sockets can be created.</summary>
    public bool SpecialFiles { get; init; } = true;
    public bool ExtendedAttributes { get; init; }
    /// <summary>Unwritten ranges take no space and read as zeros.</summary>
    public bool SparseFiles { get; init; } = true;
    /// <summary>Lookups ignore case; listings keep the case given at creation.</summary>
    public bool CaseInsensitive { get; init; }
    public long MaxFileSize { get; init; } = long.MaxValue;
    /// <summary>Longest name, in the layout's own unit (UTF-8 bytes for ext2, UTF-16 units for FAT).</summary>
    public int MaxNameLength { get; init; } = 255;
    /// <summary>Smallest step of stored modification times (2 s on FAT).</summary>
    public TimeSpan TimeGranularity { get; init; } = TimeSpan.FromTicks(1);
    public bool ReadOnly { get; init; }
}
