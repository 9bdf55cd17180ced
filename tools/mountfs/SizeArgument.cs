using System.Globalization;

namespace MountFs.Tool;

/// <summary>Parses mke2fs-style sizes: a number with an optional K, M, G, T (powers of 1024) or s (512-byte sectors) suffix.</summary>
public static class SizeArgument
{
    /// <param name="text">"64M", "1G", "2048s", or a bare number.</param>
    /// <param name="bareUnit">What a bare number counts: 1024 (KiB) as mke2fs and mkfs.fat do, or the block size given with -b.</param>
    /// <returns>The size in bytes, or null when the text is not a size (or overflows).</returns>
    public static long? Parse(string text, long bareUnit = 1024)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        long unit = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            'T' => 1L << 40,
            'S' => 512,
            _ => 0,
        };
        string digits = unit == 0 ? text : text[..^1];
        if (unit == 0) unit = bareUnit;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)) return null;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long count)) return null;
        try
        {
            return checked(count * unit);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>"64.0 MiB"-style text for reports.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        int i = 0;
        while (value >= 1024 && i < units.Length - 1) { value /= 1024; i++; }
        return i == 0 ? $"{bytes} bytes" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[i]}");
    }
}
