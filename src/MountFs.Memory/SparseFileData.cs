namespace MountFs.Memory;

/// <summary>
/// A regular file's bytes as fixed-size pages keyed by page index: pages never written are holes
/// that read as zeros and cost nothing, so a file whose size passes 4 GiB holds only what was written.
/// </summary>
/// <remarks>
/// Invariant: every byte of a stored page at or past <see cref="Size"/> is zero, so growing the
/// file (by truncate or by a write past the end) exposes zeros without touching pages.
/// Not thread-safe: the owning file system serialises access.
/// </remarks>
internal sealed class SparseFileData
{
    public const int PageSize = 4096;
    private const int ProbeLimit = 1024;

    // Pages are grouped into chunks for ordered queries (SEEK_DATA/SEEK_HOLE, range removal): the
    // sorted set holds one entry per chunk with any page, so a streaming write touches it once per
    // chunk instead of allocating and balancing a tree node per page.
    private const int ChunkShift = 8;
    private const long ChunkPages = 1L << ChunkShift;

    private readonly Dictionary<long, byte[]> _pages = [];
    private readonly Dictionary<long, int> _chunkCounts = [];
    private readonly SortedSet<long> _chunks = [];

    public long Size { get; private set; }

    public long PageCount => _pages.Count;

    /// <summary>Pages that would be allocated to hold [offset, offset+length).</summary>
    public long MissingPages(long offset, long length)
    {
        if (length <= 0) return 0;
        long first = offset / PageSize, last = (offset + length - 1) / PageSize;
        long span = last - first + 1;
        // A write's range is at most a few hundred pages: probing each costs less than building a
        // sorted view (an allocation and a tree walk) on every write.
        if (span <= ProbeLimit) return span - PresentBetween(first, last);
        long present = 0;
        foreach (long chunk in _chunks.GetViewBetween(first >> ChunkShift, last >> ChunkShift))
        {
            long from = Math.Max(first, chunk << ChunkShift), to = Math.Min(last, ((chunk + 1) << ChunkShift) - 1);
            present += to - from + 1 == ChunkPages ? _chunkCounts[chunk] : PresentBetween(from, to);
        }
        return span - present;
    }

    public int Read(long offset, Span<byte> buffer)
    {
        if (offset >= Size) return 0;
        int count = (int)Math.Min(buffer.Length, Size - offset);
        int done = 0;
        while (done < count)
        {
            long position = offset + done;
            long index = position / PageSize;
            int inPage = (int)(position % PageSize);
            int n = Math.Min(PageSize - inPage, count - done);
            if (_pages.TryGetValue(index, out var page))
                page.AsSpan(inPage, n).CopyTo(buffer.Slice(done, n));
            else
                buffer.Slice(done, n).Clear();
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
            int inPage = (int)(position % PageSize);
            int n = Math.Min(PageSize - inPage, data.Length - done);
            data.Slice(done, n).CopyTo(PageAt(position / PageSize, wholePage: n == PageSize).AsSpan(inPage, n));
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
        for (long index = first; index <= last; index++) PageAt(index, wholePage: false);
    }

    /// <summary>Zeroes [offset, offset+length); whole pages are dropped (a hole) when <paramref name="dropWholePages"/>.</summary>
    public void ZeroRange(long offset, long length, bool dropWholePages)
    {
        if (length <= 0 || _pages.Count == 0) return;
        long end = length > long.MaxValue - offset ? long.MaxValue : offset + length;
        long first = offset / PageSize, last = (end - 1) / PageSize;
        foreach (long index in PresentIndices(first, last))
        {
            long pageStart = index * PageSize;
            int from = (int)Math.Max(0, offset - pageStart);
            int to = (int)Math.Min(PageSize, end - pageStart);
            if (from == 0 && to == PageSize && dropWholePages)
            {
                RemovePage(index);
            }
            else
            {
                _pages[index].AsSpan(from, to - from).Clear();
            }
        }
    }

    /// <summary>First offset at or after <paramref name="offset"/> backed by a page, or -1 if none before the end.</summary>
    public long NextData(long offset)
    {
        if (offset >= Size || _pages.Count == 0) return -1;
        long first = offset / PageSize;
        foreach (long chunk in _chunks.GetViewBetween(first >> ChunkShift, long.MaxValue >> ChunkShift))
        {
            long from = Math.Max(first, chunk << ChunkShift), to = ((chunk + 1) << ChunkShift) - 1;
            for (long index = from; index <= to; index++)
            {
                if (!_pages.ContainsKey(index)) continue;
                long start = Math.Max(offset, index * PageSize);
                return start < Size ? start : -1;
            }
        }
        return -1;
    }

    /// <summary>First offset at or after <paramref name="offset"/> in a hole; the end of file counts as one.</summary>
    public long NextHole(long offset)
    {
        long index = offset / PageSize;
        while (index * PageSize < Size)
        {
            // A full chunk holds no hole: skip it whole.
            if ((index & (ChunkPages - 1)) == 0 && _chunkCounts.GetValueOrDefault(index >> ChunkShift) == ChunkPages)
            {
                index += ChunkPages;
                continue;
            }
            if (!_pages.ContainsKey(index)) break;
            index++;
        }
        return Math.Min(Math.Max(offset, index * PageSize), Size);
    }

    private long PresentBetween(long first, long last)
    {
        long present = 0;
        for (long index = first; index <= last; index++)
            if (_pages.ContainsKey(index)) present++;
        return present;
    }

    /// <summary>Indices of stored pages in [first, last], in order, collected before the caller changes them.</summary>
    private List<long> PresentIndices(long first, long last)
    {
        var found = new List<long>();
        foreach (long chunk in _chunks.GetViewBetween(first >> ChunkShift, last >> ChunkShift))
        {
            long from = Math.Max(first, chunk << ChunkShift), to = Math.Min(last, ((chunk + 1) << ChunkShift) - 1);
            for (long index = from; index <= to; index++)
                if (_pages.ContainsKey(index)) found.Add(index);
        }
        return found;
    }

    private void RemovePage(long index)
    {
        if (!_pages.Remove(index)) return;
        long chunk = index >> ChunkShift;
        int left = _chunkCounts[chunk] - 1;
        if (left > 0)
        {
            _chunkCounts[chunk] = left;
            return;
        }
        _chunkCounts.Remove(chunk);
        _chunks.Remove(chunk);
    }

    /// <param name="wholePage">The caller overwrites every byte, so a new page need not be zeroed first.</param>
    private byte[] PageAt(long index, bool wholePage)
    {
        if (!_pages.TryGetValue(index, out var page))
        {
            // Pages live as long as the file: on the pinned heap they are never copied from generation
            // to generation by the GC, which otherwise moves every written byte twice more.
            page = wholePage ? GC.AllocateUninitializedArray<byte>(PageSize, pinned: true) : GC.AllocateArray<byte>(PageSize, pinned: true);
            _pages[index] = page;
            long chunk = index >> ChunkShift;
            int count = _chunkCounts.GetValueOrDefault(chunk);
            if (count == 0) _chunks.Add(chunk);
            _chunkCounts[chunk] = count + 1;
        }
        return page;
    }
}
