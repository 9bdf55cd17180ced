namespace MountFs.Vfs;

/// <summary>Options that shape a mounted file system, parsed from -o by the tools.</summary>
public sealed record MountOptions
{
    public bool ReadOnly { get; init; }

    /// <summary>Owner and mask for layouts that store no permissions (FAT), as the vfat driver takes them.</summary>
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }
    public uint Umask { get; init; } = 0x12; // 022
    public uint? FileMask { get; init; }
    public uint? DirectoryMask { get; init; }

    /// <summary>Size of the block cache in bytes.</summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>Layout-specific options (name → value, value "" for a bare flag), for layouts to interpret.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
}
