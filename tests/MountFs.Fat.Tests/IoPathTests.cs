using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>The fast paths: appends that skip read-back, listings resumed from a snapshot, directory link counts
/// kept as a counter, and device reads running outside the file system's lock.</summary>
public class IoPathTests
{
    /// <summary>Counts what reaches the device underneath.</summary>
    private sealed class CountingDevice(IBlockDevice inner) : IBlockDevice
    {
        public int Reads, Writes;
        public string Name => inner.Name;
        public long Length => inner.Length;
        public int SectorSize => inner.SectorSize;
        public bool IsReadOnly => inner.IsReadOnly;
        public void Read(long offset, Span<byte> buffer) { Interlocked.Increment(ref Reads); inner.Read(offset, buffer); }
        public void Write(long offset, ReadOnlySpan<byte> data) { Interlocked.Increment(ref Writes); inner.Write(offset, data); }
        public void Flush() => inner.Flush();
        public void Discard(long offset, long length) => inner.Discard(offset, length);
        public void Dispose() { }
    }

    private static MemoryBlockDevice Formatted(string variant = "fat32", long size = 64L << 20)
    {
        var dev = new MemoryBlockDevice(size);
        new FatFormatter { VolumeId = 0x1234 }.Format(dev, new FormatOptions { Variant = variant });
        return dev;
    }

    private static FatFileSystem Mount(IBlockDevice dev) => new(dev, new MountOptions(), TextWriter.Null);

