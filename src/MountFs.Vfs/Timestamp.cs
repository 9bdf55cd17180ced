namespace MountFs.Vfs;

/// <summary>A POSIX time: whole seconds since the Unix epoch plus nanoseconds.</summary>
public readonly record struct Timestamp(long Seconds, uint Nanoseconds) : IComparable<Timestamp>
{
    public static Timestamp Now
    {
        get
        {
            long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
            return new Timestamp(ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
        }
    }

    public static Timestamp FromDateTime(DateTime utc)
    {
        long ticks = utc.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rest);
        if (rest < 0) { seconds--; rest += TimeSpan.TicksPerSecond; }
        return new Timestamp(seconds, (uint)(rest * 100));
    }

    public DateTime ToDateTime() =>
        DateTime.UnixEpoch.AddTicks(Seconds * TimeSpan.TicksPerSecond + Nanoseconds / 100);

    public int CompareTo(Timestamp other) =>
        Seconds != other.Seconds ? Seconds.CompareTo(other.Seconds) : Nanoseconds.CompareTo(other.Nanoseconds);

    public override string ToString() => $"{Seconds}.{Nanoseconds:D9}";
}
