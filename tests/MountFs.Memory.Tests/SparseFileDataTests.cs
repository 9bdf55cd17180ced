namespace MountFs.Memory.Tests;

/// <summary>
/// The page store under the memory layout, against a plain model (a byte array and a set of present pages), with
/// writes large enough to move chunks into huge-page regions and small ones that keep them sparse.
/// </summary>
public class SparseFileDataTests
{
    private const int Page = SparseFileData.PageSize;
    private const int Chunk = 2 << 20;

    [Fact]
    public void A_streaming_write_goes_dense_and_reads_back_with_every_page_counted()
    {
        var data = new SparseFileData();
        var source = Pattern(3 * Chunk + 5000, seed: 1);
        for (int offset = 0; offset < source.Length; offset += 1 << 20)
            data.Write(offset, source.AsSpan(offset, Math.Min(1 << 20, source.Length - offset)));
        Assert.Equal(3, data.DenseChunks);
        Assert.Equal((source.Length + Page - 1) / Page, data.PageCount);
        var back = new byte[source.Length + 100];
        Assert.Equal(source.Length, data.Read(0, back));
        Assert.True(back.AsSpan(0, source.Length).SequenceEqual(source));
        Assert.Equal(source.Length, data.NextHole(0));
        data.Release();
        Assert.Equal(0, data.PageCount);
        Assert.Equal(0, data.Read(0, back));
    }

    [Fact]
    public void Small_scattered_writes_stay_sparse()
    {
        var data = new SparseFileData();
        for (int i = 0; i < 100; i++) data.Write((long)i * 5 * Page, new byte[Page]);
        Assert.Equal(0, data.DenseChunks);
        Assert.Equal(100, data.PageCount);
    }

    [Fact]
    public void A_sparse_chunk_filled_past_half_moves_into_a_region_keeping_its_holes()
    {
        var data = new SparseFileData();
        var model = new Model(Chunk);
        // Every other page, one at a time: the chunk stays sparse until half of it is present.
        for (int page = 0; page < SparseChunk.Pages - 2; page += 2) model.Write(data, (long)page * Page, Pattern(Page, page));
        Assert.Equal(0, data.DenseChunks);
        model.Write(data, 1 * Page + 100, Pattern(Page, 9999));
        Assert.Equal(1, data.DenseChunks);
        model.Check(data);
        // Punching inside a region makes holes that read as zeros and are found by SEEK_HOLE, and rewriting a
        // punched page partly shows zeros around the new bytes.
        model.Zero(data, 10 * Page, 4 * Page, drop: true);
        model.Write(data, 11 * Page + 7, [1, 2, 3]);
        model.Check(data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_operations_agree_with_a_page_model(int seed)
    {
        var random = new Random(seed);
        const int limit = 5 * Chunk;
        var data = new SparseFileData();
        var model = new Model(limit);
        for (int step = 0; step < 80; step++)
        {
            long offset = random.Next(0, 4) == 0 ? (long)random.Next(0, limit / Chunk) * Chunk : random.Next(0, limit - 1);
            int length = random.Next(0, 3) switch
            {
                0 => random.Next(1, 64),
                1 => random.Next(1, 4) * Page,
                _ => random.Next(Chunk / 4, Chunk + Chunk / 2),
            };
            length = (int)Math.Min(length, limit - offset);
            switch (random.Next(0, 6))
            {
                case 0 or 1: model.Write(data, offset, Pattern(length, random.Next())); break;
                case 2: model.Zero(data, offset, length, drop: true); break;
                case 3: model.Zero(data, offset, length, drop: false); break;
                case 4: model.Allocate(data, offset, length); break;
                default: model.SetSize(data, random.Next(0, 3) == 0 ? 0 : random.Next(0, limit)); break;
            }
            model.Check(data);
        }
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        // No zero bytes: a page that lost its data must not pass for one that kept it.
        for (int i = 0; i < bytes.Length; i++) bytes[i] |= 1;
        return bytes;
    }

    /// <summary>The expected file: its bytes up to a fixed limit, its size and which pages are allocated.</summary>
    private sealed class Model(int limit)
    {
        private readonly byte[] _bytes = new byte[limit];
        private readonly SortedSet<long> _present = [];
        private long _size;

        public void Write(SparseFileData data, long offset, byte[] bytes)
        {
            data.Write(offset, bytes);
            bytes.CopyTo(_bytes, offset);
            Mark(offset, bytes.Length);
            _size = Math.Max(_size, offset + bytes.Length);
        }

        public void Zero(SparseFileData data, long offset, int length, bool drop)
        {
            data.ZeroRange(offset, length, drop);
            Array.Clear(_bytes, (int)offset, length);
            if (!drop) return;
            for (long page = (offset + Page - 1) / Page; (page + 1) * Page <= offset + length; page++) _present.Remove(page);
        }

        public void Allocate(SparseFileData data, long offset, int length)
        {
            data.Allocate(offset, length);
            Mark(offset, length);
        }

        public void SetSize(SparseFileData data, long size)
        {
            data.SetSize(size);
            if (size < _size)
            {
                Array.Clear(_bytes, (int)size, (int)(_size - size));
                _present.RemoveWhere(page => page * Page >= size);
            }
            _size = size;
        }

        public void Check(SparseFileData data)
        {
            Assert.Equal(_size, data.Size);
            Assert.Equal(_present.Count, data.PageCount);
            var back = new byte[_size];
            Assert.Equal(_size, data.Read(0, back));
            Assert.True(back.AsSpan().SequenceEqual(_bytes.AsSpan(0, (int)_size)), "contents differ from the model");
            for (long probe = 0; probe < _size; probe += 37 * Page + 11)
            {
                long page = probe / Page;
                long? next = _present.GetViewBetween(page, long.MaxValue).Select(p => (long?)p).FirstOrDefault();
                long expectedData = next is null ? -1 : next == page ? probe : next.Value * Page;
                if (expectedData >= _size) expectedData = -1;
                Assert.Equal(expectedData, data.NextData(probe));
                long hole = page;
                while (_present.Contains(hole)) hole++;
                Assert.Equal(Math.Min(hole == page ? probe : hole * Page, _size), data.NextHole(probe));
            }
            Assert.Equal(_present.Count, data.MissingPages(0, limit) is var missing ? limit / Page - missing : -1);
        }

        private void Mark(long offset, long length)
        {
            if (length <= 0) return;
            for (long page = offset / Page; page <= (offset + length - 1) / Page; page++) _present.Add(page);
        }
    }
}
