using System.Buffers.Binary;
using System.Text;
using MountFs.Fuse.Protocol;

namespace MountFs.Fuse.Tests;

/// <summary>Builds request byte fixtures the way the kernel lays them out, and decodes replies.</summary>
public sealed class RequestBuilder(FuseOpcode opcode, ulong nodeId = 1, ulong unique = 2)
{
    private readonly List<byte> _body = [];

    public RequestBuilder U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _body.AddRange(b.ToArray()); return this; }
    public RequestBuilder U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); _body.AddRange(b.ToArray()); return this; }
    public RequestBuilder Name(string s) { _body.AddRange(Encoding.UTF8.GetBytes(s)); _body.Add(0); return this; }
    public RequestBuilder Bytes(ReadOnlySpan<byte> b) { _body.AddRange(b.ToArray()); return this; }

    public byte[] Build(uint uid = 0, uint gid = 0)
    {
        var bytes = new byte[FuseInHeader.Size + _body.Count];
        new FuseInHeader((uint)bytes.Length, opcode, unique, nodeId, uid, gid, 1234, 0).WriteTo(bytes);
        _body.CopyTo(bytes, FuseInHeader.Size);
        return bytes;
    }

    public static RequestBuilder Init(uint minor, InitFlags flags, uint major = 7)
    {
        var b = new RequestBuilder(FuseOpcode.Init, 0, 1).U32(major).U32(minor).U32(128 * 1024).U32((uint)flags);
        if (minor >= 36) b.U32((uint)((ulong)flags >> 32)).Bytes(new byte[44]);
        return b;
    }

    /// <summary>read_in/write_in: fh, offset, size, flags, lock_owner, flags, padding.</summary>
    public static RequestBuilder Io(FuseOpcode opcode, ulong node, ulong fh, ulong offset, uint size) =>
        new RequestBuilder(opcode, node).U64(fh).U64(offset).U32(size).U32(0).U64(0).U32(0).U32(0);
}

/// <summary>A decoded reply: header fields and the payload.</summary>
public sealed record Reply(int Length, int Error, ulong Unique, byte[] Payload)
{
    public static Reply Parse(byte[] buffer, int length)
    {
        Assert.True(length >= FuseOutHeader.Size, $"reply of {length} bytes");
        var h = FuseOutHeader.Parse(buffer);
        Assert.Equal((uint)length, h.Length);
        return new Reply(length, h.Error, h.Unique, buffer[FuseOutHeader.Size..length]);
    }
}
