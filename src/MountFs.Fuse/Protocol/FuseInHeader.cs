using System.Buffers.Binary;

namespace MountFs.Fuse.Protocol;

/// <summary>fuse_in_header: the 40 bytes in front of every request.</summary>
public readonly record struct FuseInHeader(
    uint Length, FuseOpcode Opcode, ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid, ushort TotalExtLength)
{
    public const int Size = 40;

    /// <summary>Parses the header; false when the buffer is shorter than 40 bytes or len disagrees with it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> request, out FuseInHeader header)
    {
        header = default;
        if (request.Length < Size) return false;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(request);
        header = new FuseInHeader(
            length,
            (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(request[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(request[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(request[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(request[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(request[28..]),
            BinaryPrimitives.ReadUInt32LittleEndian(request[32..]),
            BinaryPrimitives.ReadUInt16LittleEndian(request[36..]));
        return length >= Size && length <= request.Length;
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Unique);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], NodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[32..], Pid);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[36..], TotalExtLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[38..], 0);
    }
}

/// <summary>fuse_out_header: len, error (0 or a negative errno), unique.</summary>
public readonly record struct FuseOutHeader(uint Length, int Error, ulong Unique)
{
    public const int Size = 16;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Error);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Unique);
    }

    public static FuseOutHeader Parse(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
}
