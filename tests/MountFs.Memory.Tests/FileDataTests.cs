using System.Text;
using MountFs.Vfs;
using static MountFs.Memory.Tests.MemoryFixture;

namespace MountFs.Memory.Tests;

public class FileDataTests
{
    private readonly MemoryFixture _m = new();

    [Fact]
    public void Write_past_the_end_leaves_a_hole_that_reads_as_zeros_and_takes_no_space()
    {
        var f = _m.File("f", "head");
        _m.WriteAt(f.Node, 1 << 20, Encoding.ASCII.GetBytes("tail"));
        var attributes = _m.Fs.GetAttributes(f.Node);
        Assert.Equal((1 << 20) + 4, attributes.Size);
        Assert.Equal(2 * (MemoryFileSystem.BlockSize / 512), attributes.Blocks);
        var all = _m.ReadAll(f.Node);
        Assert.Equal("head", Encoding.ASCII.GetString(all, 0, 4));
        Assert.All(all.AsSpan(4, (1 << 20) - 4).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal("tail", Encoding.ASCII.GetString(all, 1 << 20, 4));
    }

    [Fact]
    public void A_file_past_4_GiB_costs_only_its_written_pages()
    {
        var f = _m.File("big");
        long offset = (5L << 30) + 123;
        _m.WriteAt(f.Node, offset, [9, 8, 7]);
        var attributes = _m.Fs.GetAttributes(f.Node);
        Assert.Equal(offset + 3, attributes.Size);
        Assert.Equal(MemoryFileSystem.BlockSize / 512, attributes.Blocks);
        ulong handle = _m.Fs.Open(f.Node, OpenFlags.ReadOnly);
        var buffer = new byte[8];
        Assert.Equal(5, _m.Fs.Read(f.Node, handle, offset - 2, buffer));
        Assert.Equal(new byte[] { 0, 0, 9, 8, 7, 0, 0, 0 }, buffer);
        Assert.Equal(0, _m.Fs.Read(f.Node, handle, offset + 3, buffer));
        _m.Fs.Release(f.Node, handle);
        _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 6L << 30 });
        Assert.Equal(6L << 30, _m.Fs.GetAttributes(f.Node).Size);
        Assert.Equal(MemoryFileSystem.BlockSize / 512, _m.Fs.GetAttributes(f.Node).Blocks);
    }

    [Fact]
    public void Truncate_down_then_up_reads_zeros_where_data_was()
    {
        var f = _m.File("f", "abcdefgh");
        _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 3 });
        Assert.Equal("abc", _m.Text(f.Node));
        _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 8 });
        Assert.Equal(new byte[] { (byte)'a', (byte)'b', (byte)'c', 0, 0, 0, 0, 0 }, _m.ReadAll(f.Node));
        // A write past the end after a shrink must not resurrect old bytes either.
        _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 1 });
        _m.WriteAt(f.Node, 6, [(byte)'z']);
        Assert.Equal(new byte[] { (byte)'a', 0, 0, 0, 0, 0, (byte)'z' }, _m.ReadAll(f.Node));
    }

    [Fact]
    public void Truncate_refuses_directories_negative_sizes_and_sizes_past_the_maximum()
    {
        var d = _m.Mkdir("d");
        Assert.Equal(Errno.EISDIR, ErrnoOf(() => _m.Fs.SetAttributes(d.Node, new SetAttributes { Size = 0 })));
        var f = _m.File("f");
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = -1 })));
        var small = new MemoryFixture(new() { Capabilities = new FileSystemCapabilities { MaxFileSize = 1 << 20 } });
        var g = small.File("g");
        Assert.Equal(Errno.EFBIG, ErrnoOf(() => small.Fs.SetAttributes(g.Node, new SetAttributes { Size = (1 << 20) + 1 })));
        small.Fs.SetAttributes(g.Node, new SetAttributes { Size = 1 << 20 });
    }

    [Fact]
    public void Write_past_the_maximum_file_size_is_EFBIG_and_writes_nothing()
    {
        var small = new MemoryFixture(new() { Capabilities = new FileSystemCapabilities { MaxFileSize = 1 << 20 } });
        var f = small.File("f");
        Assert.Equal(Errno.EFBIG, ErrnoOf(() => small.WriteAt(f.Node, (1 << 20) - 1, [1, 2])));
        Assert.Equal(0, small.Fs.GetAttributes(f.Node).Size);
        small.WriteAt(f.Node, (1 << 20) - 2, [1, 2]);
        Assert.Equal(1 << 20, small.Fs.GetAttributes(f.Node).Size);
    }

    [Fact]
    public void Full_file_system_answers_ENOSPC_without_partial_writes_and_unlink_frees_space()
    {
        var m = new MemoryFixture(new() { CapacityBytes = 16 * MemoryFileSystem.BlockSize, MaxNodes = 4 });
        var stats = m.Fs.GetStatistics();
        Assert.Equal(16, stats.Blocks);
        Assert.Equal(16, stats.BlocksFree);
        var f = m.File("f");
        m.WriteAt(f.Node, 0, new byte[10 * MemoryFileSystem.BlockSize]);
        Assert.Equal(6, m.Fs.GetStatistics().BlocksFree);
        var g = m.File("g");
        Assert.Equal(Errno.ENOSPC, ErrnoOf(() => m.WriteAt(g.Node, 0, new byte[7 * MemoryFileSystem.BlockSize])));
        Assert.Equal(0, m.Fs.GetAttributes(g.Node).Size);
        // Holes are free even when the file is huge.
        m.WriteAt(g.Node, 1L << 40, [1]);
        Assert.Equal(5, m.Fs.GetStatistics().BlocksFree);
        m.File("h");
        Assert.Equal(Errno.ENOSPC, ErrnoOf(() => m.File("i"))); // root + f + g + h = 4 nodes
        Assert.Equal(0, m.Fs.GetStatistics().FilesFree);
        m.Fs.Unlink(m.Root, "f");
        m.Fs.Forget(f.Node);
        Assert.Equal(15, m.Fs.GetStatistics().BlocksFree);
        m.File("i");
    }

    [Fact]
    public void Layout_without_holes_allocates_extended_ranges()
    {
        var m = new MemoryFixture(new()
        {
            CapacityBytes = 8 * MemoryFileSystem.BlockSize,
            Capabilities = new FileSystemCapabilities { SparseFiles = false },
        });
        var f = m.File("f");
        m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 3 * MemoryFileSystem.BlockSize });
        Assert.Equal(3 * 8, m.Fs.GetAttributes(f.Node).Blocks);
        Assert.Equal(Errno.ENOSPC, ErrnoOf(() => m.WriteAt(f.Node, 9 * MemoryFileSystem.BlockSize, [1])));
        Assert.Equal(Errno.ENOSPC, ErrnoOf(() => m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 9 * MemoryFileSystem.BlockSize })));
        Assert.Equal(3 * MemoryFileSystem.BlockSize, m.Fs.GetAttributes(f.Node).Size);
    }

    [Fact]
    public void Layout_without_holes_counts_a_page_shared_by_gap_and_write_once()
    {
        var m = new MemoryFixture(new()
        {
            CapacityBytes = MemoryFileSystem.BlockSize,
            Capabilities = new FileSystemCapabilities { SparseFiles = false },
        });
        var f = m.File("f");
        m.WriteAt(f.Node, 100, [1, 2, 3]);
        Assert.Equal(103, m.Fs.GetAttributes(f.Node).Size);
        Assert.Equal(0, m.Fs.GetStatistics().BlocksFree);
    }

    [Fact]
    public void Unlinked_file_stays_readable_through_an_open_handle_until_release()
    {
        var f = _m.File("f", "still here");
        ulong handle = _m.Fs.Open(f.Node, OpenFlags.ReadWrite);
        _m.Fs.Unlink(_m.Root, "f");
        _m.Fs.Forget(f.Node);
        Assert.Null(_m.Fs.Lookup(_m.Root, "f"));
        var buffer = new byte[32];
        Assert.Equal(10, _m.Fs.Read(f.Node, handle, 0, buffer));
        Assert.Equal("still here", Encoding.ASCII.GetString(buffer, 0, 10));
        _m.Fs.Write(f.Node, handle, 10, "!"u8);
        Assert.Equal(0u, _m.Fs.GetAttributes(f.Node).Links);
        Assert.Equal(11, _m.Fs.GetAttributes(f.Node).Size);
        _m.Fs.Release(f.Node, handle);
        Assert.Equal(Errno.ESTALE, ErrnoOf(() => _m.Fs.GetAttributes(f.Node)));
        Assert.Equal(Errno.EBADF, ErrnoOf(() => _m.Fs.Read(f.Node, handle, 0, buffer)));
    }

    [Fact]
    public void Forget_of_a_linked_node_keeps_it()
    {
        var f = _m.File("f", "x");
        _m.Fs.Forget(f.Node);
        Assert.Equal("x", _m.Text(_m.Get("f").Node));
    }

    [Fact]
    public void Append_offsets_given_by_the_front_end_extend_the_file()
    {
        var f = _m.File("log", "one\n");
        ulong handle = _m.Fs.Open(f.Node, OpenFlags.WriteOnly | OpenFlags.Append);
        _m.Fs.Write(f.Node, handle, _m.Fs.GetAttributes(f.Node).Size, "two\n"u8);
        _m.Fs.Release(f.Node, handle);
        Assert.Equal("one\ntwo\n", _m.Text(f.Node));
    }

    [Fact]
    public void Handles_enforce_their_access_mode_and_node()
    {
        var f = _m.File("f", "x");
        var g = _m.File("g");
        ulong handle = _m.Fs.Open(f.Node, OpenFlags.ReadOnly);
        Assert.Equal(Errno.EBADF, ErrnoOf(() => _m.Fs.Write(f.Node, handle, 0, "y"u8)));
        Assert.Equal(Errno.EBADF, ErrnoOf(() => _m.Fs.Read(g.Node, handle, 0, new byte[1])));
        _m.Fs.Release(f.Node, handle);
        var d = _m.Mkdir("d");
        Assert.Equal(Errno.EISDIR, ErrnoOf(() => _m.Fs.Open(d.Node, OpenFlags.WriteOnly)));
        Assert.Equal(Errno.ENOTDIR, ErrnoOf(() => _m.Fs.OpenDirectory(f.Node)));
    }

    [Fact]
    public void Fallocate_allocates_keeps_size_punches_holes_and_zeroes_ranges()
    {
        const int page = MemoryFileSystem.BlockSize;
        var f = _m.File("f");
        ulong h = _m.Fs.Open(f.Node, OpenFlags.ReadWrite);
        _m.Fs.Allocate(f.Node, h, FallocateMode.Allocate, 0, 2 * page);
        Assert.Equal(2 * page, _m.Fs.GetAttributes(f.Node).Size);
        Assert.Equal(2 * 8, _m.Fs.GetAttributes(f.Node).Blocks);
        _m.Fs.Allocate(f.Node, h, FallocateMode.KeepSize, 2 * page, 2 * page);
        Assert.Equal(2 * page, _m.Fs.GetAttributes(f.Node).Size);
        Assert.Equal(4 * 8, _m.Fs.GetAttributes(f.Node).Blocks);

        var ones = Enumerable.Repeat((byte)1, 2 * page).ToArray();
        _m.Fs.Write(f.Node, h, 0, ones);
        _m.Fs.Allocate(f.Node, h, FallocateMode.PunchHole | FallocateMode.KeepSize, 100, page);
        var data = _m.ReadAll(f.Node);
        Assert.All(data.AsSpan(0, 100).ToArray(), b => Assert.Equal(1, b));
        Assert.All(data.AsSpan(100, page).ToArray(), b => Assert.Equal(0, b));
        Assert.All(data.AsSpan(100 + page).ToArray(), b => Assert.Equal(1, b));

        _m.Fs.Allocate(f.Node, h, FallocateMode.PunchHole | FallocateMode.KeepSize, 0, 4 * page);
        Assert.Equal(0, _m.Fs.GetAttributes(f.Node).Blocks);
        Assert.Equal(2 * page, _m.Fs.GetAttributes(f.Node).Size);

        _m.Fs.Write(f.Node, h, 0, ones);
        _m.Fs.Allocate(f.Node, h, FallocateMode.ZeroRange, page, 2 * page);
        Assert.Equal(3 * page, _m.Fs.GetAttributes(f.Node).Size);
        Assert.All(_m.ReadAll(f.Node).AsSpan(page).ToArray(), b => Assert.Equal(0, b));

        Assert.Equal(Errno.EOPNOTSUPP, ErrnoOf(() => _m.Fs.Allocate(f.Node, h, FallocateMode.PunchHole, 0, 1)));
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Allocate(f.Node, h, FallocateMode.Allocate, 0, 0)));
        _m.Fs.Release(f.Node, h);
    }

    [Fact]
    public void SeekData_and_SeekHole_follow_the_written_pages()
    {
        const int page = MemoryFileSystem.BlockSize;
        var f = _m.File("f");
        _m.WriteAt(f.Node, 2 * page + 5, [1]);
        _m.WriteAt(f.Node, 3 * page, [1]);
        _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 10 * page });
        Assert.Equal(2 * page, _m.Fs.SeekData(f.Node, 0, findHole: false));
        Assert.Equal(0, _m.Fs.SeekData(f.Node, 0, findHole: true));
        Assert.Equal(2 * page + 7, _m.Fs.SeekData(f.Node, 2 * page + 7, findHole: false));
        Assert.Equal(4 * page, _m.Fs.SeekData(f.Node, 2 * page, findHole: true));
        Assert.Equal(Errno.ENXIO, ErrnoOf(() => _m.Fs.SeekData(f.Node, 4 * page, findHole: false)));
        Assert.Equal(9 * page, _m.Fs.SeekData(f.Node, 9 * page, findHole: true));
        Assert.Equal(Errno.ENXIO, ErrnoOf(() => _m.Fs.SeekData(f.Node, 10 * page, findHole: true)));
        _m.WriteAt(f.Node, 10 * page - 1, [1]);
        Assert.Equal(10 * page, _m.Fs.SeekData(f.Node, 9 * page + 1, findHole: true));
        Assert.Equal(9 * page, _m.Fs.SeekData(f.Node, 5 * page, findHole: false));
    }
}

