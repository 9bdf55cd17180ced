using System.Diagnostics;
using MountFs.Blocks;
using MountFs.Fuse.Mounting;
using MountFs.Memory;

namespace MountFs.Fuse.Tests;

/// <summary>Every way a mount can end stops the loop, releases the file system and leaves nothing mounted.</summary>
public sealed class UnmountPathTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static (TestMount Mount, RecordingFileSystem Fs) Start(FuseOptions? options = null)
    {
        var fs = new RecordingFileSystem(new MemoryFileSystem());
        return (TestMount.Start(fs, options), fs);
    }

    private static void AssertEnded(TestMount m, RecordingFileSystem fs)
    {
        Assert.True(m.Mount.WaitForExit(Patience), "the request loop did not end");
        Assert.True(fs.Disposed, "the file system was not disposed");
        Assert.Null(MountTable.Find(m.Root));
    }

    [SkippableFact]
    public void LibraryUnmount()
    {
        var (m, fs) = Start();
        using (m)
        {
            File.WriteAllText(m["f"], "x");
            m.Mount.Unmount();
            AssertEnded(m, fs);
        }
    }

    [SkippableFact]
    public void FusermountDashU()
    {
        var (m, fs) = Start();
        using (m)
        {
            File.WriteAllText(m["f"], "x");
            var (code, output) = ChildProcess.Run("fusermount3", "-u", m.Root);
            Assert.True(code == 0, output);
            AssertEnded(m, fs);
        }
    }

    [SkippableFact]
    public void PlainUmount()
    {
        var (m, fs) = Start();
        using (m)
        {
            File.WriteAllText(m["f"], "x");
            var (code, output) = ChildProcess.Run("umount", m.Root);
            Assert.True(code == 0, output);
            AssertEnded(m, fs);
        }
    }

    [SkippableFact]
    public void MountedThroughFusermountSocketHandoff()
    {
        var (m, fs) = Start(new FuseOptions { UseFusermount = true });
        using (m)
        {
            var entry = MountTable.Find(m.Root);
            Assert.NotNull(entry);
            Assert.Equal("fuse.mountfs", entry.FileSystemType);
            File.WriteAllText(m["f"], "through fusermount3");
            Assert.Equal("through fusermount3", File.ReadAllText(m["f"]));
            m.Mount.Unmount();
            AssertEnded(m, fs);
        }
    }

    [SkippableFact]
    public void BusyMountPointAndMissingOnesAreRefused()
    {
        TestMount.SkipIfUnavailable();
        string full = TestMount.NewDirectory();
        File.WriteAllText(Path.Combine(full, "occupant"), "");
        try
        {
            var e = Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryFileSystem(), full, new FuseOptions()));
            Assert.Equal(32, e.ExitCode);
            Assert.Contains("not empty", e.Message);
            e = Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryFileSystem(), full + "-missing", new FuseOptions()));
            Assert.Contains("does not exist", e.Message);
        }
        finally
        {
            Directory.Delete(full, recursive: true);
        }
        using var m = TestMount.Start();
        var busy = Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryFileSystem(), m.Root, new FuseOptions()));
        Assert.Contains("busy", busy.Message);
    }
}

/// <summary>The `mountfs` command's mount and unmount paths, run as separate processes.</summary>
public sealed class MountCommandTests
{
    private static readonly string Tool = Path.Combine(AppContext.BaseDirectory, "mountfs");

    private static (int Code, string Output) Mountfs(params string[] args) => ChildProcess.Run(Tool, args);

