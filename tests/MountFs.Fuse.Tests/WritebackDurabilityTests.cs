using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using MountFs.Memory;
using MountFs.Vfs;

namespace MountFs.Fuse.Tests;

/// <summary>
/// With the writeback cache (the default) the kernel holds written data in its page cache and sends it
/// later, from close(2), fsync, the flusher or the unmount. Whatever path ends the mount, every byte must
/// have reached the layout by the time the loop ends. The file system is not owned by the mount here,
/// so its content can be read after the unmount.
/// </summary>
public sealed partial class WritebackDurabilityTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public enum Ending { Library, LibraryLazyWhileOpen, Fusermount, Umount }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] ReadFromLayout(IFileSystem fs, string name)
    {
        var node = fs.Lookup(fs.RootNode, name) ?? throw new FileNotFoundException(name);
        var buffer = new byte[node.Size];
        ulong h = fs.Open(node.Node, OpenFlags.ReadOnly);
        try
        {
            int done = 0;
            while (done < buffer.Length)
            {
                int n = fs.Read(node.Node, h, done, buffer.AsSpan(done));
                if (n == 0) break;
                done += n;
            }
            return buffer[..done];
        }
        finally
        {
            fs.Release(node.Node, h);
        }
    }

    /// <summary>Mounts <paramref name="fs"/> (not owned), runs <paramref name="body"/>, and makes sure nothing stays mounted.</summary>
    private static void WithMount(IFileSystem fs, FuseOptions options, Action<FuseMount> body)
    {
        TestMount.SkipIfUnavailable();
        string dir = TestMount.NewDirectory();
        var mount = FuseMount.Start(fs, dir, options with { FsName = "test-writeback" });
        var watchdog = MountWatchdog.Start(dir);
        try
        {
            body(mount);
        }
        finally
        {
            mount.Dispose();
            watchdog?.Dispose();
            if (Mounting.MountTable.Find(dir) is null) Directory.Delete(dir);
            watchdog?.ThrowIfFired();
        }
    }

    [SkippableTheory]
    [InlineData(Ending.Library)]
    [InlineData(Ending.LibraryLazyWhileOpen)]
    [InlineData(Ending.Fusermount)]
    [InlineData(Ending.Umount)]
    public void UnsyncedWritesReachTheLayoutOnEveryUnmountPath(Ending ending)
    {
        var fs = new MemoryFileSystem();
        byte[] data = Pattern(6 << 20, 1);
        byte[] tail = Pattern(3 * 4096 + 100, 2);
        WithMount(fs, new FuseOptions(), mount =>
        {
            Assert.True(mount.Dispatcher.Negotiated!.Value.Flags.HasFlag(Protocol.InitFlags.WritebackCache));
            string path = Path.Combine(mount.MountPoint, "big");
            // Never fsynced: whole pages, then scattered partial pages over them.
            using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                f.Write(data);
                for (int i = 0; i < 50; i++)
                {
                    int at = (i * 123_457) % (data.Length - 10);
                    f.Position = at;
                    f.Write("patched!"u8);
                    "patched!"u8.CopyTo(data.AsSpan(at));
                }
            }
            switch (ending)
            {
                case Ending.Library:
                    mount.Unmount();
                    break;
                case Ending.LibraryLazyWhileOpen:
                {
                    // Detached while a file is open with dirty pages: the kernel writes them back only when
                    // the last descriptor closes, and our workers must still be answering then.
                    var open = new FileStream(Path.Combine(mount.MountPoint, "tail"), FileMode.CreateNew, FileAccess.Write);
                    open.Write(tail.AsSpan(0, 4096));
                    mount.Unmount(lazy: true);
                    open.Write(tail.AsSpan(4096));
                    open.Dispose();
                    break;
                }
                case Ending.Fusermount:
                    Assert.Equal(0, ChildProcess.Run("fusermount3", "-u", mount.MountPoint).Code);
                    break;
                case Ending.Umount:
                    Assert.Equal(0, ChildProcess.Run("umount", mount.MountPoint).Code);
                    break;
            }
            Assert.True(mount.WaitForExit(Patience), "the request loop did not end");
        });
        Assert.Equal(data, ReadFromLayout(fs, "big"));
        if (ending == Ending.LibraryLazyWhileOpen) Assert.Equal(tail, ReadFromLayout(fs, "tail"));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void MappedWritesWithoutMsyncReachTheLayout(bool writeback)
    {
        var fs = new MemoryFileSystem();
        byte[] expected = Pattern(5 * 4096, 3);
        WithMount(fs, new FuseOptions { WritebackCache = writeback }, mount =>
        {
            string path = Path.Combine(mount.MountPoint, "mapped");
            File.WriteAllBytes(path, expected);
            using (var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite))
            using (var view = map.CreateViewAccessor())
            {
                for (int page = 0; page < 5; page++)
                {
                    BitConverter.TryWriteBytes(expected.AsSpan(page * 4096 + 77), 0x0102030405060708L + page);
                    MappedViewCopy.Write(view, page * 4096 + 77, expected.AsSpan(page * 4096 + 77, 8));
                }
            }
            // Read back through the page cache, then again from the layout after the unmount.
            Assert.Equal(expected, File.ReadAllBytes(path));
            mount.Unmount();
        });
        Assert.Equal(expected, ReadFromLayout(fs, "mapped"));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void AppendsFromTwoDescriptorsInterleaveInOrder(bool writeback)
    {
        var fs = new MemoryFileSystem();
        var expected = new StringBuilder("head\n");
        WithMount(fs, new FuseOptions { WritebackCache = writeback }, mount =>
        {
            string path = Path.Combine(mount.MountPoint, "log");
            File.WriteAllText(path, "head\n");
            int a = Open(path, OAppend | OWriteOnly), b = Open(path, OAppend | OWriteOnly);
            try
            {
                for (int i = 0; i < 200; i++)
                {
                    string line = $"{(i % 2 == 0 ? 'a' : 'b')}{i}\n";
                    Write(i % 2 == 0 ? a : b, line);
                    expected.Append(line);
                }
            }
            finally
            {
                Close(a);
                Close(b);
            }
            Assert.Equal(expected.ToString(), File.ReadAllText(path));
            mount.Unmount();
        });
        Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(ReadFromLayout(fs, "log")));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void TruncatedWhileDirtyThenWrittenPastTheEnd(bool writeback)
    {
        var fs = new MemoryFileSystem();
        byte[] first = Pattern(1 << 20, 4);
        var expected = new byte[9000 + 10];
        first.AsSpan(0, 1000).CopyTo(expected);
        "after hole"u8.CopyTo(expected.AsSpan(9000));
        WithMount(fs, new FuseOptions { WritebackCache = writeback }, mount =>
        {
            string path = Path.Combine(mount.MountPoint, "cut");
            using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                f.Write(first);
                f.SetLength(1000);
                Assert.Equal(1000, new FileInfo(path).Length);
                f.Position = 9000;
                f.Write("after hole"u8);
            }
            Assert.Equal(expected, File.ReadAllBytes(path));
            mount.Unmount();
        });
        Assert.Equal(expected, ReadFromLayout(fs, "cut"));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void PartialPageWritesThroughWriteOnlyOpensKeepTheRest(bool writeback)
    {
        // The kernel fills a partly written page by reading it first, also for an O_WRONLY open.
        var fs = new MemoryFileSystem();
        byte[] expected = Pattern(10_000, 5);
        WithMount(fs, new FuseOptions { WritebackCache = writeback }, mount =>
        {
            string path = Path.Combine(mount.MountPoint, "rmw");
            File.WriteAllBytes(path, expected);
            mount.Unmount();
        });
        WithMount(fs, new FuseOptions { WritebackCache = writeback }, mount =>
        {
            string path = Path.Combine(mount.MountPoint, "rmw");
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                f.Position = 5000;
                f.Write("xyz"u8);
            }
            "xyz"u8.CopyTo(expected.AsSpan(5000));
            mount.Unmount();
        });
        Assert.Equal(expected, ReadFromLayout(fs, "rmw"));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void FullFileSystemReportsEnospcByFsyncAtTheLatest(bool writeback)
    {
        // The writeback cache accepts write(2) into the page cache; the layout's ENOSPC then surfaces at
        // fsync or close, as on NFS. Without the cache the write itself fails.
        var fs = new MemoryFileSystem(new MemoryFileSystemOptions { CapacityBytes = 1 << 20 });
        WithMount(fs, new FuseOptions { WritebackCache = writeback }, mount =>
        {
            string path = Path.Combine(mount.MountPoint, "too-big");
            var (code, output) = ChildProcess.Run("dd", "if=/dev/zero", $"of={path}", "bs=1M", "count=3", "conv=fsync");
            Assert.NotEqual(0, code);
            Assert.Contains("No space left on device", output);
            mount.Unmount();
        });
        Assert.True(fs.Lookup(fs.RootNode, "too-big")!.Size <= 1 << 20);
    }

    [SkippableFact]
    public void ModificationTimeTheKernelShowedIsTheOneStored()
    {
        var fs = new MemoryFileSystem();
        DateTime shown = default;
        long size = 0;
        WithMount(fs, new FuseOptions(), mount =>
        {
            string path = Path.Combine(mount.MountPoint, "timed");
            File.WriteAllBytes(path, new byte[12345]);
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Write)) f.Write("more"u8);
            shown = File.GetLastWriteTimeUtc(path);
            size = new FileInfo(path).Length;
            mount.Unmount();
        });
        var stored = fs.Lookup(fs.RootNode, "timed")!;
        Assert.Equal(12345, size);
        Assert.Equal(size, stored.Size);
        Assert.Equal(shown, DateTime.UnixEpoch.AddTicks(stored.Mtime.Seconds * TimeSpan.TicksPerSecond + stored.Mtime.Nanoseconds / 100));
    }

    [SkippableFact]
    public void CachedListingSeesEntriesChangedThroughTheMount()
    {
        var fs = new MemoryFileSystem();
        WithMount(fs, new FuseOptions(), mount =>
        {
            string dir = Path.Combine(mount.MountPoint, "d");
            Directory.CreateDirectory(dir);
            for (int i = 0; i < 5; i++) File.WriteAllBytes(Path.Combine(dir, $"f{i}"), []);
            string[] List() => [.. Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order()!];
            Assert.Equal(["f0", "f1", "f2", "f3", "f4"], List());
            Assert.Equal(List(), List());
            File.WriteAllBytes(Path.Combine(dir, "new"), []);
            Assert.Contains("new", List());
            File.Delete(Path.Combine(dir, "f0"));
            Assert.DoesNotContain("f0", List());
            File.Move(Path.Combine(dir, "f1"), Path.Combine(dir, "g1"));
            Assert.Equal(["f2", "f3", "f4", "g1", "new"], List());
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            Assert.Contains("sub", List());
            // The second listing of an unchanged directory is the kernel's: no READDIR reaches us.
            List();
            long before = mount.Dispatcher.Counters[Protocol.FuseOpcode.ReadDir] + mount.Dispatcher.Counters[Protocol.FuseOpcode.ReadDirPlus];
            List();
            long after = mount.Dispatcher.Counters[Protocol.FuseOpcode.ReadDir] + mount.Dispatcher.Counters[Protocol.FuseOpcode.ReadDirPlus];
            Assert.Equal(before, after);
            mount.Unmount();
        });
    }

    [SkippableFact]
    public void MissingNamesAreCachedUntilCreatedThroughTheMount()
    {
        var fs = new MemoryFileSystem();
        WithMount(fs, new FuseOptions(), mount =>
        {
            string path = Path.Combine(mount.MountPoint, "later");
            long Lookups() => mount.Dispatcher.Counters[Protocol.FuseOpcode.Lookup];
            Assert.False(File.Exists(path));
            long before = Lookups();
            Assert.False(File.Exists(path));
            Assert.Equal(before, Lookups());
            File.WriteAllText(path, "now");
            Assert.Equal("now", File.ReadAllText(path));
            Directory.CreateDirectory(Path.Combine(mount.MountPoint, "d"));
            Assert.False(File.Exists(Path.Combine(mount.MountPoint, "d", "x")));
            File.Move(path, Path.Combine(mount.MountPoint, "d", "x"));
            Assert.Equal("now", File.ReadAllText(Path.Combine(mount.MountPoint, "d", "x")));
            Assert.False(File.Exists(Path.Combine(mount.MountPoint, "hard")));
            NativeCalls.Link(Path.Combine(mount.MountPoint, "d", "x"), Path.Combine(mount.MountPoint, "hard"));
            Assert.Equal("now", File.ReadAllText(Path.Combine(mount.MountPoint, "hard")));
            mount.Unmount();
        });
    }

    private const int OWriteOnly = 1, OAppend = 0x400, OCloseOnExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int fd, byte[] data, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);

    private static int Open(string path, int flags)
    {
        // Close-on-exec: a child forked by a test running in parallel must not keep the mount busy.
        int fd = OpenNative(path, flags | OCloseOnExec, 0x1A4);
        return fd >= 0 ? fd : throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    private static void Write(int fd, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        if (WriteNative(fd, bytes, bytes.Length) != bytes.Length) throw new IOException($"write: errno {Marshal.GetLastPInvokeError()}");
    }

    private static void Close(int fd) => CloseNative(fd);
}
