using System.Security.Cryptography;
using MountFs.Fuse.Mounting;
using MountFs.Fuse.Protocol;
using MountFs.Fuse.Uring;

namespace MountFs.Fuse.Tests;

/// <summary>Real mounts served through FUSE-over-io_uring queues (mount option io_uring).</summary>
public sealed class IoUringTransportTests
{
    private const string EnableParameter = "/sys/module/fuse/parameters/enable_uring";

    /// <summary>Skips only where the kernel truly cannot: no FUSE, or built without CONFIG_FUSE_IO_URING, or
    /// the feature is off and we may not turn it on.</summary>
    private static void SkipUnlessKernelHasIt()
    {
        TestMount.SkipIfUnavailable();
        Skip.IfNot(File.Exists(EnableParameter), $"kernel built without FUSE over io_uring ({EnableParameter} is absent)");
        Skip.If(File.ReadAllText(EnableParameter).Trim() == "N" && !FuseMounter.IsRoot,
            $"{EnableParameter} is N and only root may enable it");
    }

    private static TestMount StartWithUring(bool writeback = true, int depth = 4)
    {
        SkipUnlessKernelHasIt();
        var m = TestMount.Start(options: new FuseOptions { IoUring = true, IoUringDepth = depth, WritebackCache = writeback });
        Assert.True(m.Mount.UsesIoUring, "io_uring was not used: " + string.Join(" | ", m.Log));
        // Until every queue has registered its entries the kernel keeps serving requests through /dev/fuse,
        // so a busy machine could let a whole short workload through before the ring is ready. A lookup of a
        // fresh name always reaches the server; the first one answered through a queue means the ring is ready.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (int i = 0; m.Mount.UringRequests == 0 && DateTime.UtcNow < deadline; i++)
        {
            Assert.False(File.Exists(m[$"ring-ready-probe-{i}"]));
            Thread.Sleep(1);
        }
        Assert.True(m.Mount.UringRequests > 0, "the io_uring queues never served a request: " + string.Join(" | ", m.Log));
        return m;
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void FileWorkloadIsServedThroughTheQueues(bool writeback)
    {
        using var m = StartWithUring(writeback);
        long before = m.Mount.UringRequests;
        var expected = new Dictionary<string, byte[]>();
        Directory.CreateDirectory(m["d"]);
        for (int i = 0; i < 150; i++)
        {
            byte[] data = Content(i, 1 + i * 37);
            File.WriteAllBytes(m[$"d/f{i}"], data);
            expected[$"f{i}"] = data;
        }
        using (var fs = new FileStream(m["d/f7"], FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Seek(0, SeekOrigin.End);
            fs.Write("+synced"u8);
            fs.Flush(flushToDisk: true);
        }
        expected["f7"] = [.. expected["f7"], .. "+synced"u8.ToArray()];
        for (int i = 0; i < 150; i += 3)
        {
            File.Move(m[$"d/f{i}"], m[$"d/r{i}"]);
            expected[$"r{i}"] = expected[$"f{i}"];
            expected.Remove($"f{i}");
        }
        for (int i = 1; i < 150; i += 5)
        {
            File.Delete(m[$"d/f{i}"]);
            expected.Remove($"f{i}");
        }
        Assert.Equal(expected.Keys.Order(), Directory.GetFiles(m["d"]).Select(Path.GetFileName).Order());
        foreach (var (name, data) in expected) Assert.Equal(data, File.ReadAllBytes(m[$"d/{name}"]));

        // Megabyte-sized WRITE and READ requests use the whole payload buffer of an entry; O_DIRECT makes the
        // reads reach the file system instead of the page cache.
        byte[] big = Content(99, 5 << 20);
        File.WriteAllBytes(m["big"], big);
        string sum = ChildProcess.Sh($"dd if='{m["big"]}' iflag=direct bs=1M status=none | sha256sum").Split(' ')[0];
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), sum);

        long viaUring = m.Mount.UringRequests - before;
        Assert.True(viaUring >= 150 + 50 + 30, $"only {viaUring} requests went through io_uring");
        Assert.True(m.Mount.Dispatcher.Counters[FuseOpcode.Read] > 0, "no READ reached the file system");
        // Only INIT, FORGET and INTERRUPT are meant for /dev/fuse once the queues are ready.
        Assert.True(viaUring > m.Mount.DeviceRequests, $"io_uring {viaUring}, /dev/fuse {m.Mount.DeviceRequests}");
    }

