using System.Buffers;
using MountFs.Blocks;

namespace MountFs.Ext;

/// <summary>What a cached block holds; decides its write-back phase (see <see cref="BlockCache.WriteBack"/>).</summary>
internal enum BlockKind
{
    /// <summary>File contents and slow-symlink targets: not journaled, written first.</summary>
    Data,
    /// <summary>Indirect (index) blocks and extended-attribute blocks: point at or describe data.</summary>
    Indirect,
    /// <summary>Block and inode bitmaps.</summary>
    Bitmap,
    /// <summary>Group descriptor table blocks.</summary>
    Descriptor,
    InodeTable,
    Directory,
}

/// <summary>
/// The ext2 block cache: every metadata and data block the file system reads or writes passes through here, so
/// a transaction (<see cref="Transaction"/>) sees one buffer per block and write-back can order what reaches the
/// device. Clean blocks are evicted least-recently-used beyond the capacity; dirty blocks stay until
/// <see cref="WriteBack"/>.
/// </summary>
/// <remarks>
/// <para><b>Why not CachedBlockDevice.</b> That cache sits below the block interface and cannot know a block's kind,
/// so it cannot order write-back; the journal (ext3) also needs each transaction's block set. Stacking both would
/// only double-cache.</para>
/// <para><b>Write-back order</b> (the ext2 "soft ordering" that leaves only e2fsck-repairable states after a power
/// cut, each phase ended by a device flush): (1) data and indirect/xattr blocks, so metadata never points at
/// garbage; (2) bitmaps and group descriptors, so a block or inode is marked used before anything claims it;
/// (3) inode tables, so an inode is complete before a name refers to it; (4) directory blocks, so a new entry
/// reaches the disk after the inode it names; then the superblock. A crash in between leaves at worst leaked
/// blocks/inodes or stale free counts, which e2fsck fixes without losing data.</para>
/// <para>Whole uncached data blocks of a write bypass the cache (<see cref="WriteDirect"/>): they are on the device
/// before any later write-back phase runs, so they belong to phase (1) and its flush covers them.</para>
/// <para>Not thread-safe: the file system's lock covers it.</para>
/// </remarks>
internal sealed class BlockCache
{
    private sealed class Entry
    {
        public required uint Block;
        public required byte[] Data;
        public BlockKind Kind;
        public bool Dirty;
        public LinkedListNode<Entry>? Lru;
    }

    private readonly IBlockDevice _device;
    private readonly int _blockSize;
    private readonly uint _blocksCount;
    private readonly int _capacityBlocks;
    private readonly Dictionary<uint, Entry> _entries = [];
    private readonly LinkedList<Entry> _clean = new();
    private int _dirtyCount;
    /// <summary>Block-sized buffers nobody holds (evicted blocks, returned before-images), reused for new blocks and
    /// before-images so streaming I/O and metadata operations do not churn the GC.</summary>
    private readonly Stack<byte[]> _spare = new();
    private const int MaxSpare = 1024;

    public BlockCache(IBlockDevice device, int blockSize, uint blocksCount, long capacityBytes)
    {
        _device = device;
        _blockSize = blockSize;
        _blocksCount = blocksCount;
        _capacityBlocks = (int)Math.Clamp(capacityBytes / blockSize, 64, int.MaxValue / 2);
    }

    public int BlockSize => _blockSize;
    public int DirtyCount => _dirtyCount;
    public int CapacityBlocks => _capacityBlocks;

    /// <summary>Total bytes written to the device since mount (for s_kbytes_written).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>The cached contents of <paramref name="block"/>; callers must not modify it outside a transaction.</summary>
    public byte[] Read(uint block)
    {
        if (_entries.TryGetValue(block, out var e))
        {
            Touch(e);
            return e.Data;
        }
        CheckRange(block);
        var data = NewBuffer();
        _device.Read((long)block * _blockSize, data);
        e = new Entry { Block = block, Data = data };
        _entries[block] = e;
        e.Lru = _clean.AddLast(e);
        EvictIfNeeded();
        return data;
    }

    /// <summary>Reads a block without keeping it (bulk file data that would only evict metadata).</summary>
    public void ReadUncached(uint block, Span<byte> destination)
    {
        if (_entries.TryGetValue(block, out var e)) { e.Data.CopyTo(destination); return; }
        CheckRange(block);
        _device.Read((long)block * _blockSize, destination[.._blockSize]);
    }

