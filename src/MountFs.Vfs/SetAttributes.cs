namespace MountFs.Vfs;

/// <summary>The fields setattr changes; null fields stay as they are.</summary>
/// <remarks>
/// <see cref="Mode"/> carries only permission bits (the type never changes). A time given as
/// <see cref="TimeChange.Now"/> takes the layout's clock. A change to any field also sets ctime
/// unless <see cref="Ctime"/> is given. Size changes truncate or extend with zeros (a hole where
/// the layout supports holes) and update mtime as truncate(2) does.
/// </remarks>
public sealed record SetAttributes
{
    public uint? Mode { get; init; }
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }
    public long? Size { get; init; }
    public TimeChange? Atime { get; init; }
    public TimeChange? Mtime { get; init; }
    public Timestamp? Ctime { get; init; }
}

/// <summary>A new value for a timestamp: an explicit time, or "now" by the layout's clock.</summary>
public readonly record struct TimeChange(Timestamp? Value)
{
    public static TimeChange Now => new(null);
    public static TimeChange At(Timestamp t) => new(t);
    public Timestamp Resolve() => Value ?? Timestamp.Now;
}