    [SkippableFact]
    public void CopiedTreeComparesEqualBothWays()
    {
        using var m = StartWithUring(depth: 2);
        string source = TestMount.NewDirectory();
        string back = TestMount.NewDirectory();
        try
        {
            for (int d = 0; d < 4; d++)
            {
                string dir = Path.Combine(source, $"dir{d}", "sub");
                Directory.CreateDirectory(dir);
                for (int f = 0; f < 25; f++) File.WriteAllBytes(Path.Combine(dir, $"file{f}"), Content(d * 100 + f, f * 1531 + d));
                File.CreateSymbolicLink(Path.Combine(source, $"dir{d}", "link"), "sub/file3");
            }
            ChildProcess.Sh($"cp -a '{source}/.' '{m["copy"]}' && diff -r --no-dereference '{source}' '{m["copy"]}'");
            ChildProcess.Sh($"cp -a '{m["copy"]}/.' '{back}' && diff -r --no-dereference '{source}' '{back}'");
            Assert.Equal("sub/file3", new FileInfo(m["copy/dir2/link"]).LinkTarget);
            Assert.True(m.Mount.UringRequests > m.Mount.DeviceRequests,
                $"io_uring {m.Mount.UringRequests}, /dev/fuse {m.Mount.DeviceRequests}");
        }
        finally
        {
            Directory.Delete(source, recursive: true);
            Directory.Delete(back, recursive: true);
        }
    }

    [SkippableFact]
    public void ParallelWritersShareFewEntriesAndTheMountEndsCleanly()
    {
        // One entry per queue: concurrent requests wait in the kernel for it and must all still be answered.
        using var m = StartWithUring(depth: 1);
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < 40; i++) File.WriteAllBytes(m[$"w{w}-{i}"], Content(w * 1000 + i, 3000 + i));
        })).ToArray();
        Task.WaitAll(writers);
        for (int w = 0; w < 4; w++)
        for (int i = 0; i < 40; i++)
            Assert.Equal(Content(w * 1000 + i, 3000 + i), File.ReadAllBytes(m[$"w{w}-{i}"]));
        Assert.True(m.Mount.UringRequests >= 160);
        m.Mount.Unmount();
        Assert.True(m.Mount.WaitForExit(TimeSpan.FromSeconds(10)), "the queues did not stop at unmount");
    }

    [SkippableFact]
    public void TurnedOffNothingGoesThroughIoUring()
    {
        using var m = TestMount.Start(options: new FuseOptions { IoUring = false });
        File.WriteAllText(m["a"], "x");
        Assert.Equal("x", File.ReadAllText(m["a"]));
        Assert.False(m.Mount.UsesIoUring);
        Assert.Equal(0, m.Mount.UringRequests);
        Assert.True(m.Mount.DeviceRequests > 3);
        Assert.Equal(InitFlags.None, m.Mount.Dispatcher.Negotiated!.Value.Flags & InitFlags.OverIoUring);
    }

    [Theory]
    [InlineData("0-1\n", 2)]
    [InlineData("0", 1)]
    [InlineData("0-3,8,10-11", 12)]
    public void CpuListCountsUpToTheHighestCpu(string text, int count) => Assert.Equal(count, CpuList.Count(text));

    [Theory]
    [InlineData("")]
    [InlineData("x-y")]
    [InlineData("0--1")]
    public void CpuListRejectsGarbage(string text) => Assert.Throws<FormatException>(() => CpuList.Count(text));

    private static byte[] Content(int seed, int length)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
