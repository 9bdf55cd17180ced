using MountFs.Fuse.Mounting;

namespace MountFs.Fuse.Tests;

public sealed class ReadAheadWindowTests
{
    [Fact]
    public void SetWritesTheWindowOfTheNamedBdiAndReportsAMissingOne()
    {
        using var bdi = new FakeBdi(0, 61, ("read_ahead_kb", "128"));
        Assert.Null(ReadAheadWindow.Set(0, 61, 2048, bdi.Root));
        Assert.Equal("2048", bdi.Read("read_ahead_kb"));
        Assert.Contains("0:62", ReadAheadWindow.Set(0, 62, 1024, bdi.Root));
    }

    private static string Window(string mountPoint)
    {
        var entry = MountTable.Find(mountPoint)!;
        return File.ReadAllText($"/sys/class/bdi/{entry.Major}:{entry.Minor}/read_ahead_kb").Trim();
    }

    [SkippableFact]
    public void RootMountsWidenTheWindowUnlessAskedToKeepTheKernelDefault()
    {
        TestMount.SkipIfUnavailable();
        Skip.IfNot(FuseMounter.IsRoot, "only root may write /sys/class/bdi");
        using (var widened = TestMount.Start())
        {
            Assert.Equal("1024", Window(widened.Root));
            // Reads still return the right bytes through the wider window.
            byte[] data = new byte[3 << 20];
            new Random(5).NextBytes(data);
            string path = Path.Combine(widened.Root, "big.bin");
            File.WriteAllBytes(path, data);
            Assert.Equal(data, File.ReadAllBytes(path));
        }
        using (var kept = TestMount.Start(options: new FuseOptions { ReadAheadKb = 0 }))
        {
            Assert.NotEqual("1024", Window(kept.Root));
        }
    }
}
