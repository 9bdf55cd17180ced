using System.Globalization;

namespace MountFs.Fuse.Mounting;

/// <summary>
/// Sets how far the kernel reads ahead on a FUSE mount's backing device (/sys/class/bdi/MAJ:MIN/read_ahead_kb).
/// </summary>
/// <remarks>
/// A FUSE bdi starts with the kernel's 128 KiB window, so a sequential reader gets at most 128 KiB READ
/// requests in flight although we accept 1 MiB ones: each round trip then carries an eighth of what it
/// could, and a cold read from the image waits on small device reads. With a 1 MiB window a cold 256 MiB
/// read through a FAT mount went from 441-988 to 1,012-1,231 MiB/s here. Only root may write the file.
/// </remarks>
public static class ReadAheadWindow
{
    /// <summary>Sets the window of device <paramref name="major"/>:<paramref name="minor"/> to
    /// <paramref name="kibibytes"/>; returns null on success, else why not (missing sysfs file, permission).</summary>
    public static string? Set(int major, int minor, int kibibytes, string sysfsRoot = "/sys/class/bdi")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(kibibytes);
        string file = Path.Combine(sysfsRoot, string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}"), "read_ahead_kb");
        try
        {
            File.WriteAllText(file, kibibytes.ToString(CultureInfo.InvariantCulture) + "\n");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{file}: {e.Message}";
        }
    }
}
