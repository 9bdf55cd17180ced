using System.Text;

namespace MountFs.Fuse.Mounting;

/// <summary>One line of /proc/self/mountinfo: the device (major:minor), mount point and type.</summary>
public sealed record MountEntry(int Major, int Minor, string MountPoint, string FileSystemType, string Source);

/// <summary>Reads /proc/self/mountinfo (octal escapes undone) to find mounts and FUSE connection ids.</summary>
public static class MountTable
{
    public static IReadOnlyList<MountEntry> Read()
    {
        var entries = new List<MountEntry>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 2 >= fields.Length) continue;
            string[] device = fields[2].Split(':');
            if (device.Length != 2 || !int.TryParse(device[0], out int major) || !int.TryParse(device[1], out int minor)) continue;
            entries.Add(new MountEntry(major, minor, Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2])));
        }
        return entries;
    }

    /// <summary>The newest mount on exactly <paramref name="path"/>, or null.</summary>
    public static MountEntry? Find(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        if (full.Length == 0) full = "/";
        return Read().LastOrDefault(e => e.MountPoint == full);
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var bytes = new List<byte>();
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                bytes.Add((byte)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(string s, int at) =>
        at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