    /// <summary>Reads <paramref name="count"/> consecutive blocks from the device in one request, bypassing the cache:
    /// the caller uses only blocks that are not cached (a cached one may be newer than its device copy).</summary>
    public void ReadRunUncached(uint first, int count, Span<byte> destination)
    {
        CheckRange(first);
        CheckRange(first + (uint)count - 1);
        _device.Read((long)first * _blockSize, destination[..(count * _blockSize)]);
    }

    public bool TryPeek(uint block, out byte[] data)
    {
        if (_entries.TryGetValue(block, out var e)) { data = e.Data; return true; }
        data = [];
        return false;
    }

    /// <summary>The block's buffer, marked dirty with <paramref name="kind"/>; <paramref name="fresh"/> skips the read (contents zeroed).</summary>
    internal byte[] GetForWrite(uint block, BlockKind kind, bool fresh)
    {
        if (!_entries.TryGetValue(block, out var e))
        {
            CheckRange(block);
            var data = NewBuffer();
            if (fresh) Array.Clear(data);
            else _device.Read((long)block * _blockSize, data);
            e = new Entry { Block = block, Data = data };
            _entries[block] = e;
        }
        else if (fresh) Array.Clear(e.Data);
        e.Kind = kind;
        if (!e.Dirty)
        {
            e.Dirty = true;
            _dirtyCount++;
            if (e.Lru != null) { _clean.Remove(e.Lru); e.Lru = null; }
        }
        return e.Data;
    }

    /// <summary>Restores a block's contents after an aborted transaction (null: the block was new, drop it).</summary>
    internal void Restore(uint block, byte[]? before, bool wasDirty)
    {
        if (!_entries.TryGetValue(block, out var e)) return;
        if (before == null)
        {
            if (e.Dirty) _dirtyCount--;
            if (e.Lru != null) _clean.Remove(e.Lru);
            _entries.Remove(block);
            return;
        }
        before.CopyTo(e.Data, 0);
        if (!wasDirty && e.Dirty)
        {
            e.Dirty = false;
            _dirtyCount--;
            e.Lru = _clean.AddLast(e);
        }
    }

    /// <summary>A copy of a block's contents in a pooled buffer (a transaction's before-image); give it back with
    /// <see cref="ReturnCopy"/>.</summary>
    internal byte[] CopyOf(byte[] data)
    {
        var copy = NewBuffer();
        data.AsSpan(0, _blockSize).CopyTo(copy);
        return copy;
    }

    internal void ReturnCopy(byte[] copy)
    {
        if (copy.Length == _blockSize && _spare.Count < MaxSpare) _spare.Push(copy);
    }

    internal bool IsDirty(uint block) => _entries.TryGetValue(block, out var e) && e.Dirty;

    /// <summary>Forgets a freed block's pending contents: nothing should write a block nobody owns.</summary>
    public void Drop(uint block)
    {
        if (!_entries.Remove(block, out var e)) return;
        if (e.Dirty) _dirtyCount--;
        if (e.Lru != null) _clean.Remove(e.Lru);
    }

    /// <summary>Writes every dirty block in the four phases described on the type, each followed by a device flush
    /// (skipped when nothing reached the device since the last one).</summary>
    public void WriteBack(Action? beforeFinalFlush = null)
    {
        if (_dirtyCount > 0)
        {
            var dirty = _entries.Values.Where(e => e.Dirty).ToList();
            WritePhase(dirty, k => k is BlockKind.Data or BlockKind.Indirect);
            WritePhase(dirty, k => k is BlockKind.Bitmap or BlockKind.Descriptor);
            WritePhase(dirty, k => k is BlockKind.InodeTable);
            WritePhase(dirty, k => k is BlockKind.Directory);
        }
        beforeFinalFlush?.Invoke();
        FlushIfWritten();
        _recycle = true;
        try { EvictIfNeeded(); }
        finally { _recycle = false; }
    }