    private static bool WaitUntil(Func<bool> condition, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    /// <summary>The daemon disposes the layout after the kernel lets go; its image lock marks that moment.</summary>
    private static bool ImageReleased(string image)
    {
        try
        {
            FileBlockDevice.Open(image, readOnly: true).Dispose();
            return true;
        }
        catch (DeviceLockedException)
        {
            return false;
        }
    }

    private static void LazyCleanup(string mountPoint)
    {
        if (MountTable.Find(mountPoint) is not null) ChildProcess.Run("umount", "-l", mountPoint);
        try { Directory.Delete(mountPoint); } catch (IOException) { }
    }

    [SkippableFact]
    public void SigtermToForegroundMountUnmountsFlushesAndExitsZero()
    {
        TestMount.SkipIfUnavailable();
        string mnt = TestMount.NewDirectory();
        string image = mnt + ".img";
        Assert.Equal(0, Mountfs("mkfs", "-t", "ext2", image, "16M").Code);
        var start = new ProcessStartInfo(Tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { "mount", "-f", image, mnt }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            Assert.True(WaitUntil(() => MountTable.Find(mnt) is not null), "mount did not appear");
            using var guard = MountWatchdog.Start(mnt);
            // Written but never fsynced: the unmount on SIGTERM must still flush it.
            File.WriteAllText(Path.Combine(mnt, "f"), "kept");
            ChildProcess.Run("kill", "-TERM", process.Id.ToString());
            Assert.True(process.WaitForExit(20_000), "mountfs did not exit after SIGTERM");
            Assert.Equal(0, process.ExitCode);
            Assert.Null(MountTable.Find(mnt));
            Assert.Contains("unmounted", stderr.Result);
            var fsck = ChildProcess.Run("e2fsck", "-fn", image);
            Assert.True(fsck.Code == 0, fsck.Output);
            Assert.Equal("kept", ChildProcess.Run(Tool, "cat", image + ":/f").Output);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            LazyCleanup(mnt);
            File.Delete(image);
        }
    }

    [SkippableFact]
    public void Ext2SurvivesMountWriteFsyncUnmountRemountAndChecksClean()
    {
        TestMount.SkipIfUnavailable();
        string mnt = TestMount.NewDirectory();
        string image = mnt + ".img";
        try
        {
            Assert.Equal(0, Mountfs("mkfs", "-t", "ext2", image, "32M").Code);
            var (code, output) = Mountfs("mount", image, mnt);
            Assert.True(code == 0, output);
            using var guard = MountWatchdog.Start(mnt);
            Assert.Equal($"{image} {mnt} fuse.mountfs", string.Join(' ', File.ReadAllLines("/proc/mounts")
                .First(l => l.Split(' ')[1] == mnt).Split(' ')[..3]));
            using (var f = new FileStream(Path.Combine(mnt, "durable"), FileMode.Create))
            {
                f.Write(new byte[100_000].Select((_, i) => (byte)i).ToArray());
                f.Flush(flushToDisk: true);
            }
            Directory.CreateDirectory(Path.Combine(mnt, "dir"));
            // Never fsynced: `mountfs unmount` must still leave it in the image.
            byte[] unsynced = new byte[300_000];
            new Random(7).NextBytes(unsynced);
            File.WriteAllBytes(Path.Combine(mnt, "dir", "unsynced"), unsynced);
            // The image is locked while mounted: a second mount is refused with mount(8)'s failure code.
            string second = TestMount.NewDirectory();
            var twice = Mountfs("mount", image, second);
            Directory.Delete(second);
            Assert.Equal(32, twice.Code);
            Assert.Contains("already mounted", twice.Output);

            // Busy: a file open on the mount keeps it.
            using (File.OpenRead(Path.Combine(mnt, "durable")))
            {
                var busy = Mountfs("unmount", mnt);
                Assert.Equal(32, busy.Code);
                Assert.Contains("busy", busy.Output);
            }
            (code, output) = Mountfs("unmount", mnt);
            Assert.True(code == 0, output);
            Assert.True(ImageReleased(image));
            var fsck = ChildProcess.Run("e2fsck", "-fn", image);
            Assert.True(fsck.Code == 0, fsck.Output);

            (code, output) = Mountfs("mount", "-t", "ext2", "-o", "ro", image, mnt);
            Assert.True(code == 0, output);
            using var readOnlyGuard = MountWatchdog.Start(mnt);
            byte[] back = File.ReadAllBytes(Path.Combine(mnt, "durable"));
            Assert.Equal(new byte[100_000].Select((_, i) => (byte)i), back);
            Assert.True(Directory.Exists(Path.Combine(mnt, "dir")));
            Assert.Equal(unsynced, File.ReadAllBytes(Path.Combine(mnt, "dir", "unsynced")));
            Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(mnt, "nope"), ""));
            Assert.Equal(0, ChildProcess.Run("umount", mnt).Code);
            Assert.True(WaitUntil(() => ImageReleased(image)));
            fsck = ChildProcess.Run("e2fsck", "-fn", image);
            Assert.True(fsck.Code == 0, fsck.Output);
        }
        finally
        {
            LazyCleanup(mnt);
            File.Delete(image);
        }
    }

    [SkippableFact]
    public void FatThroughMountHelperAndFusermountChecksClean()
    {
        TestMount.SkipIfUnavailable();
        string mnt = TestMount.NewDirectory();
        string image = mnt + ".img";
        try
        {
            Assert.Equal(0, Mountfs("mkfs", "-t", "fat", image, "32M").Code);
            // mount(8) → mount.fuse3 → `mountfs IMAGE MNT -o ...`, as an fstab line of type fuse.mountfs does.
            var (code, output) = ChildProcess.Run("mount", "-t", "fuse", $"{Tool}#{image}", mnt, "-o", "rw,noatime");
            Assert.True(code == 0, output);
            File.WriteAllText(Path.Combine(mnt, "Hello World.txt"), "fat through fuse");
            var unmount = ChildProcess.Run("fusermount3", "-u", mnt);
            Assert.True(unmount.Code == 0, unmount.Output);
            Assert.True(WaitUntil(() => ImageReleased(image)));
            var fsck = ChildProcess.Run("fsck.fat", "-n", image);
            Assert.True(fsck.Code == 0, fsck.Output);
            Assert.Contains("Hello World.txt", ChildProcess.Run("mdir", "-i", image, "::/").Output);
        }
        finally
        {
            LazyCleanup(mnt);
            File.Delete(image);
        }
    }

    [SkippableFact]
    public void PartitionOfADiskImageMounts()
    {
        TestMount.SkipIfUnavailable();
        string mnt = TestMount.NewDirectory();
        string disk = mnt + ".disk";
        try
        {
            using (var f = File.Create(disk)) f.SetLength(48 << 20);
            ChildProcess.Sh($"printf 'label: dos\\n,16M,L\\n,,L\\n' | sfdisk -q '{disk}'");
            Assert.Equal(0, Mountfs("mkfs", "-t", "ext2", disk + "@2").Code);
            var (code, output) = Mountfs("mount", disk + "@2", mnt);
            Assert.True(code == 0, output);
            using var guard = MountWatchdog.Start(mnt);
            File.WriteAllText(Path.Combine(mnt, "in-partition"), "p2");
            (code, output) = Mountfs("unmount", mnt);
            Assert.True(code == 0, output);
            Assert.Contains("in-partition", Mountfs("ls", disk + "@2").Output);
        }
        finally
        {
            LazyCleanup(mnt);
            File.Delete(disk);
        }
    }

    [SkippableFact]
    public void BadInvocationsGetMountExitCodes()
    {
        TestMount.SkipIfUnavailable();
        string mnt = TestMount.NewDirectory();
        try
        {
            var unknown = Mountfs("mount", "-o", "frobnicate", "-t", "memory", "none", mnt);
            Assert.Equal(1, unknown.Code);
            Assert.Contains("frobnicate", unknown.Output);
            var missing = Mountfs("mount", "/nonexistent/image.img", mnt);
            Assert.Equal(32, missing.Code);
            var notMounted = Mountfs("unmount", mnt);
            Assert.Equal(32, notMounted.Code);
            Assert.Contains("not mounted", notMounted.Output);
        }
        finally
        {
            LazyCleanup(mnt);
        }
    }
}

