using System.Buffers.Binary;

namespace MountFs.Fuse.Protocol;

/// <summary>fuse_init_in. Kernels before 7.36 send 16 bytes (no flags2); flags2 counts only with INIT_EXT.</summary>
public readonly record struct InitIn(uint Major, uint Minor, uint MaxReadahead, InitFlags Flags)
{
    public const int MinimumSize = 8;

    public static bool TryRead(ref FuseReader reader, out InitIn value)
    {
        value = default;
        if (!reader.TryReadUInt32(out uint major) || !reader.TryReadUInt32(out uint minor)) return false;
        // A kernel with a newer major sends its own layout; only major/minor are read from it.
        if (major != 7) { value = new InitIn(major, minor, 0, InitFlags.None); return true; }
        if (!reader.TryReadUInt32(out uint readahead) || !reader.TryReadUInt32(out uint flags)) return false;
        ulong all = flags;
        if ((flags & (uint)InitFlags.InitExt) != 0 && reader.TryReadUInt32(out uint flags2))
            all |= (ulong)flags2 << 32;
        value = new InitIn(major, minor, readahead, (InitFlags)all);
        return true;
    }
}

/// <summary>fuse_init_out (64 bytes from 7.23; 24 bytes for 7.5..7.22).</summary>
public readonly record struct InitOut(
    uint Major, uint Minor, uint MaxReadahead, InitFlags Flags, ushort MaxBackground,
    ushort CongestionThreshold, uint MaxWrite, uint TimeGranularity, ushort MaxPages)
{
    public const int Size = 64;
    public const int Compat22Size = 24;
    public const int CompatSize = 8;

    /// <summary>The reply size the negotiated minor expects.</summary>
    public int SizeFor(uint minor) => Major != 7 || minor < 5 ? CompatSize : minor < 23 ? Compat22Size : Size;

    public int WriteTo(Span<byte> d, uint minor)
    {
        int size = SizeFor(minor);
        d[..size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(d, Major);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], Minor);
        if (size == CompatSize) return size;
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], MaxReadahead);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], (uint)Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[16..], MaxBackground);
        BinaryPrimitives.WriteUInt16LittleEndian(d[18..], CongestionThreshold);
        BinaryPrimitives.WriteUInt32LittleEndian(d[20..], MaxWrite);
        if (size == Compat22Size) return size;
        BinaryPrimitives.WriteUInt32LittleEndian(d[24..], TimeGranularity);
        BinaryPrimitives.WriteUInt16LittleEndian(d[28..], MaxPages);
        BinaryPrimitives.WriteUInt32LittleEndian(d[32..], (uint)((ulong)Flags >> 32));
        return size;
    }

    public static InitOut Parse(ReadOnlySpan<byte> s)
    {
        ulong flags = BinaryPrimitives.ReadUInt32LittleEndian(s[12..]);
        if (s.Length >= Size) flags |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(s[32..]) << 32;
        return new InitOut(
            BinaryPrimitives.ReadUInt32LittleEndian(s), BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[8..]), (InitFlags)flags,
            BinaryPrimitives.ReadUInt16LittleEndian(s[16..]), BinaryPrimitives.ReadUInt16LittleEndian(s[18..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            s.Length >= Size ? BinaryPrimitives.ReadUInt32LittleEndian(s[24..]) : 0,
            s.Length >= Size ? BinaryPrimitives.ReadUInt16LittleEndian(s[28..]) : (ushort)0);
    }
}
