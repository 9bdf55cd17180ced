namespace MountFs.Memory;

/// <summary>
/// A regular file's bytes as 4 KiB pages grouped in aligned 2 MiB <see cref="SparseChunk"/>s: pages never written
/// are holes that read as zeros and cost nothing, so a file whose size passes 4 GiB holds only what was written.
/// </summary>
/// <remarks>
/// Invariant: every byte of a stored page at or past <see cref="Size"/> is zero, so growing the
/// file (by truncate or by a write past the end) exposes zeros without touching pages.
/// A chunk that a write or fallocate would leave at least half present moves into one 2 MiB mapping
/// (<see cref="PageRegion"/>, pre-faulted by a background thread): a streaming write then costs one copy and a
/// few bit operations per request instead of a pinned allocation, a table insert and a page fault per 4 KiB.
/// Holes, SEEK_DATA/SEEK_HOLE and the block count stay per page; when a chunk turns dense the memory it holds is
/// at most twice what it counts, and a page dropped later gives its memory back. <see cref="Release"/> gives the regions back.
/// Not thread-safe: the owning file system serialises access.
/// </remarks>
internal sealed class SparseFileData
{
    public const int PageSize = 4096;
    private const int ChunkShift = 21;
    // log2 of the pages in a chunk: file page number >> ChunkPageShift = chunk index.
    private const int ChunkPageShift = ChunkShift - 12;
    private const int ProbeLimit = 64;

    private readonly Dictionary<long, SparseChunk> _chunks = [];
    // The same chunks in order, for ordered queries (SEEK_DATA, range removal, counting a long range).
    private readonly SortedSet<long> _order = [];

    public long Size { get; private set; }

    public long PageCount { get; private set; }

    /// <summary>Chunks held in one region (what tests check to know the dense path ran).</summary>
    internal int DenseChunks => _chunks.Values.Count(c => c.IsDense);

    /// <summary>Pages that would be allocated to hold [offset, offset+length).</summary>
    public long MissingPages(long offset, long length)
    {
        if (length <= 0) return 0;
        long first = offset / PageSize, last = (offset + length - 1) / PageSize;
        long present = 0;
        foreach (var (index, chunk) in ChunksBetween(first >> ChunkPageShift, last >> ChunkPageShift))
        {
            var (from, to) = PagesIn(index, first, last);
            present += chunk.CountBetween(from, to);
        }
        return last - first + 1 - present;
    }

    public int Read(long offset, Span<byte> buffer)
    {
        if (offset >= Size) return 0;
        int count = (int)Math.Min(buffer.Length, Size - offset);
        int done = 0;
        while (done < count)
        {
            long position = offset + done;
            int inChunk = (int)(position & (SparseChunk.Bytes - 1));
            int n = Math.Min(SparseChunk.Bytes - inChunk, count - done);
            if (_chunks.TryGetValue(position >> ChunkShift, out var chunk)) chunk.Read(inChunk, buffer.Slice(done, n));
            else buffer.Slice(done, n).Clear();
            done += n;
        }
        return count;
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, growing the size to cover it.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        int done = 0;
        while (done < data.Length)
        {
            long position = offset + done;
            int inChunk = (int)(position & (SparseChunk.Bytes - 1));
            int n = Math.Min(SparseChunk.Bytes - inChunk, data.Length - done);
            var chunk = ChunkFor(position >> ChunkShift, inChunk / PageSize, (inChunk + n - 1) / PageSize);
            int before = chunk.Count;
            chunk.Write(inChunk, data.Slice(done, n));
            PageCount += chunk.Count - before;
            done += n;
        }
        if (data.Length > 0) Size = Math.Max(Size, offset + data.Length);
    }

    /// <summary>Sets the size; shrinking drops whole pages past the end and zeroes the tail of the last one.</summary>
    public void SetSize(long size)
    {
        if (size < Size) ZeroRange(size, long.MaxValue - size, dropWholePages: true);
        Size = size;
    }

    /// <summary>Makes sure pages back [offset, offset+length) (fallocate); the size is not changed.</summary>
    public void Allocate(long offset, long length)
    {
        if (length <= 0) return;
        long first = offset / PageSize, last = (offset + length - 1) / PageSize;
        for (long index = first >> ChunkPageShift; index <= last >> ChunkPageShift; index++)
        {
            var (from, to) = PagesIn(index, first, last);
            var chunk = ChunkFor(index, from, to);
            int before = chunk.Count;
            chunk.Allocate(from, to);
            PageCount += chunk.Count - before;
        }
    }

