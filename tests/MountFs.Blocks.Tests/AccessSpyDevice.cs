namespace MountFs.Blocks.Tests;

/// <summary>Passes requests to an inner device and fails the test the moment one leaves an allowed window.</summary>
public sealed class AccessSpyDevice(IBlockDevice inner, long allowedStart, long allowedLength) : IBlockDevice
{
    public int Requests { get; private set; }
    public string Name => inner.Name;
    public long Length => inner.Length;
    public int SectorSize => inner.SectorSize;
    public bool IsReadOnly => inner.IsReadOnly;

    public void Read(long offset, Span<byte> buffer)
    {
        Allow(offset, buffer.Length);
        inner.Read(offset, buffer);
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Allow(offset, data.Length);
        inner.Write(offset, data);
    }

    public void Discard(long offset, long length)
    {
        Allow(offset, length);
        inner.Discard(offset, length);
    }

    public void Flush() => inner.Flush();

    public void Dispose() => inner.Dispose();

    private void Allow(long offset, long length)
    {
        Requests++;
        Assert.True(offset >= allowedStart && length >= 0 && offset - allowedStart <= allowedLength - length,
            $"request {offset}+{length} leaves the window {allowedStart}+{allowedLength}");
    }
}
