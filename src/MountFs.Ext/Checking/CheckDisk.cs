using MountFs.Blocks;

namespace MountFs.Ext.Checking;

/// <summary>
/// The checker's view of the device: block reads and a private overlay of changed blocks. Every repair lands in the
/// overlay first, so a read-only check (-n) follows the same code path and simply never flushes, and a preen that
/// meets a problem it may not fix can drop everything it changed.
/// </summary>
/// <remarks>Block numbers are checked against the file system's block count and the device length before any
/// device call, so garbage pointers can never make the checker read or write outside the image.</remarks>
internal sealed class CheckDisk
{
    private const int CleanCacheLimit = 4096;
    private readonly IBlockDevice _device;
    private readonly FileBlockDevice? _file;
    private readonly List<(uint First, int Count)> _runs = [];
    private readonly Dictionary<uint, byte[]> _dirty = [];
    private readonly Dictionary<uint, byte[]> _clean = [];

    public CheckDisk(IBlockDevice device, int blockSize, uint blocksCount)
    {
        _device = device;
        _file = device as FileBlockDevice;
        BlockSize = blockSize;
        BlocksCount = blocksCount;
    }

    public int BlockSize { get; }

    /// <summary>Blocks addressable on this device under the current superblock (shrinks when a truncated image is repaired).</summary>
    public uint BlocksCount { get; set; }

    public bool HasChanges => _dirty.Count > 0;

    public bool InRange(uint block) => block < BlocksCount && (long)(block + 1) * BlockSize <= _device.Length;

    /// <summary>The block's current contents (overlay first); callers must not modify the returned array.</summary>
    public byte[] Read(uint block)
    {
        if (_dirty.TryGetValue(block, out var d)) return d;
        if (_clean.TryGetValue(block, out var c)) return c;
        if (!InRange(block)) throw new CheckAbortedException($"block {block} lies outside the file system");
        var data = new byte[BlockSize];
        _device.Read((long)block * BlockSize, data);
        if (_clean.Count >= CleanCacheLimit) _clean.Clear();
        _clean[block] = data;
        return data;
    }

    /// <summary>
    /// One block into the caller's buffer, overlay applied, without caching it: for blocks a pass reads once
    /// (indirect blocks, directory blocks), so a large tree costs neither a fresh array nor cache churn per block.
    /// </summary>
    public void ReadInto(uint block, Span<byte> into)
    {
        into = into[..BlockSize];
        if (_dirty.TryGetValue(block, out var d)) { d.CopyTo(into); return; }
        if (_clean.TryGetValue(block, out var c)) { c.CopyTo(into); return; }
        if (!InRange(block)) throw new CheckAbortedException($"block {block} lies outside the file system");
        _device.Read((long)block * BlockSize, into);
    }

    /// <summary>Reads <paramref name="count"/> consecutive blocks in one device request into <paramref name="into"/>, overlay applied.</summary>
    public void ReadRange(uint first, int count, Span<byte> into)
    {
        if (count <= 0 || !InRange(first) || !InRange(first + (uint)count - 1))
            throw new CheckAbortedException($"blocks {first}+{count} lie outside the file system");
        into = into[..checked(count * BlockSize)];
        _device.Read((long)first * BlockSize, into);
        if (_dirty.Count == 0) return;
        for (int i = 0; i < count; i++)
            if (_dirty.TryGetValue(first + (uint)i, out var d)) d.CopyTo(into[(i * BlockSize)..]);
    }

    /// <summary>
    /// Asks the device to start reading <paramref name="blocks"/> (any order, duplicates allowed; sorted in place)
    /// into the page cache without waiting. From cold caches a check is a long series of small dependent reads;
    /// announced together they reach the disk together, and a read that finds its block already on the way
    /// starts no read-ahead of its own (8 MiB windows here, mostly file data the check never looks at).
    /// A hint only: blocks outside the file system are skipped, and devices other than an image file or block
    /// device ignore it.
    /// </summary>
    public void Prefetch(List<uint> blocks)
    {
        if (_file is null || blocks.Count == 0) return;
        blocks.Sort();
        _runs.Clear();
        foreach (uint b in blocks)
        {
            if (!InRange(b)) continue;
            if (_runs.Count > 0 && _runs[^1] is var (first, count) && (long)first + count >= b)
                _runs[^1] = (first, (int)Math.Max(count, b - first + 1));
            else
                _runs.Add((b, 1));
        }
        foreach (var (first, count) in _runs) Prefetch(first, count);
    }

    /// <summary><see cref="Prefetch(List{uint})"/> for one run of consecutive blocks.</summary>
    public void Prefetch(uint first, int count)
    {
        if (_file is null || count <= 0 || !InRange(first) || (long)first + count - 1 > uint.MaxValue || !InRange(first + (uint)(count - 1)))
            return;
        _file.Prefetch((long)first * BlockSize, (long)count * BlockSize);
    }

    /// <summary>A writable copy of the block in the overlay; the change reaches the device only at <see cref="Flush"/>.</summary>
    public byte[] Modify(uint block)
    {
        if (_dirty.TryGetValue(block, out var d)) return d;
        var copy = (byte[])Read(block).Clone();
        _clean.Remove(block);
        _dirty[block] = copy;
        return copy;
    }

    /// <summary>A block whose old contents do not matter (a freshly allocated one), zeroed in the overlay.</summary>
    public byte[] Overwrite(uint block)
    {
        if (!InRange(block)) throw new CheckAbortedException($"block {block} lies outside the file system");
        var data = new byte[BlockSize];
        _clean.Remove(block);
        _dirty[block] = data;
        return data;
    }

    public void Discard()
    {
        _dirty.Clear();
        _clean.Clear();
    }

    /// <summary>Writes every changed block in block order, then a device flush.</summary>
    public void Flush()
    {
        foreach (var (block, data) in _dirty.OrderBy(kv => kv.Key))
        {
            long offset = (long)block * BlockSize;
            if (offset + BlockSize > _device.Length) throw new CheckAbortedException($"refusing to write block {block} past the device end");
            if (offset % _device.SectorSize == 0 && BlockSize % _device.SectorSize == 0)
            {
                _device.Write(offset, data);
                continue;
            }
            // A sector larger than the block: read-modify-write the covering sector.
            long start = offset / _device.SectorSize * _device.SectorSize;
            var sector = new byte[_device.SectorSize];
            _device.Read(start, sector);
            data.CopyTo(sector, (int)(offset - start));
            _device.Write(start, sector);
        }
        _device.Flush();
        _dirty.Clear();
    }
}