    /// <summary>Zeroes [offset, offset+length); whole pages are dropped (a hole) when <paramref name="dropWholePages"/>.</summary>
    public void ZeroRange(long offset, long length, bool dropWholePages)
    {
        if (length <= 0 || PageCount == 0) return;
        long end = length > long.MaxValue - offset ? long.MaxValue : offset + length;
        // Collected first: emptied chunks leave the set while we go.
        foreach (var (index, chunk) in ChunksBetween(offset >> ChunkShift, (end - 1) >> ChunkShift).ToList())
        {
            long chunkStart = index << ChunkShift;
            int from = (int)Math.Max(0, offset - chunkStart);
            int to = (int)Math.Min(SparseChunk.Bytes, end - chunkStart);
            int before = chunk.Count;
            if (dropWholePages && from == 0 && to == SparseChunk.Bytes) chunk.Dispose();
            else chunk.Zero(from, to, dropWholePages);
            PageCount += chunk.Count - before;
            if (chunk.Count == 0) RemoveChunk(index);
        }
    }

    /// <summary>First offset at or after <paramref name="offset"/> backed by a page, or -1 if none before the end.</summary>
    public long NextData(long offset)
    {
        if (offset >= Size || PageCount == 0) return -1;
        long first = offset / PageSize;
        long firstChunk = first >> ChunkPageShift;
        foreach (long index in _order.GetViewBetween(firstChunk, long.MaxValue >> ChunkShift))
        {
            int page = _chunks[index].NextPresent(index == firstChunk ? (int)(first & (SparseChunk.Pages - 1)) : 0);
            if (page < 0) continue;
            long start = Math.Max(offset, ((index << ChunkPageShift) + page) * PageSize);
            return start < Size ? start : -1;
        }
        return -1;
    }

    /// <summary>First offset at or after <paramref name="offset"/> in a hole; the end of file counts as one.</summary>
    public long NextHole(long offset)
    {
        long index = offset / PageSize;
        while (index * PageSize < Size)
        {
            if (!_chunks.TryGetValue(index >> ChunkPageShift, out var chunk)) break;
            int page = chunk.NextAbsent((int)(index & (SparseChunk.Pages - 1)));
            index = (index & ~(long)(SparseChunk.Pages - 1)) + page;
            if (page < SparseChunk.Pages) break;
        }
        return Math.Min(Math.Max(offset, index * PageSize), Size);
    }

    /// <summary>Gives every region back (the file is gone); the data reads as empty afterwards.</summary>
    public void Release()
    {
        foreach (var chunk in _chunks.Values) chunk.Dispose();
        _chunks.Clear();
        _order.Clear();
        PageCount = 0;
        Size = 0;
    }

    /// <summary>The chunk that is about to get pages [from, to], made dense when that leaves it at least half present.</summary>
    private SparseChunk ChunkFor(long index, int from, int to)
    {
        if (!_chunks.TryGetValue(index, out var chunk))
        {
            chunk = new SparseChunk();
            _chunks.Add(index, chunk);
            _order.Add(index);
        }
        if (!chunk.IsDense && chunk.Count + (to - from + 1) - chunk.CountBetween(from, to) >= SparseChunk.Pages / 2)
            chunk.TryMakeDense();
        return chunk;
    }

    private void RemoveChunk(long index)
    {
        if (!_chunks.Remove(index, out var chunk)) return;
        _order.Remove(index);
        chunk.Dispose();
    }

    /// <summary>Pages [first, last] of the file as page numbers inside chunk <paramref name="index"/>.</summary>
    private static (int From, int To) PagesIn(long index, long first, long last)
    {
        long chunkFirst = index << ChunkPageShift;
        return ((int)(Math.Max(first, chunkFirst) - chunkFirst), (int)(Math.Min(last, chunkFirst + SparseChunk.Pages - 1) - chunkFirst));
    }

    /// <summary>The existing chunks with index in [first, last], in order: probed one by one for a short range.</summary>
    private IEnumerable<(long Index, SparseChunk Chunk)> ChunksBetween(long first, long last)
    {
        if (_chunks.Count == 0) yield break;
        if (last - first < ProbeLimit)
        {
            for (long index = first; index <= last; index++)
                if (_chunks.TryGetValue(index, out var chunk)) yield return (index, chunk);
            yield break;
        }
        foreach (long index in _order.GetViewBetween(first, last)) yield return (index, _chunks[index]);
    }
}
