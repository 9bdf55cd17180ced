namespace MountFs.Blocks;

/// <summary>
/// A device of fixed length addressed in bytes, read and written in whole sectors.
/// </summary>
/// <remarks>
/// Contract shared by every device and decorator in this assembly:
/// <list type="bullet">
/// <item><c>offset</c> and the buffer length of <see cref="Read"/>, <see cref="Write"/> and
/// <see cref="Discard"/> are multiples of <see cref="SectorSize"/>, and the range lies inside
/// [0, <see cref="Length"/>). A violation is a caller bug and throws
/// <see cref="ArgumentException"/> / <see cref="ArgumentOutOfRangeException"/> before any byte moves;
/// layouts validate on-disk block numbers before they ask, so corrupt images never get this far.</item>
/// <item>I/O is positional: there is no shared file position, so concurrent calls on different
/// ranges are safe from any thread. Concurrent writes to the same range leave one of the writes.</item>
/// <item><see cref="Flush"/> is a durability barrier: every write that completed before it is on
/// stable storage when it returns. Nothing is promised about writes that have not been flushed.</item>
/// <item><see cref="Discard"/> declares a range unused; later reads of it return zeros.</item>
/// <item>A read-only device throws <see cref="ReadOnlyDeviceException"/> from Write and Discard.</item>
/// <item>Media errors surface as <see cref="IOException"/>.</item>
/// </list>
/// </remarks>
public interface IBlockDevice : IDisposable
{
    /// <summary>Human-readable name for log lines and errors (an image path, "memory", ...).</summary>
    string Name { get; }

    /// <summary>Length in bytes; a multiple of <see cref="SectorSize"/>.</summary>
    long Length { get; }

    /// <summary>Alignment unit of every request, normally 512.</summary>
    int SectorSize { get; }

    bool IsReadOnly { get; }

    void Read(long offset, Span<byte> buffer);

    void Write(long offset, ReadOnlySpan<byte> data);

    void Flush();

    void Discard(long offset, long length);
}

/// <summary>Thrown when a write or discard reaches a device opened read-only.</summary>
public sealed class ReadOnlyDeviceException(string deviceName)
    : IOException($"{deviceName}: device is read-only");