    [Fact]
    public void SmallUnalignedWrites_GoOutInOneDeviceWrite_AndKeepTheBytesAroundThemInTheirEdgeSectors()
    {
        var counting = new CountingDevice(Formatted());
        var rng = new Random(11);
        using var fs = Mount(counting);
        var (f, h) = fs.Create(fs.RootNode, "f.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        var expected = new byte[12_000];
        rng.NextBytes(expected);
        fs.Write(f.Node, h, 0, expected);
        // Overwrites starting and ending inside sectors, from one byte to several sectors: each is one device write,
        // and the bytes sharing its first and last sector survive.
        foreach (var (at, length) in new[] { (700, 3000), (1, 1), (511, 2), (4095, 5000), (10_001, 1999) })
        {
            var piece = new byte[length];
            rng.NextBytes(piece);
            int before = counting.Writes;
            fs.Write(f.Node, h, at, piece);
            Assert.Equal(1, counting.Writes - before);
            piece.CopyTo(expected, at);
            Assert.Equal(expected, FsPaths.ReadFile(fs, f.Node));
        }
        // An append ending inside a sector, then growth past it: the gap reads as zeros.
        fs.Write(f.Node, h, expected.Length, new byte[] { 1, 2, 3 });
        fs.SetAttributes(f.Node, new SetAttributes { Size = expected.Length + 1000 });
        var grown = FsPaths.ReadFile(fs, f.Node);
        Assert.Equal(expected, grown[..expected.Length]);
        Assert.Equal(new byte[] { 1, 2, 3 }, grown[expected.Length..(expected.Length + 3)]);
        Assert.All(grown[(expected.Length + 3)..], b => Assert.Equal(0, b));
        fs.Release(f.Node, h);
    }

    [Fact]
    public void ReadAndWrite_OfAFileInMoreRunsThanTheStackHolds_CoverEveryRunInOneCall()
    {
        var counting = new CountingDevice(Formatted());
        var rng = new Random(9);
        using var fs = Mount(counting);
        var (a, ha) = fs.Create(fs.RootNode, "a.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        var (b, hb) = fs.Create(fs.RootNode, "b.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        // Two files grown in turns: each 64 KiB piece of a.bin is a run of its own, 40 runs in all.
        const int pieces = 40, piece = 64 << 10;
        var expected = new byte[pieces * piece];
        rng.NextBytes(expected);
        for (int i = 0; i < pieces; i++)
        {
            fs.Write(a.Node, ha, (long)i * piece, expected.AsSpan(i * piece, piece));
            fs.Write(b.Node, hb, (long)i * piece, expected.AsSpan(i * piece, piece));
        }
        var buffer = new byte[expected.Length];
        int before = counting.Reads;
        Assert.Equal(expected.Length, fs.Read(a.Node, ha, 0, buffer));
        Assert.True(counting.Reads - before >= pieces, $"{counting.Reads - before} device reads: the file is not fragmented");
        Assert.Equal(expected, buffer);
        // A write over all of those runs in one call lands in each of them, and b.bin is untouched.
        var rewritten = new byte[expected.Length];
        rng.NextBytes(rewritten);
        Assert.Equal(rewritten.Length, fs.Write(a.Node, ha, 0, rewritten));
        Assert.Equal(rewritten, FsPaths.ReadFile(fs, a.Node));
        Assert.Equal(expected, FsPaths.ReadFile(fs, b.Node));
        fs.Release(a.Node, ha);
        fs.Release(b.Node, hb);
    }

    [Fact]
    public void Appends_ReadNothingBack_AndLeaveZerosPastTheEnd()
    {
        var mem = Formatted();
        var counting = new CountingDevice(mem);
        var rng = new Random(5);
        var expected = new List<byte>();
        using (var fs = Mount(counting))
        {
            // Junk in the clusters the file will get, so that a tail left unwritten would show.
            FsPaths.WriteFile(fs, "/junk", Enumerable.Repeat((byte)0xCC, 200 << 10).ToArray());
            fs.Unlink(fs.RootNode, "junk");
            var (a, h) = fs.Create(fs.RootNode, "log.txt", 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
            int before = counting.Reads;
            foreach (int length in new[] { 1, 100, 411, 512, 1000, 3, 4096, 70_000, 7 })
            {
                var chunk = new byte[length];
                rng.NextBytes(chunk);
                fs.Write(a.Node, h, expected.Count, chunk);
                expected.AddRange(chunk);
            }
            Assert.Equal(CountHeadReads(expected), counting.Reads - before);
            fs.Release(a.Node, h);
            Assert.Equal(expected.ToArray(), FsPaths.ReadFile(fs, a.Node));
            // Growing by truncate shows zeros where the tails were, never old bytes.
            fs.SetAttributes(a.Node, new SetAttributes { Size = expected.Count + 5000 });
            var grown = FsPaths.ReadFile(fs, a.Node);
            Assert.Equal(expected.ToArray(), grown[..expected.Count]);
            Assert.All(grown[expected.Count..], b => Assert.Equal(0, b));
        }
        using (var fs = Mount(new MemoryBlockDevice(mem.Contents)))
        {
            var back = FsPaths.ReadFile(fs, FsPaths.Resolve(fs, "/log.txt"));
            Assert.Equal(expected.Count + 5000, back.Length);
            Assert.Equal(expected.ToArray(), back[..expected.Count]);
        }

        // Appends that start inside a sector must read that sector (its head is file data); those that start on a
        // sector boundary read nothing.
        static int CountHeadReads(List<byte> written)
        {
            int reads = 0, offset = 0;
            foreach (int length in new[] { 1, 100, 411, 512, 1000, 3, 4096, 70_000, 7 })
            {
                if (offset % 512 != 0) reads++;
                offset += length;
            }
            Assert.Equal(written.Count, offset);
            return reads;
        }
    }

    [Fact]
    public void OverwritesInsideTheFile_KeepTheBytesAroundThem()
    {
        using var fs = Mount(Formatted());
        var data = new byte[10_000];
        new Random(6).NextBytes(data);
        var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        fs.Write(a.Node, h, 0, data);
        // Ends short of the end of the file: the rest of its last sector is data and must survive.
        var patch = new byte[] { 1, 2, 3 };
        fs.Write(a.Node, h, 5000, patch);
        patch.CopyTo(data, 5000);
        // Starts before the end and runs past it: the tail beyond is free.
        var tail = Enumerable.Repeat((byte)9, 300).ToArray();
        fs.Write(a.Node, h, 9900, tail);
        data = [.. data[..9900], .. tail];
        fs.Release(a.Node, h);
        Assert.Equal(data, FsPaths.ReadFile(fs, a.Node));
    }

    [Fact]
    public void Listings_ResumeFromAnyCookie_AcrossChanges()
    {
        using var fs = Mount(Formatted());
        var d = fs.MakeDirectory(fs.RootNode, "d", 0x1ED, Credentials.Root);
        var names = Enumerable.Range(0, 500).Select(i => i % 2 == 0 ? $"F{i}" : $"long file name {i}.text").ToList();
        foreach (var n in names) fs.MakeNode(d.Node, n, UnixFileMode.Regular | 0x1A4, 0, Credentials.Root);
        // Batches of 37 as a small reply buffer would take them; between batches names come and go.
        var seen = new List<string>();
        long cookie = 0;
        int batch = 0;
        while (true)
        {
            int taken = 0;
            fs.ReadDirectory(d.Node, 0, cookie, (in DirectoryEntry e) =>
            {
                if (taken == 37) return false;
                taken++;
                seen.Add(e.Name);
                cookie = e.NextOffset;
                return true;
            });
            if (taken < 37) break;
            batch++;
            fs.MakeNode(d.Node, $"added {batch}", UnixFileMode.Regular | 0x1A4, 0, Credentials.Root);
            fs.Unlink(d.Node, $"added {batch}");
            fs.MakeNode(d.Node, $"kept {batch}", UnixFileMode.Regular | 0x1A4, 0, Credentials.Root);
        }
        var stable = seen.Where(n => n is not ("." or "..") && !n.StartsWith("kept ")).ToList();
        Assert.Equal(names.Order(), stable.Order());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.DoesNotContain(seen, n => n.StartsWith("added "));
    }

    [Fact]
    public void DirectoryLinkCount_FollowsItsSubdirectories()
    {
        var dev = Formatted("fat16");
        using (var fs = Mount(dev))
        {
            var a = fs.MakeDirectory(fs.RootNode, "a", 0x1ED, Credentials.Root);
            var b = fs.MakeDirectory(fs.RootNode, "b", 0x1ED, Credentials.Root);
            for (int i = 0; i < 5; i++) fs.MakeDirectory(a.Node, $"sub{i}", 0x1ED, Credentials.Root);
            fs.MakeNode(a.Node, "file", UnixFileMode.Regular | 0x1A4, 0, Credentials.Root);
            Assert.Equal(7u, fs.GetAttributes(a.Node).Links);
            fs.RemoveDirectory(a.Node, "sub0");
            fs.Rename(a.Node, "sub1", b.Node, "moved");
            fs.Rename(a.Node, "sub2", a.Node, "renamed");
            fs.Rename(a.Node, "sub3", a.Node, "renamed"); // replaces the empty "renamed"
            Assert.Equal(4u, fs.GetAttributes(a.Node).Links);
            Assert.Equal(3u, fs.GetAttributes(b.Node).Links);
            Assert.Equal(4u, fs.GetAttributes(fs.RootNode).Links);
        }
        using (var fs = Mount(new MemoryBlockDevice(dev.Contents)))
        {
            Assert.Equal(4u, fs.GetAttributes(FsPaths.Resolve(fs, "/a")).Links);
            Assert.Equal(3u, fs.GetAttributes(FsPaths.Resolve(fs, "/b")).Links);
        }
    }

    /// <summary>Holds one chosen thread's reads until released, so a test can change the file system under a read.</summary>
    private sealed class GatedDevice(IBlockDevice inner) : IBlockDevice
    {
        public readonly ManualResetEventSlim Entered = new(), Gate = new();
        public volatile int GatedThread = -1;
        public string Name => inner.Name;
        public long Length => inner.Length;
        public int SectorSize => inner.SectorSize;
        public bool IsReadOnly => inner.IsReadOnly;
        public void Read(long offset, Span<byte> buffer)
        {
            if (Environment.CurrentManagedThreadId == GatedThread)
            {
                Entered.Set();
                Gate.Wait();
            }
            inner.Read(offset, buffer);
        }
        public void Write(long offset, ReadOnlySpan<byte> data) => inner.Write(offset, data);
        public void Flush() => inner.Flush();
        public void Discard(long offset, long length) => inner.Discard(offset, length);
        public void Dispose() { }
    }

    [Fact]
    public void AReadInFlight_NeverReturnsClustersFreedAndReusedMeanwhile()
    {
        var gated = new GatedDevice(Formatted());
        using var fs = Mount(gated);
        var (a, ha) = fs.Create(fs.RootNode, "a", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        fs.Write(a.Node, ha, 0, Enumerable.Repeat((byte)'a', 64 << 10).ToArray());
        var buffer = new byte[64 << 10];
        var reader = new Thread(() =>
        {
            gated.GatedThread = Environment.CurrentManagedThreadId;
            fs.Read(a.Node, ha, 0, buffer);
        });
        reader.Start();
        Assert.True(gated.Entered.Wait(TimeSpan.FromSeconds(30)), "the read never reached the device");
        // While the read waits at the device: truncate a (its clusters become free) and let b take them.
        var change = new Thread(() =>
        {
            fs.SetAttributes(a.Node, new SetAttributes { Size = 0 });
            FsPaths.WriteFile(fs, "/b", Enumerable.Repeat((byte)'b', 64 << 10).ToArray());
        });
        change.Start();
        // A guarded change waits for the read; an unguarded one would finish (and overwrite the clusters) meanwhile.
        change.Join(TimeSpan.FromSeconds(1));
        gated.Gate.Set();
        reader.Join();
        change.Join();
        fs.Release(a.Node, ha);
        Assert.DoesNotContain((byte)'b', buffer);
        Assert.Equal(64 << 10, FsPaths.ReadFile(fs, FsPaths.Resolve(fs, "/b")).Count(x => x == (byte)'b'));
    }
}
