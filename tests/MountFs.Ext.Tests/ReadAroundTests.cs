using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>Small uncached reads fetch the file's contiguous neighbours in their device window once (read-around),
/// hand back only the block asked for, and never serve a neighbour's stale device copy.</summary>
public class ReadAroundTests
{
    private const int BlockSize = 4096;
    private const int WindowBlocks = Ext2FileSystem.ReadAroundBytes / BlockSize;

    /// <summary>Records every read request (offset, length); never disposes the device under it, so a test can remount.</summary>
    private sealed class ReadLogDevice(IBlockDevice inner) : IBlockDevice
    {
        public List<(long Offset, int Length)> Reads { get; } = [];
        public string Name => inner.Name;
        public long Length => inner.Length;
        public int SectorSize => inner.SectorSize;
        public bool IsReadOnly => inner.IsReadOnly;

        /// <summary>A device range whose reads fail as a bad sector's would.</summary>
        public (long Offset, long End)? Unreadable { get; set; }

        public void Read(long offset, Span<byte> buffer)
        {
            Reads.Add((offset, buffer.Length));
            if (Unreadable is var (from, to) && offset < to && offset + buffer.Length > from)
                throw new IOException($"{Name}: read error at byte {offset}");
            inner.Read(offset, buffer);
        }

        public void Write(long offset, ReadOnlySpan<byte> data) => inner.Write(offset, data);
        public void Flush() => inner.Flush();
        public void Discard(long offset, long length) => inner.Discard(offset, length);
        public void Dispose() { }
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static MemoryBlockDevice Formatted()
    {
        var device = new MemoryBlockDevice(16L << 20);
        new Ext2Formatter().Format(device, new FormatOptions { BlockSize = BlockSize });
        return device;
    }

    private static Ext2FileSystem Mount(IBlockDevice device) => Ext2FileSystem.Mount(device, new MountOptions(), TextWriter.Null);

    /// <summary>Writes <paramref name="data"/> to /f in <paramref name="order"/> of whole blocks, then unmounts.</summary>
    private static void WriteFile(MemoryBlockDevice device, byte[] data, IEnumerable<int>? order = null)
    {
        using var fs = Mount(new ReadLogDevice(device));
        var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        if (order == null) fs.Write(a.Node, h, 0, data);
        else foreach (int fb in order) fs.Write(a.Node, h, (long)fb * BlockSize, data.AsSpan(fb * BlockSize, BlockSize));
        fs.Release(a.Node, h);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(1024)]
    public void Random_4KiB_reads_of_a_contiguous_file_fetch_each_window_once_and_return_the_right_bytes(int blockSize)
    {
        const int ReadSize = 4096;
        var device = new MemoryBlockDevice(16L << 20);
        new Ext2Formatter().Format(device, new FormatOptions { BlockSize = blockSize });
        int length = 3 * Ext2FileSystem.ReadAroundBytes;
        var data = Pattern(length, 1);
        WriteFile(device, data);
        var log = new ReadLogDevice(device);
        using var fs = Mount(log);
        var a = fs.Lookup(fs.RootNode, "f")!;
        ulong h = fs.Open(a.Node, OpenFlags.ReadOnly);
        int before = log.Reads.Count;
        var chunk = new byte[ReadSize];
        fs.Read(a.Node, h, 5L * ReadSize, chunk);
        Assert.Equal(data.AsSpan(5 * ReadSize, ReadSize).ToArray(), chunk);
        Assert.Contains(log.Reads.Skip(before), r => r.Length > ReadSize); // the neighbours came with it
        int chunks = length / ReadSize;
        foreach (int c in Enumerable.Range(0, chunks).OrderBy(i => (i * 37) % chunks))
        {
            Assert.Equal(ReadSize, fs.Read(a.Node, h, (long)c * ReadSize, chunk));
            Assert.True(data.AsSpan(c * ReadSize, ReadSize).SequenceEqual(chunk), $"bytes at {c * ReadSize}");
        }
        // Three windows' worth of blocks (and the indirect blocks that split them) span at most four device
        // windows, each fetched once; an edge window may hold too few file blocks to need a read-around.
        var around = log.Reads.Skip(before).Where(r => r.Length > ReadSize).ToList();
        Assert.InRange(around.Count, 2, 4);
        Assert.Equal(around.Count, fs.ReadAroundCount);
        Assert.All(around, r => Assert.True(r.Length <= Ext2FileSystem.ReadAroundBytes && r.Offset / Ext2FileSystem.ReadAroundBytes == (r.Offset + r.Length - 1) / Ext2FileSystem.ReadAroundBytes,
            $"read of {r.Length} bytes at {r.Offset} leaves its window"));
        fs.Release(a.Node, h);
    }

