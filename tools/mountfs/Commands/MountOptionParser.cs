using System.Globalization;
using MountFs.Fuse;
using MountFs.Vfs;

namespace MountFs.Tool.Commands;

/// <summary>What one `-o` list asks for: how to serve the mount (FUSE) and how to open the layout.</summary>
public sealed record MountRequest(FuseOptions Fuse, MountOptions Layout);

/// <summary>
/// Parses mount(8)-style option lists ("ro,allow_other,uid=1000"). Generic mount(8)/fstab options are
/// applied or accepted as mount(8) would; key=value options we do not know are handed to the layout
/// (<see cref="MountOptions.Extra"/>), which refuses what it does not know; a bare unknown flag is an error.
/// </summary>
public static class MountOptionParser
{
    /// <summary>fstab and mount(8) words that mean nothing to a FUSE daemon (or are the default).</summary>
    private static readonly HashSet<string> Accepted =
    [
        "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group", "nofail", "_netdev",
        "dev", "suid", "exec", "atime", "relatime", "strictatime", "diratime", "nodiratime", "async", "lazytime",
        "nolazytime", "loud", "silent", "nodev", "nosuid",
    ];

    /// <exception cref="ToolException">An unknown flag or a malformed value (exit code 1, as mount(8) for bad usage).</exception>
    public static MountRequest Parse(IEnumerable<string> lists)
    {
        var fuse = new FuseOptions();
        var layout = new MountOptions();
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string list in lists)
        foreach (string raw in SplitList(list))
        {
            string option = raw.Trim();
            if (option.Length == 0) continue;
            int eq = option.IndexOf('=');
            string key = eq < 0 ? option : option[..eq];
            string value = eq < 0 ? "" : option[(eq + 1)..];
            switch (key)
            {
                case "ro": fuse = fuse with { ReadOnly = true }; layout = layout with { ReadOnly = true }; break;
                case "rw": fuse = fuse with { ReadOnly = false }; layout = layout with { ReadOnly = false }; break;
                case "allow_other": fuse = fuse with { AllowOther = true }; break;
                case "default_permissions": fuse = fuse with { DefaultPermissions = true }; break;
                case "writeback_cache": fuse = fuse with { WritebackCache = true }; break;
                case "no_writeback_cache": fuse = fuse with { WritebackCache = false }; break;
                case "flush_on_close": fuse = fuse with { FlushOnClose = true }; break;
                case "clone_fd": fuse = fuse with { CloneDevicePerWorker = true }; break;
                case "no_dir_cache": fuse = fuse with { CacheDirectories = false }; break;
                case "request_stats": fuse = fuse with { LogRequestCounts = true }; break;
                case "io_uring": fuse = fuse with { IoUring = true }; break;
                case "no_io_uring": fuse = fuse with { IoUring = false }; break;
                case "io_uring_depth": fuse = fuse with { IoUring = true, IoUringDepth = (int)Number(key, value, 1, 256) }; break;
                case "strict_dirty_limit": fuse = fuse with { LiftDirtyLimit = false }; break;
                case "read_ahead_kb": fuse = fuse with { ReadAheadKb = (int)Number(key, value, 0, 1 << 20) }; break;
                case "nonempty": fuse = fuse with { RequireEmptyMountPoint = false }; break;
                case "noexec": fuse = fuse with { NoExec = true }; break;
                case "noatime": fuse = fuse with { NoAtime = true }; break;
                case "fsname": fuse = fuse with { FsName = Need(key, value) }; break;
                case "subtype": fuse = fuse with { Subtype = Need(key, value) }; break;
                case "threads": fuse = fuse with { Threads = (int)Number(key, value, 1, 64) }; break;
                case "max_write": fuse = fuse with { MaxWrite = (int)Number(key, value, 4096, 1 << 24) }; break;
                case "entry_timeout": fuse = fuse with { EntryTimeout = Seconds(key, value) }; break;
                case "attr_timeout": fuse = fuse with { AttributeTimeout = Seconds(key, value) }; break;
                case "negative_timeout": fuse = fuse with { NegativeTimeout = Seconds(key, value) }; break;
                case "uid": layout = layout with { Uid = (uint)Number(key, value, 0, uint.MaxValue) }; break;
                case "gid": layout = layout with { Gid = (uint)Number(key, value, 0, uint.MaxValue) }; break;
                case "umask": layout = layout with { Umask = Octal(key, value) }; break;
                case "fmask": layout = layout with { FileMask = Octal(key, value) }; break;
                case "dmask": layout = layout with { DirectoryMask = Octal(key, value) }; break;
                case "cache" or "cache_size":
                    layout = layout with
                    {
                        CacheBytes = SizeArgument.Parse(Need(key, value), bareUnit: 1)
                                     ?? throw Bad($"{key}={value}: not a size (for example 64M)"),
                    };
                    break;
                default:
                    if (Accepted.Contains(key) || key.StartsWith("x-", StringComparison.Ordinal) || key == "comment") break;
                    if (eq < 0) throw Bad($"unknown mount option '{option}'");
                    extra[key] = value;
                    break;
            }
        }
        return new MountRequest(fuse, layout with { Extra = extra });
    }

    /// <summary>Splits on commas not escaped with a backslash (fsname=a\,b).</summary>
    private static IEnumerable<string> SplitList(string list)
    {
        var current = new System.Text.StringBuilder();
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] == '\\' && i + 1 < list.Length) current.Append(list[++i]);
            else if (list[i] == ',') { yield return current.ToString(); current.Clear(); }
            else current.Append(list[i]);
        }
        yield return current.ToString();
    }

    private static ToolException Bad(string message) => new("-o", message, ExitCodes.Failure);

    private static string Need(string key, string value) =>
        value.Length > 0 ? value : throw Bad($"option '{key}' needs a value ({key}=...)");

    private static long Number(string key, string value, long min, long max) =>
        long.TryParse(Need(key, value), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n >= min && n <= max
            ? n
            : throw Bad($"{key}={value}: expected a number from {min} to {max}");

    private static uint Octal(string key, string value)
    {
        try
        {
            uint mask = Convert.ToUInt32(Need(key, value), 8);
            return mask <= 0x1FF ? mask : throw Bad($"{key}={value}: expected an octal mask up to 777");
        }
        catch (FormatException)
        {
            throw Bad($"{key}={value}: expected an octal mask (for example 022)");
        }
    }

    private static TimeSpan Seconds(string key, string value) =>
        double.TryParse(Need(key, value), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double s) && s >= 0 && s < 1e6
            ? TimeSpan.FromSeconds(s)
            : throw Bad($"{key}={value}: expected seconds (for example 1.5)");
}
