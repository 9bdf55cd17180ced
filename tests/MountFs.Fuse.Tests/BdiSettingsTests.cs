using MountFs.Fuse.Mounting;

namespace MountFs.Fuse.Tests;

public sealed class BdiSettingsTests
{
    [Fact]
    public void LiftDirtyLimitWritesRatioAndStrictLimitOfTheNamedBdi()
    {
        using var bdi = new FakeBdi(0, 57, ("max_ratio", "1"), ("strict_limit", "1"));
        Assert.Null(BdiSettings.LiftDirtyLimit(0, 57, bdi.Root));
        Assert.Equal("100", bdi.Read("max_ratio"));
        Assert.Equal("0", bdi.Read("strict_limit"));
        // A bdi that does not exist is reported, not thrown.
        Assert.Contains("0:58", BdiSettings.LiftDirtyLimit(0, 58, bdi.Root));
    }

    [Fact]
    public void SetReadAheadWritesTheWindowOfTheNamedBdiAndReportsAMissingOne()
    {
        using var bdi = new FakeBdi(0, 61, ("read_ahead_kb", "128"));
        Assert.Null(BdiSettings.SetReadAhead(0, 61, 2048, bdi.Root));
        Assert.Equal("2048", bdi.Read("read_ahead_kb"));
        Assert.Contains("0:62", BdiSettings.SetReadAhead(0, 62, 1024, bdi.Root));
    }

    private static string Bdi(string mountPoint, string file)
    {
        var entry = MountTable.Find(mountPoint)!;
        return File.ReadAllText($"/sys/class/bdi/{entry.Major}:{entry.Minor}/{file}").Trim();
    }

    [SkippableFact]
    public void RootMountsLiftTheCapUnlessAskedToKeepIt()
    {
        TestMount.SkipIfUnavailable();
        Skip.IfNot(FuseMounter.IsRoot, "only root may write /sys/class/bdi");
        using (var lifted = TestMount.Start())
        {
            Assert.Equal("0", Bdi(lifted.Root, "strict_limit"));
            Assert.Equal("100", Bdi(lifted.Root, "max_ratio"));
        }
        using (var kept = TestMount.Start(options: new FuseOptions { LiftDirtyLimit = false }))
        {
            Assert.Equal("1", Bdi(kept.Root, "strict_limit"));
        }
        using (var uncached = TestMount.Start(options: new FuseOptions { WritebackCache = false }))
        {
            // Nothing is buffered without the writeback cache, so the kernel's setting stays.
            Assert.Equal("1", Bdi(uncached.Root, "strict_limit"));
        }
    }

    [SkippableFact]
    public void RootMountsWidenTheWindowUnlessAskedToKeepTheKernelDefault()
    {
        TestMount.SkipIfUnavailable();
        Skip.IfNot(FuseMounter.IsRoot, "only root may write /sys/class/bdi");
        using (var widened = TestMount.Start())
        {
            Assert.Equal("1024", Bdi(widened.Root, "read_ahead_kb"));
            // Reads still return the right bytes through the wider window.
            byte[] data = new byte[3 << 20];
            new Random(5).NextBytes(data);
            string path = Path.Combine(widened.Root, "big.bin");
            File.WriteAllBytes(path, data);
            Assert.Equal(data, File.ReadAllBytes(path));
        }
        using (var kept = TestMount.Start(options: new FuseOptions { ReadAheadKb = 0 }))
        {
            Assert.NotEqual("1024", Bdi(kept.Root, "read_ahead_kb"));
        }
    }
}
