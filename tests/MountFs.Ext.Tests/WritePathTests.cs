using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>The fast paths of writes and unlinks: whole blocks written straight to the device in runs, cached blocks
/// in between, orphans removed in any order, directory slots reused after removals.</summary>
public class WritePathTests
{
    private static Ext2FileSystem Open(string img) => Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions(), TextWriter.Null);

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [SkippableFact]
    public void A_write_over_physically_scattered_and_cached_blocks_lands_each_block_where_the_map_says()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16L << 20, "-b", "4096");
        const int bs = 4096, blocks = 32;
        var whole = Pattern(blocks * bs, 1);
        using (var fs = Open(img))
        {
            var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            // Allocation order 0, 2, 4, ..., 1, 3, 5, ...: physically adjacent blocks are file blocks two apart.
            var order = Enumerable.Range(0, blocks / 2).Select(i => 2 * i).Concat(Enumerable.Range(0, blocks / 2).Select(i => 2 * i + 1));
            foreach (int fb in order) fs.Write(a.Node, h, (long)fb * bs, new byte[bs]);
            fs.SyncFileSystem();
            // Partial writes leave blocks 1 and 5 in the cache, dirty, between blocks that go to the device directly.
            fs.Write(a.Node, h, bs + 100, new byte[10]);
            fs.Write(a.Node, h, 5 * bs + 100, new byte[10]);
            Assert.Equal(whole.Length, fs.Write(a.Node, h, 0, whole));
            var back = new byte[whole.Length];
            Assert.Equal(whole.Length, fs.Read(a.Node, h, 0, back));
            Assert.Equal(whole, back);
            fs.Release(a.Node, h);
        }
        Assert.Equal(whole, ExternalTool.RunBytes("debugfs", "-R", "cat /f", img));
        ExternalTool.AssertFsckClean(img);
    }

    [SkippableFact]
    public void A_large_write_is_durable_after_fsync_and_reads_back_through_debugfs()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 32L << 20, "-b", "1024");
        var data = Pattern(3 << 20, 2); // crosses the double-indirect range of 1 KiB blocks
        using (var fs = Open(img))
        {
            var (a, h) = fs.Create(fs.RootNode, "big", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            for (int off = 0; off < data.Length; off += 1 << 20) fs.Write(a.Node, h, off + 512, data.AsSpan(off, 1 << 20));
            fs.Fsync(a.Node, h, dataOnly: false);
            var copy = ImageFile.ReadAll(img); // what a power cut right after fsync leaves
            string crashed = Path.Combine(dir.Path, "crashed.img");
            File.WriteAllBytes(crashed, copy);
            var got = ExternalTool.RunBytes("debugfs", "-R", "cat /big", crashed);
            Assert.Equal(data.Length + 512, got.Length);
            Assert.True(got.AsSpan(512).SequenceEqual(data), "fsync'd data differs in the image");
            Assert.True(got.AsSpan(0, 512).IndexOfAnyExcept((byte)0) < 0, "the unwritten head is not zero");
            fs.Release(a.Node, h);
        }
        ExternalTool.AssertFsckClean(img);
    }

    [SkippableFact]
    public void Many_small_writes_beyond_the_cache_size_read_back_before_and_after_remount()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16L << 20, "-b", "1024");
        var expected = new byte[6 << 20];
        var rng = new Random(3);
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions { CacheBytes = 256 << 10 }, TextWriter.Null))
        {
            var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, h, 0, expected);
            // 4,000 scattered 1-3 KiB writes through a 256 KiB cache: dirty data is written back many times over.
            for (int i = 0; i < 4000; i++)
            {
                var chunk = Pattern(rng.Next(1, 3) * 1024, i);
                int at = rng.Next(expected.Length / 1024 - 3) * 1024 + rng.Next(2) * 512;
                fs.Write(a.Node, h, at, chunk);
                chunk.CopyTo(expected, at);
            }
            var back = new byte[expected.Length];
            Assert.Equal(expected.Length, fs.Read(a.Node, h, 0, back));
            Assert.True(back.AsSpan().SequenceEqual(expected), "read back differs before remount");
            fs.Release(a.Node, h);
        }
        Assert.True(ExternalTool.RunBytes("debugfs", "-R", "cat /f", img).AsSpan().SequenceEqual(expected), "image content differs");
        ExternalTool.AssertFsckClean(img);
    }

    [Fact]
    public void Fsync_flushes_the_device_after_writes_and_not_again_while_nothing_changed()
    {
        var baseDev = new MemoryBlockDevice(8L << 20);
        new Ext2Formatter().Format(baseDev, new FormatOptions { BlockSize = 1024 });
        using var recorder = new CrashRecordingDevice(baseDev, leaveOpen: true);
        using var fs = Ext2FileSystem.Mount(recorder, new MountOptions(), TextWriter.Null);
        var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        fs.Write(a.Node, h, 0, Pattern(100_000, 4)); // direct data, then metadata
        int before = recorder.OperationCount;
        fs.Fsync(a.Node, h, dataOnly: false);
        var ops = recorder.Operations.Skip(before).ToList();
        Assert.True(ops.Count > 0 && ops[^1].IsFlush, "fsync ends with a device flush");
        Assert.DoesNotContain(ops.Zip(ops.Skip(1)), p => p.First.IsFlush && p.Second.IsFlush); // no empty flush epochs
        int afterFirst = recorder.OperationCount;
        fs.Fsync(a.Node, h, dataOnly: false);
        fs.SyncFileSystem();
        Assert.Equal(afterFirst, recorder.OperationCount); // nothing new: no write, no flush
        fs.Release(a.Node, h);
    }

    [Fact]
    public void Dirty_data_beyond_half_the_cache_is_written_without_flushing_and_fsync_still_orders_it()
    {
        var baseDev = new MemoryBlockDevice(8L << 20);
        new Ext2Formatter().Format(baseDev, new FormatOptions { BlockSize = 1024 });
        using var recorder = new CrashRecordingDevice(baseDev, leaveOpen: true);
        using var fs = Ext2FileSystem.Mount(recorder, new MountOptions { CacheBytes = 256 << 10 }, TextWriter.Null);
        var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        int mounted = recorder.OperationCount;
        // 600 half-block writes, each filling a fresh block through the cache: far past half of its 256 blocks.
        for (int i = 0; i < 600; i++) fs.Write(a.Node, h, i * 2048L, Pattern(512, i));
        var during = recorder.Operations.Skip(mounted).ToList();
        Assert.Contains(during, o => !o.IsFlush); // data went out on its own...
        Assert.DoesNotContain(during, o => o.IsFlush); // ...with no flush: nothing but data had to be ordered
        fs.Fsync(a.Node, h, dataOnly: false);
        Assert.True(recorder.Operations[^1].IsFlush);
        for (int i = 0; i < 600; i += 37)
        {
            var back = new byte[512];
            Assert.Equal(512, fs.Read(a.Node, h, i * 2048L, back));
            Assert.Equal(Pattern(512, i), back);
        }
        fs.Release(a.Node, h);
    }

    [SkippableFact]
    public void Unlinked_referenced_files_forgotten_in_any_order_leave_an_empty_orphan_list()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 8L << 20);
        using (var fs = Open(img))
        {
            long freeInodes = fs.GetStatistics().FilesFree;
            var nodes = new List<ulong>();
            for (int i = 0; i < 40; i++)
            {
                var (a, h) = fs.Create(fs.RootNode, $"f{i}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                fs.Write(a.Node, h, 0, new byte[3000]);
                fs.Release(a.Node, h);
                nodes.Add(a.Node);
            }
            foreach (int i in Enumerable.Range(0, 40)) fs.Unlink(fs.RootNode, $"f{i}");
            fs.SyncFileSystem();
            Assert.Equal(nodes[^1], (ulong)ImageFile.Super(img).LastOrphan); // newest first
            // Oldest first (the far end of the chain, as the kernel's batched forgets come), then a shuffled rest.
            foreach (ulong n in nodes.Take(20)) fs.Forget(n);
            foreach (ulong n in nodes.Skip(20).OrderBy(n => (n * 7919) % 23)) fs.Forget(n);
            Assert.Equal(freeInodes, fs.GetStatistics().FilesFree);
            fs.SyncFileSystem();
            Assert.Equal(0u, ImageFile.Super(img).LastOrphan);
        }
        ExternalTool.AssertFsckClean(img);
    }

    [SkippableFact]
    public void Random_removals_leave_room_that_names_of_the_same_lengths_fill_again_without_growing_the_directory()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 8L << 20, "-b", "1024");
        var rng = new Random(11);
        // Names of 4 to 60 bytes, so merged records, cleared first records and records of every size mix.
        var names = Enumerable.Range(0, 400).Select(i => $"{i:D3}-" + new string('x', rng.Next(0, 57))).ToList();
        var live = new HashSet<string>(names);
        using (var fs = Open(img))
        {
            var d = fs.MakeDirectory(fs.RootNode, "d", 0x1ED, Credentials.Root);
            foreach (var n in names) fs.MakeNode(d.Node, n, 0x81A4, 0, Credentials.Root);
            long size = fs.GetAttributes(d.Node).Size;
            for (int round = 0; round < 4; round++)
            {
                var removed = live.OrderBy(_ => rng.Next()).Take(150).ToList();
                foreach (var n in removed) { fs.Unlink(d.Node, n); live.Remove(n); }
                // Same lengths, new names: each fits where a removed record was (or in a merge of it).
                foreach (var n in removed)
                {
                    string again = n[..3] + (char)('a' + round) + n[4..];
                    fs.MakeNode(d.Node, again, 0x81A4, 0, Credentials.Root);
                    live.Add(again);
                }
                Assert.Equal(size, fs.GetAttributes(d.Node).Size);
            }
            foreach (var n in live) Assert.NotNull(fs.Lookup(d.Node, n));
        }
        ExternalTool.AssertFsckClean(img);
        using (var fs = Open(img))
        {
            var d = fs.Lookup(fs.RootNode, "d")!;
            foreach (var n in live) Assert.NotNull(fs.Lookup(d.Node, n));
        }
    }

    [SkippableFact]
    public void Names_removed_and_added_again_reuse_directory_space_and_stay_findable()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 8L << 20, "-b", "1024");
        long sizeAfterFill;
        using (var fs = Open(img))
        {
            var d = fs.MakeDirectory(fs.RootNode, "d", 0x1ED, Credentials.Root);
            for (int i = 0; i < 300; i++) fs.MakeNode(d.Node, $"name-{i:D4}", 0x81A4, 0, Credentials.Root);
            sizeAfterFill = fs.GetAttributes(d.Node).Size;
            for (int round = 0; round < 3; round++)
            {
                for (int i = round; i < 300; i += 3) fs.Unlink(d.Node, $"name-{i:D4}");
                for (int i = round; i < 300; i += 3) fs.MakeNode(d.Node, $"n{round}-{i:D4}", 0x81A4, 0, Credentials.Root);
            }
            Assert.Equal(sizeAfterFill, fs.GetAttributes(d.Node).Size); // the freed slots took the new names
            for (int round = 0; round < 3; round++)
                for (int i = round; i < 300; i += 3) Assert.NotNull(fs.Lookup(d.Node, $"n{round}-{i:D4}"));
        }
        ExternalTool.AssertFsckClean(img);
        var listing = ExternalTool.Run("debugfs", "-R", "ls -l /d", img).Out;
        Assert.Contains("n2-0299", listing);
        Assert.DoesNotContain("name-0000", listing);
    }
}
