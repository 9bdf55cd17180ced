namespace MountFs.Fuse.Uring;

/// <summary>The kernel's CPU list format ("0-3,8,10-11"), as in /sys/devices/system/cpu/possible.</summary>
public static class CpuList
{
    /// <summary>How many CPUs <paramref name="text"/> names, counted to the highest one (queue ids are CPU numbers).</summary>
    /// <exception cref="FormatException">Not a CPU list.</exception>
    public static int Count(string text)
    {
        int highest = -1;
        foreach (string part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-');
            string last = dash < 0 ? part : part[(dash + 1)..];
            if (!int.TryParse(last, out int cpu) || cpu < 0 || cpu > 4095) throw new FormatException($"not a CPU list: '{text.Trim()}'");
            highest = Math.Max(highest, cpu);
        }
        if (highest < 0) throw new FormatException("empty CPU list");
        return highest + 1;
    }
}