    /// <summary>
    /// Writes the dirty file data blocks (ascending, neighbours in one request) without a flush and leaves them clean;
    /// like <see cref="WriteDirect"/> this only puts data ahead of the metadata that will point at it, and the next
    /// write-back's data-phase flush covers it. Clean blocks beyond the capacity are then evicted.
    /// </summary>
    public void SpillData()
    {
        var dirty = _entries.Values.Where(e => e.Dirty && e.Kind == BlockKind.Data).ToList();
        if (dirty.Count == 0) return;
        WritePhase(dirty, k => k is BlockKind.Data, flush: false);
        _recycle = true;
        try { EvictIfNeeded(); }
        finally { _recycle = false; }
    }

    private void WritePhase(List<Entry> dirty, Func<BlockKind, bool> inPhase, bool flush = true)
    {
        // Ascending block order lets runs coalesce into one device write.
        var list = dirty.Where(e => e.Dirty && inPhase(e.Kind)).OrderBy(e => e.Block).ToList();
        int i = 0;
        while (i < list.Count)
        {
            int j = i + 1;
            while (j < list.Count && list[j].Block == list[j - 1].Block + 1 && j - i < 256) j++;
            if (j - i == 1) _device.Write((long)list[i].Block * _blockSize, list[i].Data);
            else
            {
                int length = (j - i) * _blockSize;
                var buf = ArrayPool<byte>.Shared.Rent(length);
                for (int k = i; k < j; k++) list[k].Data.CopyTo(buf, (k - i) * _blockSize);
                _device.Write((long)list[i].Block * _blockSize, buf.AsSpan(0, length));
                ArrayPool<byte>.Shared.Return(buf);
            }
            BytesWritten += (long)(j - i) * _blockSize;
            _unflushed = true;
            for (int k = i; k < j; k++)
            {
                list[k].Dirty = false;
                _dirtyCount--;
                list[k].Lru = _clean.AddLast(list[k]);
            }
            i = j;
        }
        // Also covers direct data writes made since the last flush: with phase (1) they precede all metadata.
        if (flush) FlushIfWritten();
    }

    public bool Contains(uint block) => _entries.ContainsKey(block);

    /// <summary>
    /// Writes whole data blocks <paramref name="first"/>.. straight to the device, bypassing the cache (none of them
    /// may be cached). Only for file data: it reaches the device before write-back writes any metadata pointing at
    /// it, and the next write-back flushes after its data phase.
    /// </summary>
    public void WriteDirect(uint first, ReadOnlySpan<byte> blocks)
    {
        int count = blocks.Length / _blockSize;
        CheckRange(first);
        CheckRange(first + (uint)count - 1);
        _device.Write((long)first * _blockSize, blocks[..(count * _blockSize)]);
        BytesWritten += (long)count * _blockSize;
        _unflushed = true;
    }

    /// <summary>Something reached the device since its last flush: a phase with nothing new, or an fsync of a clean
    /// file system, needs no flush (each costs the host a journal commit and a disk cache flush).</summary>
    private bool _unflushed;

    private void FlushIfWritten()
    {
        if (!_unflushed) return;
        _device.Flush();
        _unflushed = false;
    }

    /// <summary>Writes raw bytes outside the block cache (the superblock at byte 1024).</summary>
    public void WriteRaw(long offset, ReadOnlySpan<byte> data)
    {
        _device.Write(offset, data);
        BytesWritten += data.Length;
        _unflushed = true;
    }

    private void Touch(Entry e)
    {
        if (e.Lru == null) return;
        _clean.Remove(e.Lru);
        _clean.AddLast(e.Lru);
    }

    private void EvictIfNeeded()
    {
        while (_entries.Count > _capacityBlocks && _clean.First is { } first)
        {
            _clean.RemoveFirst();
            first.Value.Lru = null;
            _entries.Remove(first.Value.Block);
            // Callers may still hold a reference to a clean buffer they just read (never across an operation that
            // can evict it and then read it again), so only buffers evicted by bulk write-back are recycled.
            if (_recycle && _spare.Count < MaxSpare) _spare.Push(first.Value.Data);
        }
    }

    private bool _recycle;

    private byte[] NewBuffer() => _spare.TryPop(out var b) ? b : new byte[_blockSize];

    private void CheckRange(uint block)
    {
        // Callers validate on-disk pointers first; this is the last line that keeps any request inside the image.
        if (block >= _blocksCount || (long)(block + 1) * _blockSize > _device.Length)
            throw new Vfs.FsException(Vfs.Errno.EIO, $"{_device.Name}: block {block} is outside the file system ({_blocksCount} blocks)");
    }
}
