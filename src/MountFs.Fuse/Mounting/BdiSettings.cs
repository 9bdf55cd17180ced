using System.Globalization;

namespace MountFs.Fuse.Mounting;

/// <summary>
/// Tuning of a FUSE mount's backing device (/sys/class/bdi/MAJ:MIN): the kernel's defaults for a FUSE bdi
/// suit an untrusted server, not ours. Only root may write these files; each method returns null on
/// success, else why not (missing sysfs file, permission), so a refusal leaves the mount working.
/// </summary>
public static class BdiSettings
{
    private const string SysfsRoot = "/sys/class/bdi";

    /// <summary>Sets max_ratio 100 and strict_limit 0 for device <paramref name="major"/>:<paramref name="minor"/>.</summary>
    /// <remarks>
    /// The kernel gives every FUSE bdi <c>strict_limit</c> and <c>max_ratio</c> 1 (% of the global dirty
    /// threshold), so an untrusted server cannot pin much of memory in dirty pages. With the writeback
    /// cache that cap throttles every writer to the server's write-back speed after a few MiB, which is
    /// the very cost the cache is meant to hide (measured here: 1 GB/s and 211k 4 KiB random IOPS capped,
    /// 2.2 GB/s and 531k lifted). Our server is the machine's own root-run process serving a local image,
    /// so the ordinary global dirty limits are enough.
    /// </remarks>
    public static string? LiftDirtyLimit(int major, int minor, string sysfsRoot = SysfsRoot) =>
        // max_ratio first: with strict_limit off the ratio is still the bdi's share of the threshold.
        Write(major, minor, sysfsRoot, ("max_ratio", "100"), ("strict_limit", "0"));

    /// <summary>Sets the read-ahead window (read_ahead_kb) of device <paramref name="major"/>:<paramref name="minor"/>.</summary>
    /// <remarks>
    /// A FUSE bdi starts with the kernel's 128 KiB window, so a sequential reader gets at most 128 KiB READ
    /// requests in flight although we accept 1 MiB ones: each round trip then carries an eighth of what it
    /// could, and a cold read from the image waits on small device reads. With a 1 MiB window a cold 256 MiB
    /// read through a FAT mount went from 441-988 to 1,012-1,231 MiB/s here.
    /// </remarks>
    public static string? SetReadAhead(int major, int minor, int kibibytes, string sysfsRoot = SysfsRoot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(kibibytes);
        return Write(major, minor, sysfsRoot, ("read_ahead_kb", kibibytes.ToString(CultureInfo.InvariantCulture)));
    }

    private static string? Write(int major, int minor, string sysfsRoot, params (string File, string Value)[] settings)
    {
        string bdi = Path.Combine(sysfsRoot, string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}"));
        try
        {
            foreach (var (file, value) in settings) File.WriteAllText(Path.Combine(bdi, file), value + "\n");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{bdi}: {e.Message}";
        }
    }
}
