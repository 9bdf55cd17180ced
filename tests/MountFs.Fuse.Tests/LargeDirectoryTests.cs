namespace MountFs.Fuse.Tests;

public sealed class LargeDirectoryTests
{
    [SkippableFact]
    public void TenThousandEntriesListCompletelyWhileOthersComeAndGo()
    {
        using var m = TestMount.Start();
        string dir = m["big"];
        Directory.CreateDirectory(dir);
        const int count = 10_000;
        for (int i = 0; i < count; i++) File.WriteAllBytes(Path.Combine(dir, $"stable-{i:D5}"), []);

        using var stop = new CancellationTokenSource();
        var churn = Task.Run(() =>
        {
            int n = 0;
            while (!stop.IsCancellationRequested)
            {
                string path = Path.Combine(dir, $"churn-{n % 200}");
                if (File.Exists(path)) File.Delete(path);
                else File.WriteAllBytes(path, []);
                n++;
            }
            return n;
        });
        try
        {
            for (int round = 0; round < 3; round++)
            {
                var seen = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Where(n => n!.StartsWith("stable-")).ToList();
                Assert.Equal(count, seen.Count);
                Assert.Equal(count, seen.Distinct().Count());
            }
            // The same through a child process (getdents with its own buffer size).
            Assert.Equal(count.ToString(), ChildProcess.Sh($"ls -f '{dir}' | grep -c '^stable-'").Trim());
        }
        finally
        {
            stop.Cancel();
        }
        Assert.True(churn.Result > 0);
    }
}
