using System.Numerics;

namespace MountFs.Memory;

/// <summary>
/// One aligned 2 MiB stretch of a file (<see cref="Pages"/> pages): which of its pages hold data, and their bytes,
/// either as separate 4 KiB arrays (sparse) or, once it is dense, in one <see cref="PageRegion"/>.
/// </summary>
/// <remarks>
/// A page is "present" (allocated, counted in the file's blocks) when its bit is set; a page that is not present
/// reads as zeros. In a region an absent page's bytes are always zero (the mapping starts zeroed and a dropped page
/// is cleared), so a read may copy a region range as it is. Byte offsets and page numbers are relative to the chunk.
/// Not thread-safe: the owning file system serialises access.
/// </remarks>
internal sealed class SparseChunk : IDisposable
{
    public const int PageSize = SparseFileData.PageSize;
    public const int Bytes = PageRegion.Size;
    public const int Pages = Bytes / PageSize;

    private readonly ulong[] _present = new ulong[Pages / 64];
    private PageRegion? _region;
    // Sparse storage, indexed by page; grown on demand so a small file does not carry 512 slots.
    private byte[]?[] _pages = [];

    /// <summary>Present pages.</summary>
    public int Count { get; private set; }

    /// <summary>Backed by one region rather than separate pages.</summary>
    public bool IsDense => _region is not null;

    public bool Has(int page) => (_present[page >> 6] & (1UL << page)) != 0;

    /// <summary>Present pages in [first, last].</summary>
    public int CountBetween(int first, int last)
    {
        int count = 0;
        for (int word = first >> 6; word <= last >> 6; word++) count += BitOperations.PopCount(_present[word] & Mask(word, first, last));
        return count;
    }

    /// <summary>The first present page at or after <paramref name="from"/>, or -1.</summary>
    public int NextPresent(int from)
    {
        for (int word = from >> 6; word < _present.Length; word++)
        {
            ulong bits = _present[word] & (word == from >> 6 ? ~0UL << from : ~0UL);
            if (bits != 0) return word * 64 + BitOperations.TrailingZeroCount(bits);
        }
        return -1;
    }

    /// <summary>The first absent page at or after <paramref name="from"/>, or <see cref="Pages"/> when the rest is full.</summary>
    public int NextAbsent(int from)
    {
        for (int word = from >> 6; word < _present.Length; word++)
        {
            ulong bits = ~_present[word] & (word == from >> 6 ? ~0UL << from : ~0UL);
            if (bits != 0) return word * 64 + BitOperations.TrailingZeroCount(bits);
        }
        return Pages;
    }

    /// <summary>Moves the chunk's pages into one region; false (nothing changed) when no region can be had.</summary>
    public bool TryMakeDense()
    {
        if (_region is not null) return true;
        var region = PageRegion.Take();
        if (region is null) return false;
        for (int page = NextPresent(0); page >= 0; page = page + 1 < Pages ? NextPresent(page + 1) : -1)
            _pages[page].AsSpan().CopyTo(region.Slice(page * PageSize, PageSize));
        _pages = [];
        _region = region;
        return true;
    }

    /// <summary>Copies [offset, offset+destination.Length) out; absent pages read as zeros.</summary>
    public void Read(int offset, Span<byte> destination)
    {
        if (_region is not null)
        {
            _region.Slice(offset, destination.Length).CopyTo(destination);
            return;
        }
        int done = 0;
        while (done < destination.Length)
        {
            int position = offset + done, page = position / PageSize, inPage = position % PageSize;
            int n = Math.Min(PageSize - inPage, destination.Length - done);
            if (Has(page)) _pages[page].AsSpan(inPage, n).CopyTo(destination.Slice(done, n));
            else destination.Slice(done, n).Clear();
            done += n;
        }
    }

    /// <summary>Copies <paramref name="data"/> in at <paramref name="offset"/>, making the pages it touches present.</summary>
    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        if (_region is not null)
        {
            Count += SetPresent(offset / PageSize, (offset + data.Length - 1) / PageSize);
            data.CopyTo(_region.Slice(offset, data.Length));
            return;
        }
        int done = 0;
        while (done < data.Length)
        {
            int position = offset + done, page = position / PageSize, inPage = position % PageSize;
            int n = Math.Min(PageSize - inPage, data.Length - done);
            data.Slice(done, n).CopyTo(Add(page, wholePage: n == PageSize).AsSpan(inPage, n));
            done += n;
        }
    }

    /// <summary>Makes pages [first, last] present (zeros where they were absent) and backs them with memory now.</summary>
    public void Allocate(int first, int last)
    {
        if (_region is not null)
        {
            Count += SetPresent(first, last);
            _region.Populate(first * PageSize, (last - first + 1) * PageSize);
            return;
        }
        for (int page = first; page <= last; page++) Add(page, wholePage: false);
    }

    /// <summary>Zeroes bytes [from, to) of present pages; a page wholly inside is dropped instead when <paramref name="dropWholePages"/>.</summary>
    public void Zero(int from, int to, bool dropWholePages)
    {
        if (from >= to) return;
        for (int page = NextPresent(from / PageSize); page >= 0 && page * PageSize < to; page = page + 1 < Pages ? NextPresent(page + 1) : -1)
        {
            int start = page * PageSize;
            int a = Math.Max(from, start) - start, b = Math.Min(to, start + PageSize) - start;
            if (a == 0 && b == PageSize && dropWholePages) Drop(page);
            else PageBytes(page).Slice(a, b - a).Clear();
        }
    }

    public void Dispose()
    {
        _region?.Dispose();
        _region = null;
        _pages = [];
        Array.Clear(_present);
        Count = 0;
    }

    private void Drop(int page)
    {
        _present[page >> 6] &= ~(1UL << page);
        Count--;
        // A region's absent pages must read as zeros.
        if (_region is not null) _region.Discard(page * PageSize, PageSize);
        else _pages[page] = null;
    }

    private Span<byte> PageBytes(int page) => _region is not null ? _region.Slice(page * PageSize, PageSize) : _pages[page];

    /// <param name="wholePage">The caller overwrites every byte, so a new page need not be zeroed first.</param>
    private byte[] Add(int page, bool wholePage)
    {
        if (Has(page)) return _pages[page]!;
        if (page >= _pages.Length) Array.Resize(ref _pages, Math.Min(Pages, Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)page + 1))));
        // Pages live as long as the file: on the pinned heap they are never copied from generation to
        // generation by the GC, which otherwise moves every written byte twice more.
        var bytes = wholePage ? GC.AllocateUninitializedArray<byte>(PageSize, pinned: true) : GC.AllocateArray<byte>(PageSize, pinned: true);
        _pages[page] = bytes;
        _present[page >> 6] |= 1UL << page;
        Count++;
        return bytes;
    }

    /// <summary>Sets the bits of [first, last]; returns how many were clear.</summary>
    private int SetPresent(int first, int last)
    {
        int added = 0;
        for (int word = first >> 6; word <= last >> 6; word++)
        {
            ulong mask = Mask(word, first, last);
            added += BitOperations.PopCount(mask & ~_present[word]);
            _present[word] |= mask;
        }
        return added;
    }

    /// <summary>The bits of bitmap word <paramref name="word"/> that fall in pages [first, last].</summary>
    private static ulong Mask(int word, int first, int last)
    {
        ulong mask = ~0UL;
        if (word == first >> 6) mask &= ~0UL << (first & 63);
        if (word == last >> 6) mask &= ~0UL >> (63 - (last & 63));
        return mask;
    }
}
