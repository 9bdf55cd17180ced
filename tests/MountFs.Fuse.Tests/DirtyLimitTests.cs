using MountFs.Fuse.Mounting;

namespace MountFs.Fuse.Tests;

public sealed class DirtyLimitTests
{
    [Fact]
    public void LiftWritesRatioAndStrictLimitOfTheNamedBdi()
    {
        using var bdi = new FakeBdi(0, 57, ("max_ratio", "1"), ("strict_limit", "1"));
        Assert.Null(DirtyLimit.Lift(0, 57, bdi.Root));
        Assert.Equal("100", bdi.Read("max_ratio"));
        Assert.Equal("0", bdi.Read("strict_limit"));
        // A bdi that does not exist is reported, not thrown.
        Assert.Contains("0:58", DirtyLimit.Lift(0, 58, bdi.Root));
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
}
