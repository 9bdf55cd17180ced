using MountFs.Vfs;

namespace MountFs.Memory;

/// <summary>How a <see cref="MemoryFileSystem"/> is shaped: its limits, what it claims to support, its clock.</summary>
public sealed record MemoryFileSystemOptions
{
    /// <summary>Bytes of file data it may hold (statfs blocks); writes beyond get ENOSPC. Holes cost nothing.</summary>
    public long CapacityBytes { get; init; } = 1L << 30;

    /// <summary>Most nodes it may hold at once (statfs files), the root included; more gets ENOSPC.</summary>
    public long MaxNodes { get; init; } = 1 << 20;

    /// <summary>
    /// Replaces the default capabilities, so a test can make the reference behave like a restricted layout
    /// (no hard links → EPERM, no sparse files → holes take space, a smaller MaxFileSize → EFBIG, ...).
    /// </summary>
    public FileSystemCapabilities? Capabilities { get; init; }

    public bool ReadOnly { get; init; }

    /// <summary>Source of "now" for timestamps; a test may pass a counter to make time rules checkable.</summary>
    public Func<Timestamp>? Clock { get; init; }

    /// <summary>Permission bits, owner and group of the root directory.</summary>
    public uint RootMode { get; init; } = 0x1ED; // 0755
    public uint RootUid { get; init; }
    public uint RootGid { get; init; }

    /// <summary>The capabilities a memory file system has unless <see cref="Capabilities"/> replaces them.</summary>
    public static FileSystemCapabilities DefaultCapabilities { get; } = new() { ExtendedAttributes = true };
}