/// <summary>The kernel's FORGETs reach the layout exactly when its lookup counts drain.</summary>
public sealed class LookupCountTests
{
    [SkippableFact]
    public void UnlinkedFilesAreForgottenOnceAndTheTableDrains()
    {
        var fs = new RecordingFileSystem(new MemoryFileSystem());
        using var m = TestMount.Start(fs);
        var nodes = m.Mount.Dispatcher.Bridge.Nodes;
        for (int i = 0; i < 100; i++) File.WriteAllText(m[$"f{i}"], "x");
        Directory.CreateDirectory(m["d"]);
        var ids = Enumerable.Range(0, 100).Select(i => fs.Lookup(fs.RootNode, $"f{i}")!.Node).ToHashSet();
        Assert.True(nodes.Count >= 100);
        for (int i = 0; i < 100; i++) File.Delete(m[$"f{i}"]);
        // Eviction of an unlinked inode sends FORGET at once; give the kernel a moment to batch them.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !ids.IsSubsetOf(fs.Forgotten)) Thread.Sleep(20);
        Assert.True(ids.IsSubsetOf(fs.Forgotten), $"{ids.Count(id => !fs.Forgotten.Contains(id))} unlinked nodes never forgotten");
        Assert.Equal(fs.Forgotten.Count, fs.Forgotten.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(0UL, nodes.LookupCount(nodes.ToFuse(id))));
        Assert.True(Directory.Exists(m["d"]));
    }
}
