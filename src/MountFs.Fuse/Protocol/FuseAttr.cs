using System.Buffers.Binary;

namespace MountFs.Fuse.Protocol;

/// <summary>fuse_attr (88 bytes): ino@0, size@8, blocks@16, atime@24, mtime@32, ctime@40, atimensec@48,
/// mtimensec@52, ctimensec@56, mode@60, nlink@64, uid@68, gid@72, rdev@76, blksize@80, flags@84.</summary>
public readonly record struct FuseAttr(
    ulong Ino, ulong Size, ulong Blocks, long Atime, long Mtime, long Ctime, uint AtimeNsec, uint MtimeNsec,
    uint CtimeNsec, uint Mode, uint Links, uint Uid, uint Gid, uint Rdev, uint BlockSize)
{
    public const int WireSize = 88;

    public void WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, Ino);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], Blocks);
        BinaryPrimitives.WriteInt64LittleEndian(d[24..], Atime);
        BinaryPrimitives.WriteInt64LittleEndian(d[32..], Mtime);
        BinaryPrimitives.WriteInt64LittleEndian(d[40..], Ctime);
        BinaryPrimitives.WriteUInt32LittleEndian(d[48..], AtimeNsec);
        BinaryPrimitives.WriteUInt32LittleEndian(d[52..], MtimeNsec);
        BinaryPrimitives.WriteUInt32LittleEndian(d[56..], CtimeNsec);
        BinaryPrimitives.WriteUInt32LittleEndian(d[60..], Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(d[64..], Links);
        BinaryPrimitives.WriteUInt32LittleEndian(d[68..], Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[72..], Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[76..], Rdev);
        BinaryPrimitives.WriteUInt32LittleEndian(d[80..], BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d[84..], 0);
    }

    public static FuseAttr Parse(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt64LittleEndian(s[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[16..]), BinaryPrimitives.ReadInt64LittleEndian(s[24..]),
        BinaryPrimitives.ReadInt64LittleEndian(s[32..]), BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[48..]), BinaryPrimitives.ReadUInt32LittleEndian(s[52..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[56..]), BinaryPrimitives.ReadUInt32LittleEndian(s[60..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[64..]), BinaryPrimitives.ReadUInt32LittleEndian(s[68..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[72..]), BinaryPrimitives.ReadUInt32LittleEndian(s[76..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[80..]));
}

/// <summary>A cache time-out as fuse.h splits it: whole seconds and nanoseconds.</summary>
public readonly record struct FuseTimeout(ulong Seconds, uint Nanoseconds)
{
    public static FuseTimeout From(TimeSpan span)
    {
        if (span <= TimeSpan.Zero) return default;
        long ticks = span.Ticks;
        return new FuseTimeout((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }
}

/// <summary>fuse_entry_out (128 bytes): nodeid@0, generation@8, entry_valid@16, attr_valid@24,
/// entry_valid_nsec@32, attr_valid_nsec@36, attr@40. Node id 0 caches a negative entry.</summary>
public readonly record struct EntryOut(ulong NodeId, ulong Generation, FuseTimeout EntryValid, FuseTimeout AttrValid, FuseAttr Attr)
{
    public const int WireSize = 40 + FuseAttr.WireSize;

    public void WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, NodeId);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], Generation);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], EntryValid.Seconds);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], AttrValid.Seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[32..], EntryValid.Nanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[36..], AttrValid.Nanoseconds);
        Attr.WriteTo(d[40..]);
    }

    public static EntryOut Parse(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt64LittleEndian(s[8..]),
        new FuseTimeout(BinaryPrimitives.ReadUInt64LittleEndian(s[16..]), BinaryPrimitives.ReadUInt32LittleEndian(s[32..])),
        new FuseTimeout(BinaryPrimitives.ReadUInt64LittleEndian(s[24..]), BinaryPrimitives.ReadUInt32LittleEndian(s[36..])),
        FuseAttr.Parse(s[40..]));
}

/// <summary>fuse_attr_out (104 bytes): attr_valid@0, attr_valid_nsec@8, dummy@12, attr@16.</summary>
public readonly record struct AttrOut(FuseTimeout AttrValid, FuseAttr Attr)
{
    public const int WireSize = 16 + FuseAttr.WireSize;

    public void WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, AttrValid.Seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], AttrValid.Nanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], 0);
        Attr.WriteTo(d[16..]);
    }

    public static AttrOut Parse(ReadOnlySpan<byte> s) => new(
        new FuseTimeout(BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt32LittleEndian(s[8..])),
        FuseAttr.Parse(s[16..]));
}
