using System.Globalization;
using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Memory;

/// <summary>
/// The "memory" layout: a fresh, empty <see cref="MemoryFileSystem"/> per mount, like tmpfs
/// (`mountfs mount -t memory none MNT`). It owns no on-disk format, so it never recognises a device.
/// </summary>
/// <remarks>
/// Accepts tmpfs's options in <see cref="MountOptions.Extra"/>: size (bytes, with k/m/g/t suffix),
/// nr_inodes, mode (octal, of the root), uid and gid (of the root). Any other option is refused
/// rather than ignored.
/// </remarks>
public sealed class MemoryLayout : IFileSystemLayout
{
    public string Name => "memory";

    public IReadOnlyList<string> Aliases { get; } = ["tmpfs"];

    public bool Probe(IBlockDevice device) => false;

    public IFileSystem Mount(IBlockDevice device, MountOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The file system owns the device from here on, and has no use for it.
        device?.Dispose();
        var settings = new MemoryFileSystemOptions
        {
            ReadOnly = options.ReadOnly,
            RootUid = options.Uid ?? 0,
            RootGid = options.Gid ?? 0,
            RootMode = 0x3FF, // 01777, as tmpfs
        };
        foreach (var (key, value) in options.Extra)
        {
            settings = key switch
            {
                "size" => settings with { CapacityBytes = ParseSize(value) },
                "nr_inodes" => settings with { MaxNodes = ParseSize(value) },
                "mode" => settings with { RootMode = ParseOctal(value) },
                "uid" => settings with { RootUid = ParseNumber(key, value) },
                "gid" => settings with { RootGid = ParseNumber(key, value) },
                _ => throw new FsException(Errno.EINVAL,
                    $"memory: unknown option '{key}' (known: size, nr_inodes, mode, uid, gid)"),
            };
        }
        return new MemoryFileSystem(settings);
    }

    private static long ParseSize(string text)
    {
        string digits = text.TrimEnd('k', 'K', 'm', 'M', 'g', 'G', 't', 'T');
        int shift = text.Length == digits.Length ? 0 : char.ToLowerInvariant(text[^1]) switch
        {
            'k' => 10, 'm' => 20, 'g' => 30, _ => 40,
        };
        if (text.Length - digits.Length > 1
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            || value > long.MaxValue >> shift)
            throw new FsException(Errno.EINVAL, $"memory: bad size '{text}'");
        return value << shift;
    }

    private static uint ParseOctal(string text)
    {
        try
        {
            uint mode = Convert.ToUInt32(text, 8);
            if (mode <= UnixFileMode.PermissionMask) return mode;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
        }
        throw new FsException(Errno.EINVAL, $"memory: bad mode '{text}' (octal, at most 7777)");
    }

    private static uint ParseNumber(string key, string text) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint value)
            ? value
            : throw new FsException(Errno.EINVAL, $"memory: bad {key} '{text}'");
}
