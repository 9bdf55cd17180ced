namespace MountFs.Fat;

/// <summary>
/// DOS date/time fields. FAT stores no zone; we read and write UTC (like mounting with tz=UTC), the choice
/// documented in formats.md.
/// </summary>
public static class FatDateTime
{
    public static readonly DateTime Min = new(1980, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public static readonly DateTime Max = new(2107, 12, 31, 23, 59, 58, DateTimeKind.Utc);

    public static DateTime Clamp(DateTime utc) => utc < Min ? Min : utc > Max ? Max : utc;

    public static ushort EncodeDate(DateTime t) => (ushort)((t.Year - 1980) << 9 | t.Month << 5 | t.Day);
    public static ushort EncodeTime(DateTime t) => (ushort)(t.Hour << 11 | t.Minute << 5 | t.Second / 2);

    /// <summary>Creation time fine part: the odd second and the hundredths, 0..199.</summary>
    public static byte EncodeTenth(DateTime t) => (byte)(t.Second % 2 * 100 + t.Millisecond / 10);

    /// <summary>Decodes, mapping invalid fields to the nearest valid value rather than failing.</summary>
    public static DateTime Decode(ushort date, ushort time, byte tenth = 0)
    {
        int year = 1980 + (date >> 9);
        int month = Math.Clamp(date >> 5 & 0xF, 1, 12);
        int day = Math.Clamp(date & 0x1F, 1, DateTime.DaysInMonth(year, month));
        int hour = Math.Min(time >> 11, 23);
        int minute = Math.Min(time >> 5 & 0x3F, 59);
        int second = Math.Min((time & 0x1F) * 2, 58);
        var result = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc);
        if (tenth <= 199) result = result.AddMilliseconds(tenth * 10);
        return result;
    }
}
