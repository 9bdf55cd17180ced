namespace MountFs.Blocks;

/// <summary>A device held in one byte array: the model in tests, the backing of tmpfs-like mounts and
/// of materialised crash states.</summary>
public sealed class MemoryBlockDevice : IBlockDevice
{
    private readonly byte[] _bytes;
    private volatile bool _disposed;

    /// <summary>A zero-filled device of <paramref name="length"/> bytes.</summary>
    public MemoryBlockDevice(long length, int sectorSize = 512, string name = "memory", bool readOnly = false)
    {
        ValidateGeometry(length, sectorSize);
        _bytes = new byte[length];
        SectorSize = sectorSize;
        Name = name;
        IsReadOnly = readOnly;
    }

    /// <summary>A device holding a copy of <paramref name="contents"/> (later changes to either side are not shared).</summary>
    public MemoryBlockDevice(ReadOnlySpan<byte> contents, int sectorSize = 512, string name = "memory", bool readOnly = false)
    {
        ValidateGeometry(contents.Length, sectorSize);
        _bytes = contents.ToArray();
        SectorSize = sectorSize;
        Name = name;
        IsReadOnly = readOnly;
    }

    public string Name { get; }
    public long Length => _bytes.Length;
    public int SectorSize { get; }
    public bool IsReadOnly { get; }

    public void Read(long offset, Span<byte> buffer)
    {
        Check(offset, buffer.Length);
        _bytes.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Check(offset, data.Length);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        data.CopyTo(_bytes.AsSpan((int)offset));
    }

    public void Flush() => ObjectDisposedException.ThrowIf(_disposed, this);

    public void Discard(long offset, long length)
    {
        Check(offset, length);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        _bytes.AsSpan((int)offset, (int)length).Clear();
    }

    /// <summary>A snapshot of the whole device.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <summary>The live contents, for read-only inspection without a copy.</summary>
    public ReadOnlySpan<byte> Contents => _bytes;

    public void Dispose() => _disposed = true;

    private void Check(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DeviceRange.Check(offset, length, _bytes.Length, SectorSize);
    }

    private static void ValidateGeometry(long length, int sectorSize)
    {
        if (sectorSize <= 0 || (sectorSize & (sectorSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(sectorSize), sectorSize, "sector size must be a positive power of two");
        if (length < 0 || length > Array.MaxLength || length % sectorSize != 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"length must be a multiple of {sectorSize} up to {Array.MaxLength} bytes");
    }
}
