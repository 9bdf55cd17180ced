using FsCheck.Xunit;

namespace MountFs.Blocks.Tests;

public sealed class CachedBlockDeviceTests
{
    // Not a multiple of the cache block: the last cache block is partial.
    private const long DeviceLength = 24 * 4096 + 3 * 512;

    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 150)]
    public void Matches_a_model_stays_within_its_limit_and_persists_on_flush(DeviceOperation[] operations)
    {
        var inner = new MemoryBlockDevice(DeviceLength);
        using var cache = new CachedBlockDevice(inner, capacityBytes: 3 * 4096, leaveOpen: true);
        var model = DeviceModelCheck.Run(cache, operations, afterEach: _ =>
        {
            var stats = cache.Statistics;
            Assert.True(stats.ResidentBlocks <= stats.CapacityBlocks, $"{stats.ResidentBlocks} blocks held, limit {stats.CapacityBlocks}");
            Assert.True(stats.DirtyBlocks <= stats.ResidentBlocks);
        });
        cache.Flush();
        Assert.Equal(0, cache.Statistics.DirtyBlocks);
        Assert.True(inner.Contents.SequenceEqual(model), "inner device differs from the model after Flush");
    }

    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 100)]
    public void Small_cache_blocks_match_a_model(DeviceOperation[] operations)
    {
        var inner = new MemoryBlockDevice(DeviceLength);
        using var cache = new CachedBlockDevice(inner, capacityBytes: 5 * 1024, blockSize: 1024, leaveOpen: true);
        var model = DeviceModelCheck.Run(cache, operations);
        cache.Flush();
        Assert.True(inner.Contents.SequenceEqual(model));
    }

    [Fact]
    public void Writes_stay_in_the_cache_until_flushed_then_reach_the_inner_device_in_ascending_order()
    {
        var inner = new MemoryBlockDevice(64 * 4096);
        var recorder = new CrashRecordingDevice(inner);
        using var cache = new CachedBlockDevice(recorder, capacityBytes: 64 * 4096);
        foreach (int block in new[] { 9, 2, 30, 5 })
            cache.Write(block * 4096L + 512, DeviceModelCheck.Pattern(1024, (byte)block, block));
        Assert.Empty(recorder.Operations);
        Assert.Equal(4, cache.Statistics.DirtyBlocks);

        cache.Flush();
        var ops = recorder.Operations;
        Assert.Equal([2 * 4096L, 5 * 4096L, 9 * 4096L, 30 * 4096L], ops.Where(o => !o.IsFlush).Select(o => o.Offset));
        Assert.True(ops[^1].IsFlush, "the inner flush must come after the write-backs");
        Assert.Equal(0, cache.Statistics.DirtyBlocks);
        var back = new byte[1024];
        inner.Read(30 * 4096L + 512, back);
        Assert.Equal(DeviceModelCheck.Pattern(1024, 30, 30), back);
    }

    [Fact]
    public void Flush_writes_adjacent_dirty_blocks_in_one_request()
    {
        var inner = new MemoryBlockDevice(16 * 4096);
        var recorder = new CrashRecordingDevice(inner);
        using var cache = new CachedBlockDevice(recorder, capacityBytes: 16 * 4096);
        cache.Write(8 * 4096, DeviceModelCheck.Pattern(512, 8, 64));
        cache.Write(5 * 4096, DeviceModelCheck.Pattern(2 * 4096, 5, 40));
        cache.Write(4 * 4096 + 1024, DeviceModelCheck.Pattern(512, 4, 34));
        cache.Read(7 * 4096, new byte[4096]); // clean block between the runs
        cache.Flush();
        var writes = recorder.Operations.Where(o => !o.IsFlush).Select(o => (o.Offset, o.Length));
        Assert.Equal([(4 * 4096L, 3 * 4096L), (8 * 4096L, 4096L)], writes);
        Assert.Equal(DeviceModelCheck.Contents(cache), inner.ToArray());
    }

    [Fact]
    public void Eviction_writes_back_old_dirty_blocks_in_sorted_coalesced_batches()
    {
        var inner = new MemoryBlockDevice(64 * 4096);
        var recorder = new CrashRecordingDevice(inner);
        using var cache = new CachedBlockDevice(recorder, capacityBytes: 16 * 4096);
        foreach (int block in new[] { 3, 1, 2, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12 })
            cache.Write(block * 4096L, DeviceModelCheck.Pattern(4096, (byte)block, block * 8));
        Assert.Equal(0, recorder.OperationCount);
        cache.Write(40 * 4096L, new byte[4096]); // one over the limit: the four oldest go out together
        var writes = recorder.Operations.Select(o => (o.Offset, o.Length)).ToArray();
        Assert.Equal([(0L, 4 * 4096L)], writes);
        var stats = cache.Statistics;
        Assert.Equal(16, stats.ResidentBlocks);
        Assert.Equal(1, stats.Evictions);
        Assert.Equal(13, stats.DirtyBlocks);
        Assert.Equal(DeviceModelCheck.Pattern(4096, 3, 24), inner.Contents.Slice(3 * 4096, 4096).ToArray());
    }

    [Fact]
    public void Evicting_a_dirty_block_writes_it_back_first()
    {
        var inner = new MemoryBlockDevice(16 * 4096);
        using var cache = new CachedBlockDevice(inner, capacityBytes: 2 * 4096, leaveOpen: true);
        cache.Write(0, DeviceModelCheck.Pattern(4096, 1, 0));
        cache.Write(4096, DeviceModelCheck.Pattern(4096, 2, 8));
        DeviceModelCheck.AssertZero(inner.Contents[..8192].ToArray());
        cache.Read(2 * 4096, new byte[4096]);
        var stats = cache.Statistics;
        Assert.Equal(1, stats.Evictions);
        Assert.Equal(2, stats.ResidentBlocks);
        Assert.Equal(DeviceModelCheck.Pattern(4096, 1, 0), inner.Contents[..4096].ToArray());
    }

    [Fact]
    public void Counts_hits_and_misses_per_cache_block()
    {
        using var inner = new MemoryBlockDevice(16 * 4096);
        using var cache = new CachedBlockDevice(inner, capacityBytes: 8 * 4096, leaveOpen: true);
        cache.Read(0, new byte[3 * 4096]);
        cache.Read(4096, new byte[512]);
        cache.Read(2 * 4096 + 512, new byte[4096]);
        var stats = cache.Statistics;
        Assert.Equal(3 + 1, stats.Misses);
        Assert.Equal(1 + 1, stats.Hits);
    }

    [Fact]
    public void Discard_drops_cached_data_and_passes_through()
    {
        var inner = new MemoryBlockDevice(16 * 4096);
        inner.Write(0, DeviceModelCheck.Pattern(16 * 4096, 5, 0));
        using var cache = new CachedBlockDevice(inner, capacityBytes: 16 * 4096, leaveOpen: true);
        cache.Write(4096, DeviceModelCheck.Pattern(3 * 4096, 6, 8));
        cache.Discard(4096 + 1024, 2 * 4096);
        cache.Flush();
        var expected = DeviceModelCheck.Pattern(16 * 4096, 5, 0);
        DeviceModelCheck.Pattern(3 * 4096, 6, 8).CopyTo(expected, 4096);
        Array.Clear(expected, 4096 + 1024, 2 * 4096);
        Assert.Equal(expected, DeviceModelCheck.Contents(cache));
        Assert.Equal(expected, inner.ToArray());
    }

    [Fact]
    public void Read_only_inner_device_makes_a_read_only_cache()
    {
        using var inner = new MemoryBlockDevice(new byte[8192], readOnly: true);
        using var cache = new CachedBlockDevice(inner, 8192);
        Assert.True(cache.IsReadOnly);
        Assert.Throws<ReadOnlyDeviceException>(() => cache.Write(0, new byte[512]));
    }

    [Fact]
    public void Threads_writing_and_discarding_disjoint_sectors_of_shared_cache_blocks_lose_no_update()
    {
        // Thread t owns sectors s with s % 4 == t: every cache block is shared by all four threads, so a lost
        // read-modify-write or a torn write-back during eviction shows up as a wrong sector.
        const int threads = 4, sectors = 256;
        var inner = new MemoryBlockDevice(sectors * 512L);
        using var cache = new CachedBlockDevice(inner, capacityBytes: 6 * 4096, leaveOpen: true);
        var model = new byte[sectors * 512];
        RunThreads(threads, t =>
        {
            var random = new Random(1000 + t);
            var mine = Enumerable.Range(0, sectors).Where(s => s % threads == t).ToArray();
            for (int i = 0; i < 1500; i++)
            {
                int sector = mine[random.Next(mine.Length)];
                if (random.Next(3) == 0)
                {
                    var read = new byte[512];
                    cache.Read(sector * 512L, read);
                    lock (model)
                        Assert.True(read.AsSpan().SequenceEqual(model.AsSpan(sector * 512, 512)), $"thread {t} sector {sector}");
                }
                else if (random.Next(12) == 0)
                {
                    lock (model)
                        Array.Clear(model, sector * 512, 512);
                    cache.Discard(sector * 512L, 512);
                }
                else
                {
                    var data = DeviceModelCheck.Pattern(512, (byte)random.Next(256), sector);
                    // The model is updated under its lock before the write: only this thread reads or writes this sector.
                    lock (model)
                        data.CopyTo(model, sector * 512);
                    cache.Write(sector * 512L, data);
                }
                if (i % 500 == 499)
                    cache.Flush();
            }
        });
        Assert.Equal(model, DeviceModelCheck.Contents(cache));
        cache.Flush();
        Assert.Equal(model, inner.ToArray());
        Assert.True(cache.Statistics.Evictions > 0, "the test must exercise eviction");
    }

    [Fact]
    public void Overlapping_multi_block_writes_from_several_threads_are_never_torn()
    {
        // Every write covers the same two cache blocks with one stamp; any read, and the final state, must show a
        // single stamp across both blocks and that stamp must be one that some thread wrote.
        const int threads = 4, length = 2 * 4096;
        var inner = new MemoryBlockDevice(8 * 4096);
        using var cache = new CachedBlockDevice(inner, capacityBytes: 2 * 4096, leaveOpen: true);
        var written = new System.Collections.Concurrent.ConcurrentDictionary<byte, bool>();
        written[0] = true;
        RunThreads(threads, t =>
        {
            var random = new Random(2000 + t);
            var buffer = new byte[length];
            for (int i = 0; i < 600; i++)
            {
                switch (random.Next(4))
                {
                    case 0:
                        cache.Read(4096, buffer);
                        AssertUniform(buffer, written);
                        break;
                    case 1:
                        cache.Read(random.Next(8) * 4096L, new byte[4096]); // pressure: forces evictions
                        break;
                    default:
                        byte stamp = (byte)(1 + t * 60 + random.Next(60));
                        written[stamp] = true;
                        cache.Write(4096, Enumerable.Repeat(stamp, length).ToArray());
                        break;
                }
            }
        });
        var final = new byte[length];
        cache.Read(4096, final);
        AssertUniform(final, written);
        cache.Flush();
        Assert.Equal(final, inner.ToArray().AsSpan(4096, length).ToArray());
    }

    private static void AssertUniform(byte[] buffer, System.Collections.Concurrent.ConcurrentDictionary<byte, bool> written)
    {
        Assert.True(buffer.All(b => b == buffer[0]), "a write was torn across cache blocks");
        Assert.True(written.ContainsKey(buffer[0]), $"stamp {buffer[0]} was never written");
    }

    private static void RunThreads(int count, Action<int> body)
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, count).Select(t => new Thread(() =>
        {
            try
            {
                body(t);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        })).ToArray();
        foreach (var thread in threads)
            thread.Start();
        foreach (var thread in threads)
            thread.Join();
        if (!errors.IsEmpty)
            throw new AggregateException(errors);
    }
}
