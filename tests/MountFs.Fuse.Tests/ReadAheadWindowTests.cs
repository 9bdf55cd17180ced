using MountFs.Fuse.Mounting;

namespace MountFs.Fuse.Tests;

public sealed class ReadAheadWindowTests
{
    [Fact]
    public void SetWritesTheWindowOfTheNamedBdiAndReportsAMissingOne()
    {
        string root = Path.Combine(Path.GetTempPath(), "bdi-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "0:61"));
        try
        {
            File.WriteAllText(Path.Combine(root, "0:61", "read_ahead_kb"), "128\n");
            Assert.Null(ReadAheadWindow.Set(0, 61, 2048, root));
            Assert.Equal("2048", File.ReadAllText(Path.Combine(root, "0:61", "read_ahead_kb")).Trim());
            Assert.Contains("0:62", ReadAheadWindow.Set(0, 62, 1024, root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
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
