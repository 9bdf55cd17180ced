using System.Buffers;

namespace MountFs.Blocks;

/// <summary>
/// A write-back block cache in front of another device, with a size limit and least-recently-used eviction.
/// </summary>
/// <remarks>
/// <para>Data lives in cache blocks of <see cref="BlockSize"/> bytes (the last one shorter when the device
/// length is not a multiple). Writes change only the cache and mark blocks dirty; dirty blocks reach the inner
/// device when evicted (written back before they are dropped) or at <see cref="Flush"/>, which writes every dirty
/// block in ascending offset order (adjacent blocks in one write) and then flushes the inner device. So after Flush the inner device holds
/// everything written before it; before Flush, any subset of the writes may have reached it.</para>
/// <para>Threading: a short map lock guards the block table and the LRU list; each block has its own lock, and
/// inner-device I/O runs holding only block locks. A request locks its blocks in ascending order, so a request
/// of up to <see cref="CacheStatistics.CapacityBlocks"/> blocks (at most 1 MiB) is atomic with respect to other
/// requests; longer ones are served in such pieces. Discard briefly excludes every other request. The limit is
/// exceeded only by blocks that requests are using at that moment.</para>
/// <para>A failed write-back surfaces as <see cref="IOException"/> from the request whose eviction hit it, or from
/// Flush; the block stays dirty and is retried later.</para>
/// <para>Disposing writes back dirty blocks and flushes, then disposes the inner device unless leaveOpen.</para>
/// </remarks>
public sealed class CachedBlockDevice : IBlockDevice
{
    private const int MaxPieceBytes = 1 << 20;
    private const int WriteBackBatch = 32;
    private const int EvictionWalk = 256;

    private readonly IBlockDevice _inner;
    private readonly bool _leaveOpen;
    private readonly int _capacityBlocks;
    private readonly int _pieceBlocks;
    private readonly Lock _mapLock = new();
    private readonly Dictionary<long, CacheBlock> _blocks = [];
    private readonly LinkedList<CacheBlock> _lru = new(); // first = most recently used
    private readonly ReaderWriterLockSlim _discardGate = new(LockRecursionPolicy.NoRecursion);
    private long _hits, _misses, _evictions;
    private int _dirtyBlocks;
    private bool _disposed;

