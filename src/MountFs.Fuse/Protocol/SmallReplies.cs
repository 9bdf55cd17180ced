using System.Buffers.Binary;

namespace MountFs.Fuse.Protocol;

/// <summary>fuse_open_out (16 bytes): fh@0, open_flags@8, padding@12.</summary>
public readonly record struct OpenOut(ulong Handle, OpenReplyFlags Flags)
{
    public const int WireSize = 16;

    public void WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, Handle);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], 0);
    }

    public static OpenOut Parse(ReadOnlySpan<byte> s) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(s), (OpenReplyFlags)BinaryPrimitives.ReadUInt32LittleEndian(s[8..]));
}

/// <summary>An 8-byte reply of one count and padding: fuse_write_out.size, fuse_getxattr_out.size
/// (u32@0, padding@4) or fuse_lseek_out.offset (u64@0).</summary>
public static class ScalarReply
{
    public const int WireSize = 8;

    public static void WriteUInt32(Span<byte> d, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(d, value);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], 0);
    }

    public static void WriteUInt64(Span<byte> d, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(d, value);
}

/// <summary>fuse_kstatfs (80 bytes): blocks@0, bfree@8, bavail@16, files@24, ffree@32, bsize@40,
/// namelen@44, frsize@48, padding@52, spare[6]@56.</summary>
public readonly record struct StatFsOut(
    ulong Blocks, ulong BlocksFree, ulong BlocksAvailable, ulong Files, ulong FilesFree, uint BlockSize,
    uint NameLength, uint FragmentSize)
{
    public const int WireSize = 80;

    public void WriteTo(Span<byte> d)
    {
        d[..WireSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(d, Blocks);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], BlocksFree);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], BlocksAvailable);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], Files);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], FilesFree);
        BinaryPrimitives.WriteUInt32LittleEndian(d[40..], BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d[44..], NameLength);
        BinaryPrimitives.WriteUInt32LittleEndian(d[48..], FragmentSize);
    }

    public static StatFsOut Parse(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt64LittleEndian(s[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[16..]), BinaryPrimitives.ReadUInt64LittleEndian(s[24..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[32..]), BinaryPrimitives.ReadUInt32LittleEndian(s[40..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[44..]), BinaryPrimitives.ReadUInt32LittleEndian(s[48..]));
}
