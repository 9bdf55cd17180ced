using System.Globalization;

namespace MountFs.Fuse.Mounting;

/// <summary>
/// Lifts the kernel's dirty-page cap on a FUSE mount's backing device (/sys/class/bdi/MAJ:MIN).
/// </summary>
/// <remarks>
/// The kernel gives every FUSE bdi <c>strict_limit</c> and <c>max_ratio</c> 1 (% of the global dirty
/// threshold), so an untrusted server cannot pin much of memory in dirty pages. With the writeback
/// cache that cap throttles every writer to the server's write-back speed after a few MiB, which is
/// the very cost the cache is meant to hide (measured here: 1 GB/s and 211k 4 KiB random IOPS capped,
/// 2.2 GB/s and 531k lifted). Our server is the machine's own root-run process serving a local image,
/// so the ordinary global dirty limits are enough. Only root may write these files; others keep the cap.
/// </remarks>
public static class DirtyLimit
{
    /// <summary>Sets max_ratio 100 and strict_limit 0 for device <paramref name="major"/>:<paramref name="minor"/>;
    /// returns null on success, else why not (missing sysfs file, permission).</summary>
    public static string? Lift(int major, int minor, string sysfsRoot = "/sys/class/bdi")
    {
        string bdi = Path.Combine(sysfsRoot, string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}"));
        try
        {
            // max_ratio first: with strict_limit off the ratio is still the bdi's share of the threshold.
            File.WriteAllText(Path.Combine(bdi, "max_ratio"), "100\n");
            File.WriteAllText(Path.Combine(bdi, "strict_limit"), "0\n");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{bdi}: {e.Message}";
        }
    }
}