    [Fact]
    public void A_neighbour_changed_in_the_cache_reads_back_its_new_bytes_after_the_window_was_fetched()
    {
        var device = Formatted();
        var data = Pattern(WindowBlocks * BlockSize, 2);
        WriteFile(device, data);
        using var fs = Mount(new ReadLogDevice(device));
        var a = fs.Lookup(fs.RootNode, "f")!;
        ulong h = fs.Open(a.Node, OpenFlags.ReadWrite);
        // A partial write keeps block 6 dirty in the cache: its device copy is now stale.
        var patch = Pattern(100, 3);
        fs.Write(a.Node, h, 6L * BlockSize + 200, patch);
        patch.CopyTo(data, 6 * BlockSize + 200);
        var block = new byte[BlockSize];
        foreach (int fb in new[] { 5, 6, 7 })
        {
            fs.Read(a.Node, h, (long)fb * BlockSize, block);
            Assert.True(data.AsSpan(fb * BlockSize, BlockSize).SequenceEqual(block), $"file block {fb}");
        }
        Assert.True(fs.ReadAroundCount >= 1, "block 5's miss fetched its window");
        fs.Release(a.Node, h);
    }

    [Fact]
    public void Scattered_blocks_and_large_reads_read_only_what_was_asked()
    {
        var device = Formatted();
        const int blocks = 16;
        var data = Pattern(blocks * BlockSize, 4);
        // Allocation order 0, 2, 4, ..., 1, 3, ...: no file block has a physically adjacent file neighbour.
        WriteFile(device, data, Enumerable.Range(0, blocks / 2).Select(i => 2 * i).Concat(Enumerable.Range(0, blocks / 2).Select(i => 2 * i + 1)));
        var log = new ReadLogDevice(device);
        using var fs = Mount(log);
        var a = fs.Lookup(fs.RootNode, "f")!;
        ulong h = fs.Open(a.Node, OpenFlags.ReadOnly);
        int before = log.Reads.Count;
        var block = new byte[BlockSize];
        for (int fb = 0; fb < blocks; fb++)
        {
            fs.Read(a.Node, h, (long)fb * BlockSize + 10, block.AsSpan(0, 100));
            Assert.True(data.AsSpan(fb * BlockSize + 10, 100).SequenceEqual(block.AsSpan(0, 100)), $"file block {fb}");
        }
        Assert.DoesNotContain(log.Reads.Skip(before), r => r.Length > BlockSize);
        Assert.Equal(0, fs.ReadAroundCount);

        // A contiguous file read in one large request takes the run path, not read-around.
        WriteFileAt(fs, "g", Pattern(2 * WindowBlocks * BlockSize, 5));
        fs.Release(a.Node, h);
    }

