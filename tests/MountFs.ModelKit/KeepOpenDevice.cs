using MountFs.Blocks;

namespace MountFs.ModelKit;

/// <summary>
/// Passes everything to a device except Dispose, so a test can mount a layout (which takes ownership
/// of its device), dispose the file system for a remount, and mount the same device again.
/// </summary>
public sealed class KeepOpenDevice(IBlockDevice inner) : IBlockDevice
{
    public IBlockDevice Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));
    public string Name => Inner.Name;
    public long Length => Inner.Length;
    public int SectorSize => Inner.SectorSize;
    public bool IsReadOnly => Inner.IsReadOnly;
    public void Read(long offset, Span<byte> buffer) => Inner.Read(offset, buffer);
    public void Write(long offset, ReadOnlySpan<byte> data) => Inner.Write(offset, data);
    public void Flush() => Inner.Flush();
    public void Discard(long offset, long length) => Inner.Discard(offset, length);

    /// <summary>Does nothing: the test that made the inner device disposes it.</summary>
    public void Dispose() { }
}
