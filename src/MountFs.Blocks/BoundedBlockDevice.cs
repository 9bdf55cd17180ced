namespace MountFs.Blocks;

/// <summary>
/// A window [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>) of another device, addressed from 0:
/// a partition, or a guest disk inside a bigger image.
/// </summary>
/// <remarks>
/// Every request is checked against the window before it is translated, and the window itself is checked
/// against the inner device at construction, so no argument can make a read or write reach outside it.
/// The view shares the inner device's sector size; it is read-only if asked or if the inner device is.
/// </remarks>
public sealed class BoundedBlockDevice : IBlockDevice
{
    private readonly IBlockDevice _inner;
    private readonly bool _leaveOpen;

    /// <param name="inner">The whole device.</param>
    /// <param name="offset">Start of the window in the inner device; sector-aligned.</param>
    /// <param name="length">Length of the window; sector-aligned; the window must end inside the inner device.</param>
    /// <param name="leaveOpen">When true, disposing the view leaves the inner device open (the usual case for partitions).</param>
    /// <param name="readOnly">Refuse writes through this view even if the inner device accepts them.</param>
    /// <param name="name">Name for errors; defaults to "inner[offset+length]".</param>
    public BoundedBlockDevice(IBlockDevice inner, long offset, long length, bool leaveOpen = true, bool readOnly = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        DeviceRange.Check(offset, length, inner.Length, inner.SectorSize);
        _inner = inner;
        _leaveOpen = leaveOpen;
        Offset = offset;
        Length = length;
        IsReadOnly = readOnly || inner.IsReadOnly;
        Name = name ?? $"{inner.Name}[{offset}+{length}]";
    }

    public string Name { get; }

    /// <summary>Where the window starts in the inner device.</summary>
    public long Offset { get; }

    public long Length { get; }
    public int SectorSize => _inner.SectorSize;
    public bool IsReadOnly { get; }

    public void Read(long offset, Span<byte> buffer)
    {
        DeviceRange.Check(offset, buffer.Length, Length, SectorSize);
        _inner.Read(Offset + offset, buffer);
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        DeviceRange.Check(offset, data.Length, Length, SectorSize);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        _inner.Write(Offset + offset, data);
    }

    public void Flush() => _inner.Flush();

    public void Discard(long offset, long length)
    {
        DeviceRange.Check(offset, length, Length, SectorSize);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        _inner.Discard(Offset + offset, length);
    }

    public void Dispose()
    {
        if (!_leaveOpen)
            _inner.Dispose();
    }
}