    /// <param name="inner">The device to cache.</param>
    /// <param name="capacityBytes">Size limit of cached data; at least one block.</param>
    /// <param name="blockSize">Cache block size: a power of two and a multiple of the inner sector size.</param>
    /// <param name="leaveOpen">Leave the inner device open on Dispose.</param>
    public CachedBlockDevice(IBlockDevice inner, long capacityBytes, int blockSize = 4096, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (blockSize <= 0 || (blockSize & (blockSize - 1)) != 0 || blockSize % inner.SectorSize != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"must be a power of two and a multiple of the sector size {inner.SectorSize}");
        if (capacityBytes < blockSize)
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes, "the cache must hold at least one block");
        _inner = inner;
        _leaveOpen = leaveOpen;
        BlockSize = blockSize;
        _capacityBlocks = (int)Math.Min(capacityBytes / blockSize, int.MaxValue / 2);
        _pieceBlocks = Math.Max(1, Math.Min(_capacityBlocks, MaxPieceBytes / blockSize));
    }

    public string Name => _inner.Name;
    public long Length => _inner.Length;
    public int SectorSize => _inner.SectorSize;
    public bool IsReadOnly => _inner.IsReadOnly;

    /// <summary>Size of one cache block in bytes.</summary>
    public int BlockSize { get; }

    public CacheStatistics Statistics
    {
        get
        {
            int resident;
            lock (_mapLock)
                resident = _blocks.Count;
            return new CacheStatistics(Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), Interlocked.Read(ref _evictions),
                Volatile.Read(ref _dirtyBlocks), resident, _capacityBlocks);
        }
    }

    public void Read(long offset, Span<byte> buffer)
    {
        DeviceRange.Check(offset, buffer.Length, Length, SectorSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!buffer.IsEmpty)
        {
            int piece = PieceLength(offset, buffer.Length);
            Access(offset, piece, buffer[..piece], ReadOnlySpan<byte>.Empty, isWrite: false);
            offset += piece;
            buffer = buffer[piece..];
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        DeviceRange.Check(offset, data.Length, Length, SectorSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        while (!data.IsEmpty)
        {
            int piece = PieceLength(offset, data.Length);
            Access(offset, piece, Span<byte>.Empty, data[..piece], isWrite: true);
            offset += piece;
            data = data[piece..];
        }
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _discardGate.EnterReadLock();
        try
        {
            CacheBlock[] dirty;
            lock (_mapLock)
            {
                dirty = _blocks.Values.Where(b => b.Dirty).OrderBy(b => b.Index).ToArray();
                foreach (var block in dirty)
                    block.Pins++;
            }
            try
            {
                WriteBackSorted(dirty);
            }
            finally
            {
                Unpin(dirty);
            }
            _inner.Flush();
        }
        finally
        {
            _discardGate.ExitReadLock();
        }
    }

    public void Discard(long offset, long length)
    {
        DeviceRange.Check(offset, length, Length, SectorSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        if (length == 0)
            return;
        _discardGate.EnterWriteLock();
        try
        {
            long end = offset + length;
            lock (_mapLock)
            {
                long first = offset / BlockSize, last = (end - 1) / BlockSize;
                IEnumerable<CacheBlock> candidates = last - first + 1 <= _blocks.Count
                    ? Range(first, last).Select(i => _blocks.GetValueOrDefault(i)).OfType<CacheBlock>().ToArray()
                    : _blocks.Values.Where(b => b.Index >= first && b.Index <= last).ToArray();
                foreach (var block in candidates)
                {
                    long blockStart = block.Index * BlockSize;
                    if (offset <= blockStart && blockStart + block.Data.Length <= end)
                    {
                        // Nothing else runs during a discard, so the block can go without its own lock.
                        if (block.Dirty)
                        {
                            block.Dirty = false;
                            Interlocked.Decrement(ref _dirtyBlocks);
                        }
                        _lru.Remove(block.Node!);
                        _blocks.Remove(block.Index);
                    }
                    else if (block.Loaded)
                    {
                        long from = Math.Max(offset, blockStart), to = Math.Min(end, blockStart + block.Data.Length);
                        block.Data.AsSpan((int)(from - blockStart), (int)(to - from)).Clear();
                    }
                }
            }
            _inner.Discard(offset, length);
        }
        finally
        {
            _discardGate.ExitWriteLock();
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        Flush();
        _disposed = true;
        _discardGate.Dispose();
        if (!_leaveOpen)
            _inner.Dispose();
    }

    private int PieceLength(long offset, int remaining)
    {
        // Pieces end on cache-block boundaries so no block is shared by two pieces of one request.
        long pieceEnd = (offset / BlockSize + _pieceBlocks) * BlockSize;
        return (int)Math.Min(remaining, pieceEnd - offset);
    }

    private void Access(long offset, int length, Span<byte> readInto, ReadOnlySpan<byte> writeFrom, bool isWrite)
    {
        _discardGate.EnterReadLock();
        try
        {
            long first = offset / BlockSize, last = (offset + length - 1) / BlockSize;
            var blocks = Pin(first, last);
            try
            {
                int locked = 0;
                try
                {
                    for (; locked < blocks.Length; locked++)
                        Monitor.Enter(blocks[locked]);
                    Load(blocks, offset, length, isWrite);
                    foreach (var block in blocks)
                    {
                        long blockStart = block.Index * BlockSize;
                        long from = Math.Max(offset, blockStart), to = Math.Min(offset + length, blockStart + block.Data.Length);
                        var cached = block.Data.AsSpan((int)(from - blockStart), (int)(to - from));
                        int at = (int)(from - offset);
                        if (isWrite)
                        {
                            writeFrom.Slice(at, cached.Length).CopyTo(cached);
                            block.Loaded = true;
                            if (!block.Dirty)
                            {
                                block.Dirty = true;
                                Interlocked.Increment(ref _dirtyBlocks);
                            }
                        }
                        else
                        {
                            cached.CopyTo(readInto.Slice(at, cached.Length));
                        }
                    }
                }
                finally
                {
                    for (int i = locked - 1; i >= 0; i--)
                        Monitor.Exit(blocks[i]);
                }
            }
            finally
            {
                Unpin(blocks);
            }
            EvictOverLimit();
        }
        finally
        {
            _discardGate.ExitReadLock();
        }
    }

    /// <summary>Reads absent blocks from the inner device, one inner read per run of adjacent blocks.
    /// A block a write covers completely needs no read.</summary>
    private void Load(CacheBlock[] blocks, long offset, int length, bool isWrite)
    {
        int i = 0;
        while (i < blocks.Length)
        {
            if (!NeedsLoad(blocks[i]))
            {
                Interlocked.Increment(ref blocks[i].Loaded ? ref _hits : ref _misses);
                i++;
                continue;
            }
            int runEnd = i;
            while (runEnd + 1 < blocks.Length && NeedsLoad(blocks[runEnd + 1]))
                runEnd++;
            long runStart = blocks[i].Index * BlockSize;
            int runLength = (int)(blocks[runEnd].Index * BlockSize + blocks[runEnd].Data.Length - runStart);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(runLength);
            try
            {
                _inner.Read(runStart, buffer.AsSpan(0, runLength));
                for (int j = i; j <= runEnd; j++)
                {
                    buffer.AsSpan((int)(blocks[j].Index * BlockSize - runStart), blocks[j].Data.Length).CopyTo(blocks[j].Data);
                    blocks[j].Loaded = true;
                    Interlocked.Increment(ref _misses);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            i = runEnd + 1;
        }

        bool NeedsLoad(CacheBlock block)
        {
            if (block.Loaded)
                return false;
            if (!isWrite)
                return true;
            long blockStart = block.Index * BlockSize;
            return !(offset <= blockStart && blockStart + block.Data.Length <= offset + length);
        }
    }

    private CacheBlock[] Pin(long first, long last)
    {
        var blocks = new CacheBlock[last - first + 1];
        lock (_mapLock)
        {
            for (long index = first; index <= last; index++)
            {
                if (!_blocks.TryGetValue(index, out var block))
                {
                    int size = (int)Math.Min(BlockSize, Length - index * BlockSize);
                    block = new CacheBlock(index, size);
                    block.Node = _lru.AddFirst(block);
                    _blocks.Add(index, block);
                }
                else
                {
                    _lru.Remove(block.Node!);
                    _lru.AddFirst(block.Node!);
                }
                block.Pins++;
                blocks[index - first] = block;
            }
        }
        return blocks;
    }

    private void Unpin(CacheBlock[] blocks)
    {
        lock (_mapLock)
            foreach (var block in blocks)
                block.Pins--;
    }

    /// <summary>
    /// Drops least-recently-used blocks nobody is using until the cache is within its limit. Dirty blocks near the
    /// LRU end are first written back as a batch (outside the map lock, ascending, adjacent ones in one write), then
    /// dropped once clean; a block that was used again meanwhile stays.
    /// </summary>
    private void EvictOverLimit()
    {
        for (int round = 0; round < 8; round++)
        {
            CacheBlock[] batch;
            lock (_mapLock)
            {
                DropCleanFromLruEnd();
                if (_blocks.Count <= _capacityBlocks)
                    return;
                // Batch beyond the excess only from the older quarter, so recently written blocks are not written early.
                int batchLimit = Math.Max(_blocks.Count - _capacityBlocks, Math.Min(WriteBackBatch, _capacityBlocks / 4));
                var dirty = new List<CacheBlock>();
                int walked = 0;
                for (var node = _lru.Last; node is not null && dirty.Count < batchLimit && walked < EvictionWalk; node = node.Previous, walked++)
                    if (node.Value.Pins == 0 && node.Value.Dirty)
                        dirty.Add(node.Value);
                if (dirty.Count == 0)
                    return; // everything near the end is in use: the limit is exceeded until those requests finish
                foreach (var block in dirty)
                    block.Pins++;
                batch = dirty.OrderBy(b => b.Index).ToArray();
            }
            try
            {
                WriteBackSorted(batch);
            }
            finally
            {
                Unpin(batch);
            }
        }
    }

    /// <summary>Under the map lock: drops unused clean blocks from the LRU end while over the limit, stopping at
    /// the first unused dirty one so that recency order is kept (it must be written back before anything newer goes).</summary>
    private void DropCleanFromLruEnd()
    {
        int walked = 0;
        for (var node = _lru.Last; node is not null && _blocks.Count > _capacityBlocks && walked < EvictionWalk; walked++)
        {
            var previous = node.Previous;
            if (node.Value.Pins == 0)
            {
                if (node.Value.Dirty)
                    return;
                Drop(node.Value);
            }
            node = previous;
        }
    }

    /// <summary>Writes back pinned blocks sorted by index, one inner write per run of adjacent dirty blocks.</summary>
    private void WriteBackSorted(CacheBlock[] sorted)
    {
        for (int start = 0; start < sorted.Length;)
        {
            int end = start + 1;
            while (end < sorted.Length && sorted[end].Index == sorted[end - 1].Index + 1 && end - start < _pieceBlocks)
                end++;
            WriteBackRun(sorted.AsSpan(start, end - start));
            start = end;
        }
    }

    private void Drop(CacheBlock block)
    {
        _lru.Remove(block.Node!);
        _blocks.Remove(block.Index);
        Interlocked.Increment(ref _evictions);
    }

    /// <summary>Writes adjacent dirty blocks with one inner write per stretch that is still dirty once locked
    /// (eviction may have cleaned some meanwhile). Locks are taken in ascending order like every request's.</summary>
    private void WriteBackRun(ReadOnlySpan<CacheBlock> run)
    {
        int locked = 0;
        try
        {
            for (; locked < run.Length; locked++)
                Monitor.Enter(run[locked]);
            for (int start = 0; start < run.Length;)
            {
                if (!run[start].Dirty)
                {
                    start++;
                    continue;
                }
                int end = start + 1;
                while (end < run.Length && run[end].Dirty)
                    end++;
                if (end - start == 1)
                {
                    WriteBack(run[start]);
                }
                else
                {
                    int length = 0;
                    foreach (var block in run[start..end])
                        length += block.Data.Length;
                    byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
                    try
                    {
                        int at = 0;
                        foreach (var block in run[start..end])
                        {
                            block.Data.CopyTo(buffer, at);
                            at += block.Data.Length;
                        }
                        _inner.Write(run[start].Index * BlockSize, buffer.AsSpan(0, length));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                    foreach (var block in run[start..end])
                    {
                        block.Dirty = false;
                        Interlocked.Decrement(ref _dirtyBlocks);
                    }
                }
                start = end;
            }
        }
        finally
        {
            for (int i = locked - 1; i >= 0; i--)
                Monitor.Exit(run[i]);
        }
    }

    private void WriteBack(CacheBlock block)
    {
        _inner.Write(block.Index * BlockSize, block.Data);
        block.Dirty = false;
        Interlocked.Decrement(ref _dirtyBlocks);
    }

    private static IEnumerable<long> Range(long first, long last)
    {
        for (long i = first; i <= last; i++)
            yield return i;
    }

    /// <summary>One cached block. Pins and Node are guarded by the map lock; Data, Loaded and Dirty by the
    /// block's own lock (Dirty is also read under the map lock by eviction, hence volatile).</summary>
    private sealed class CacheBlock(long index, int size)
    {
        public long Index { get; } = index;
        public byte[] Data { get; } = new byte[size];
        public bool Loaded;
        public volatile bool Dirty;
        public int Pins;
        public LinkedListNode<CacheBlock>? Node;
    }
}