    [SkippableFact]
    public void A_damaged_neighbour_pointer_neither_fails_nor_logs_against_a_read_that_only_fetched_around_it()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "mke2fs/debugfs/e2fsck not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16L << 20, "-b", "4096");
        var data = Pattern(WindowBlocks * BlockSize, 6);
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions(), TextWriter.Null))
        {
            var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, h, 0, data);
            fs.Release(a.Node, h);
        }
        var r = ExternalTool.Run("debugfs", "-w", "-R", "sif /f block[6] 4000000000", img);
        Assert.True(r.Exit == 0, r.Err);
        var log = new StringWriter();
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions(), log))
        {
            var a = fs.Lookup(fs.RootNode, "f")!;
            ulong h = fs.Open(a.Node, OpenFlags.ReadOnly);
            var block = new byte[BlockSize];
            fs.Read(a.Node, h, 5L * BlockSize, block);
            Assert.True(data.AsSpan(5 * BlockSize, BlockSize).SequenceEqual(block));
            Assert.Equal("", log.ToString());
            var e = Assert.Throws<FsException>(() => fs.Read(a.Node, h, 6L * BlockSize, block));
            Assert.Equal(Errno.EUCLEAN, e.Errno);
            Assert.Contains("block 4000000000", log.ToString());
            fs.Release(a.Node, h);
        }
    }

    [Fact]
    public void An_unreadable_neighbour_fails_only_its_own_read_not_one_that_fetched_around_it()
    {
        var device = Formatted();
        var data = Pattern(WindowBlocks * BlockSize, 7);
        WriteFile(device, data);
        long bad = PhysicalOffset(device, data.AsSpan(6 * BlockSize, BlockSize));
        var log = new ReadLogDevice(device) { Unreadable = (bad, bad + BlockSize) };
        using var fs = Mount(log);
        var a = fs.Lookup(fs.RootNode, "f")!;
        ulong h = fs.Open(a.Node, OpenFlags.ReadOnly);
        var block = new byte[BlockSize];
        foreach (int fb in new[] { 5, 7 })
        {
            Assert.Equal(BlockSize, fs.Read(a.Node, h, (long)fb * BlockSize, block));
            Assert.True(data.AsSpan(fb * BlockSize, BlockSize).SequenceEqual(block), $"file block {fb}");
        }
        Assert.Contains(log.Reads, r => r.Length > BlockSize && r.Offset < bad && r.Offset + r.Length > bad); // it did read around
        Assert.Throws<IOException>(() => fs.Read(a.Node, h, 6L * BlockSize, block));
        fs.Release(a.Node, h);
    }

    [Fact]
    public void An_unreadable_indirect_block_of_a_neighbour_fails_only_the_reads_that_need_it()
    {
        var device = Formatted();
        var data = Pattern(WindowBlocks * BlockSize, 8);
        WriteFile(device, data);
        // The single indirect block maps file blocks 12.. and lies in the window of the direct blocks before them.
        var pointers = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(pointers, (uint)(PhysicalOffset(device, data.AsSpan(12 * BlockSize, BlockSize)) / BlockSize));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(pointers.AsSpan(4), (uint)(PhysicalOffset(device, data.AsSpan(13 * BlockSize, BlockSize)) / BlockSize));
        long indirect = PhysicalOffset(device, pointers, prefixOnly: true);
        var log = new ReadLogDevice(device) { Unreadable = (indirect, indirect + BlockSize) };
        using var fs = Mount(log);
        var a = fs.Lookup(fs.RootNode, "f")!;
        ulong h = fs.Open(a.Node, OpenFlags.ReadOnly);
        var block = new byte[BlockSize];
        Assert.Equal(BlockSize, fs.Read(a.Node, h, 5L * BlockSize, block));
        Assert.True(data.AsSpan(5 * BlockSize, BlockSize).SequenceEqual(block), "file block 5");
        Assert.Contains(log.Reads, r => r.Offset == indirect); // the probe did try the indirect block
        Assert.Throws<IOException>(() => fs.Read(a.Node, h, 12L * BlockSize, block));
        fs.Release(a.Node, h);
    }

    /// <summary>The device offset of the one block holding <paramref name="content"/> (or starting with it).</summary>
    private static long PhysicalOffset(MemoryBlockDevice device, ReadOnlySpan<byte> content, bool prefixOnly = false)
    {
        var block = new byte[BlockSize];
        for (long at = 0; at < device.Length; at += BlockSize)
        {
            device.Read(at, block);
            if (prefixOnly ? block.AsSpan().StartsWith(content) : content.SequenceEqual(block)) return at;
        }
        throw new InvalidOperationException("block not found on the device");
    }

    private static void WriteFileAt(Ext2FileSystem fs, string name, byte[] data)
    {
        var (a, h) = fs.Create(fs.RootNode, name, 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        fs.Write(a.Node, h, 0, data);
        var back = new byte[data.Length];
        Assert.Equal(data.Length, fs.Read(a.Node, h, 0, back));
        Assert.Equal(data, back);
        Assert.Equal(0, fs.ReadAroundCount);
        fs.Release(a.Node, h);
    }
}