/// <summary>Page bookkeeping across the 1 MiB chunks the data index groups pages into.</summary>
public class SparsePageIndexTests
{
    private const int Page = 4096;

    [Fact]
    public void Seeks_blocks_and_punched_holes_agree_with_a_page_model_across_chunks()
    {
        var m = new MemoryFixture();
        var f = m.File("sparse");
        var random = new Random(7);
        var present = new SortedSet<long>();
        // A full chunk (pages 0-255), a page on each side of the next chunk boundary, scattered pages far out.
        for (long p = 0; p < 256; p++) present.Add(p);
        foreach (long p in new long[] { 511, 512, 513, 2000, 70_000, 70_001 }) present.Add(p);
        for (int i = 0; i < 40; i++) present.Add(random.Next(3000, 9000));
        var fill = new byte[Page];
        Array.Fill(fill, (byte)0xAB);
        foreach (long p in present) m.WriteAt(f.Node, p * Page, fill);
        long size = (present.Max + 1) * Page;

        // Punch some whole pages and a part of one: whole pages become holes, the partial one stays.
        ulong handle = m.Fs.Open(f.Node, OpenFlags.ReadWrite);
        m.Fs.Allocate(f.Node, handle, FallocateMode.PunchHole | FallocateMode.KeepSize, 100 * Page, 3 * Page);
        m.Fs.Allocate(f.Node, handle, FallocateMode.PunchHole | FallocateMode.KeepSize, 512L * Page, 2 * Page + 10);
        m.Fs.Release(f.Node, handle);
        foreach (long p in new long[] { 100, 101, 102, 512, 513 }) present.Remove(p);

        Assert.Equal(present.Count * (MemoryFileSystem.BlockSize / 512), m.Fs.GetAttributes(f.Node).Blocks);
        foreach (long probe in new long[] { 0, 99, 100, 103, 255, 256, 300, 510, 511, 512, 513, 1999, 2000, 2001, 5000, 69_999, 70_001 })
        {
            long offset = probe * Page + 17;
            if (offset >= size) continue;
            long? data = present.GetViewBetween(probe, long.MaxValue).Select(p => (long?)p).FirstOrDefault();
            long expectedData = data is null ? -1 : data == probe ? offset : data.Value * Page;
            if (expectedData < 0) Assert.Equal(Errno.ENXIO, ErrnoOf(() => m.Fs.SeekData(f.Node, offset, findHole: false)));
            else Assert.Equal(expectedData, m.Fs.SeekData(f.Node, offset, findHole: false));
            long hole = probe;
            while (present.Contains(hole)) hole++;
            Assert.Equal(Math.Min(hole == probe ? offset : hole * Page, size), m.Fs.SeekData(f.Node, offset, findHole: true));
        }

        // Shrinking across chunks frees exactly the pages past the new end.
        m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 600L * Page });
        long kept = present.Count(p => p < 600);
        Assert.Equal(kept * (MemoryFileSystem.BlockSize / 512), m.Fs.GetAttributes(f.Node).Blocks);
    }
}
