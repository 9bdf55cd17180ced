using System.Buffers.Binary;
using System.Text;

namespace MountFs.Fuse.Protocol;

/// <summary>
/// Bounds-checked cursor over one request's bytes (host order, which is little-endian on every
/// platform we build for). Every read returns false instead of throwing when the request is too
/// short, so a truncated or hostile request becomes an error value at the call site.
/// </summary>
public ref struct FuseReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public FuseReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _data.Length - _position;

    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadUInt64(out ulong value)
    {
        if (Remaining < 8) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return true;
    }

    /// <summary>The next <paramref name="length"/> bytes as a fixed-layout struct body.</summary>
    public bool TryReadBlock(int length, out ReadOnlySpan<byte> block)
    {
        if (length < 0 || Remaining < length) { block = default; return false; }
        block = _data.Slice(_position, length);
        _position += length;
        return true;
    }

    /// <summary>Everything left (WRITE payload, SETXATTR value).</summary>
    public ReadOnlySpan<byte> ReadRest()
    {
        var rest = _data[_position..];
        _position = _data.Length;
        return rest;
    }

    /// <summary>A NUL-terminated name; false when no terminator lies inside the request.</summary>
    public bool TryReadCString(out ReadOnlySpan<byte> bytes)
    {
        int end = _data[_position..].IndexOf((byte)0);
        if (end < 0) { bytes = default; return false; }
        bytes = _data.Slice(_position, end);
        _position += end + 1;
        return true;
    }

    /// <summary>A NUL-terminated name decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public bool TryReadName(out string name)
    {
        if (!TryReadCString(out var bytes)) { name = ""; return false; }
        name = Encoding.UTF8.GetString(bytes);
        return true;
    }
}
