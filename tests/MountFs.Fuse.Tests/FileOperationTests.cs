using System.IO.MemoryMappedFiles;
using System.Text;

namespace MountFs.Fuse.Tests;

/// <summary>Ordinary system calls from this process on a real mount of the memory layout.</summary>
public sealed class FileOperationTests
{
    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)] // the bridge places appends itself
    public void AppendLandsAtEndOfFileForEveryWriter(bool writeback)
    {
        using var m = TestMount.Start(options: new FuseOptions { WritebackCache = writeback });
        string path = m["log"];
        File.WriteAllText(path, "start\n");
        // Each `>>` opens with O_APPEND; two shells append concurrently and no line may be lost.
        var writers = new[] { "a", "b" }.Select(tag => Task.Run(() =>
            ChildProcess.Sh($"for i in $(seq 1 100); do echo {tag}$i >> '{path}'; done"))).ToArray();
        Task.WaitAll(writers);
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(201, lines.Length);
        Assert.Equal("start", lines[0]);
        Assert.Equal(100, lines.Count(l => l.StartsWith('a')));
        Assert.Equal(100, lines.Count(l => l.StartsWith('b')));
        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"a{i}"), lines.Where(l => l.StartsWith('a')));
    }

    [SkippableFact]
    public void TruncateDownAndUp()
    {
        using var m = TestMount.Start();
        string path = m["t"];
        File.WriteAllBytes(path, Enumerable.Range(0, 10000).Select(i => (byte)(i % 251 + 1)).ToArray());
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.SetLength(100);
            fs.SetLength(5000);
        }
        byte[] data = File.ReadAllBytes(path);
        Assert.Equal(5000, data.Length);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)(i % 251 + 1)), data[..100]);
        Assert.All(data[100..], b => Assert.Equal(0, b));
        // O_TRUNC on open.
        File.WriteAllText(path, "x");
        Assert.Equal(1, new FileInfo(path).Length);
        ChildProcess.Sh($"truncate -s 3M '{path}'");
        Assert.Equal(3 << 20, new FileInfo(path).Length);
    }

    [SkippableFact]
    public void SparseFilePastFourGibWithSeekDataAndHole()
    {
        using var m = TestMount.Start();
        string path = m["sparse"];
        long far = (5L << 30) + 12345;
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
        {
            fs.Seek(far, SeekOrigin.Begin);
            fs.Write("tail"u8);
        }
        var info = new FileInfo(path);
        Assert.Equal(far + 4, info.Length);
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read))
        {
            fs.Seek(far, SeekOrigin.Begin);
            var buffer = new byte[4];
            Assert.Equal(4, fs.Read(buffer));
            Assert.Equal("tail"u8.ToArray(), buffer);
            fs.Seek(1L << 32, SeekOrigin.Begin);
            Assert.Equal(4, fs.Read(buffer));
            Assert.Equal(new byte[4], buffer);
            long data = NativeCalls.Lseek(fs.SafeFileHandle, 0, NativeCalls.SeekData);
            Assert.InRange(data, (5L << 30) - (1 << 20), far);
            Assert.Equal(0, NativeCalls.Lseek(fs.SafeFileHandle, 0, NativeCalls.SeekHole));
            Assert.Equal(far + 4, NativeCalls.Lseek(fs.SafeFileHandle, far, NativeCalls.SeekHole));
            Assert.Equal(-6, NativeCalls.Lseek(fs.SafeFileHandle, far + 4, NativeCalls.SeekData)); // ENXIO
        }
        var (_, blocks) = ChildProcess.Run("stat", "-c", "%b", path);
        Assert.True(long.Parse(blocks.Trim()) < 1024, $"sparse file allocates {blocks.Trim()} blocks");
    }

    [SkippableFact]
    public void RenameOverExistingFileAndDirectory()
    {
        using var m = TestMount.Start();
        File.WriteAllText(m["a"], "A");
        File.WriteAllText(m["b"], "B");
        NativeCalls.Rename(m["a"], m["b"]);
        Assert.False(File.Exists(m["a"]));
        Assert.Equal("A", File.ReadAllText(m["b"]));

        Directory.CreateDirectory(m["d1/sub"]);
        File.WriteAllText(m["d1/sub/f"], "F");
        Directory.CreateDirectory(m["d2"]);
        NativeCalls.Rename(m["d1"], m["d2"]);
        Assert.False(Directory.Exists(m["d1"]));
        Assert.Equal("F", File.ReadAllText(m["d2/sub/f"]));

        Directory.CreateDirectory(m["full/x"]);
        var e = Assert.Throws<IOException>(() => NativeCalls.Rename(m["d2"], m["full"]));
        Assert.Contains("errno 39", e.Message); // ENOTEMPTY
        File.Move(m["b"], m["d2/sub/moved"]);
        Assert.Equal("A", File.ReadAllText(m["d2/sub/moved"]));
    }

    [SkippableFact]
    public void HardLinksShareDataAndCount()
    {
        using var m = TestMount.Start();
        File.WriteAllText(m["orig"], "shared");
        NativeCalls.Link(m["orig"], m["second"]);
        Directory.CreateDirectory(m["dir"]);
        NativeCalls.Link(m["orig"], m["dir/third"]);
        Assert.Equal("3", ChildProcess.Run("stat", "-c", "%h", m["orig"]).Output.Trim());
        File.AppendAllText(m["dir/third"], "!");
        Assert.Equal("shared!", File.ReadAllText(m["second"]));
        File.Delete(m["orig"]);
        Assert.Equal("2", ChildProcess.Run("stat", "-c", "%h", m["second"]).Output.Trim());
        var inodes = ChildProcess.Run("stat", "-c", "%i", m["second"], m["dir/third"]).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(inodes[0], inodes[1]);
        Assert.Throws<IOException>(() => NativeCalls.Link(m["dir"], m["dirlink"]));
    }

    [SkippableFact]
    public void SymlinksResolveAndReadBack()
    {
        using var m = TestMount.Start();
        Directory.CreateDirectory(m["target-dir"]);
        File.WriteAllText(m["target-dir/file"], "via link");
        File.CreateSymbolicLink(m["rel"], "target-dir/file");
        Directory.CreateSymbolicLink(m["dirlink"], "target-dir");
        File.CreateSymbolicLink(m["dangling"], "/nowhere/at/all");
        Assert.Equal("via link", File.ReadAllText(m["rel"]));
        Assert.Equal("via link", File.ReadAllText(m["dirlink/file"]));
        Assert.Equal("target-dir/file", new FileInfo(m["rel"]).LinkTarget);
        Assert.Equal("/nowhere/at/all", new FileInfo(m["dangling"]).LinkTarget);
        Assert.ThrowsAny<IOException>(() => File.ReadAllText(m["dangling"]));
        Assert.Equal("symbolic link", ChildProcess.Run("stat", "-c", "%F", m["rel"]).Output.Trim());
    }

    [SkippableFact]
    public void ChmodChownAndUtimens()
    {
        using var m = TestMount.Start();
        string path = m["f"];
        File.WriteAllText(path, "x");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.OtherRead);
        Assert.Equal("504", ChildProcess.Run("stat", "-c", "%a", path).Output.Trim());
        NativeCalls.Chown(path, 1234, 5678);
        Assert.Equal("1234:5678", ChildProcess.Run("stat", "-c", "%u:%g", path).Output.Trim());
        var when = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(path, when);
        File.SetLastAccessTimeUtc(path, when.AddDays(1));
        Assert.Equal(when, File.GetLastWriteTimeUtc(path));
        Assert.Equal(when.AddDays(1), File.GetLastAccessTimeUtc(path));
        ChildProcess.Sh($"touch -m -d '2020-01-01 00:00:00.5 UTC' '{path}'");
        Assert.Equal("1577836800.500000000", ChildProcess.Run("stat", "-c", "%.9Y", path).Output.Trim());
    }

    [SkippableFact]
    public void MemoryMappedFileReadsAndWritesThrough()
    {
        using var m = TestMount.Start();
        string path = m["mapped"];
        File.WriteAllBytes(path, new byte[3 * 4096]);
        using (var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite))
        using (var view = map.CreateViewAccessor())
        {
            MappedViewCopy.Write(view, 5000, BitConverter.GetBytes(0x1122334455667788L));
            view.Flush();
        }
        byte[] data = File.ReadAllBytes(path);
        Assert.Equal(0x1122334455667788L, BitConverter.ToInt64(data, 5000));
        File.WriteAllBytes(m["mapped2"], Encoding.ASCII.GetBytes("mapped read"));
        using var map2 = MemoryMappedFile.CreateFromFile(m["mapped2"], FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view2 = map2.CreateViewAccessor(0, 11, MemoryMappedFileAccess.Read);
        var bytes = new byte[11];
        MappedViewCopy.Read(view2, 0, bytes);
        Assert.Equal("mapped read", Encoding.ASCII.GetString(bytes));
    }

    [SkippableFact]
    public void StatfsReportsTheLayoutsFigures()
    {
        using var m = TestMount.Start();
        var expected = m.FileSystem.GetStatistics();
        string[] f = ChildProcess.Run("stat", "-f", "-c", "%S %b %f %a %c %d %l", m.Root).Output.Trim().Split(' ');
        Assert.Equal(expected.BlockSize.ToString(), f[0]);
        Assert.Equal(expected.Blocks.ToString(), f[1]);
        Assert.Equal(expected.BlocksFree.ToString(), f[2]);
        Assert.Equal(expected.BlocksAvailable.ToString(), f[3]);
        Assert.Equal(expected.Files.ToString(), f[4]);
        Assert.Equal(expected.MaxNameLength.ToString(), f[6]);
    }

    [SkippableFact]
    public void ErrorsComeBackAsErrnos()
    {
        using var m = TestMount.Start();
        Assert.Throws<FileNotFoundException>(() => File.ReadAllText(m["missing"]));
        Directory.CreateDirectory(m["d/e"]);
        Assert.Throws<IOException>(() => Directory.Delete(m["d"]));
        Assert.Throws<PathTooLongException>(() => File.WriteAllText(m[new string('n', 256)], ""));
        File.WriteAllText(m[new string('n', 255)], "longest");
        Assert.Equal("longest", File.ReadAllText(m[new string('n', 255)]));
    }

    [SkippableFact]
    public void ReadOnlyMountRefusesWrites()
    {
        var fs = new Memory.MemoryFileSystem();
        var (_, h) = fs.Create(fs.RootNode, "present", 0x1A4, Vfs.OpenFlags.WriteOnly, Vfs.Credentials.Root);
        fs.Write(fs.Lookup(fs.RootNode, "present")!.Node, h, 0, "here"u8);
        fs.Release(fs.Lookup(fs.RootNode, "present")!.Node, h);
        using var m = TestMount.Start(fs, new FuseOptions { ReadOnly = true });
        Assert.Equal("here", File.ReadAllText(m["present"]));
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(m["new"], "x"));
        Assert.ThrowsAny<IOException>(() => File.AppendAllText(m["present"], "x"));
        Assert.Contains($"{m.Root} fuse.mountfs ro,", File.ReadAllText("/proc/mounts"));
    }
}

/// <summary>The same operations with the kernel's writeback cache, where it owns size, mtime and appends.</summary>
public sealed class WritebackCacheTests
{
    [SkippableFact]
    public void DataSizesAndAppendsReachTheLayout()
    {
        using var m = TestMount.Start(options: new FuseOptions { WritebackCache = true });
        Assert.True(m.Mount.Dispatcher.Negotiated!.Value.Flags.HasFlag(Protocol.InitFlags.WritebackCache));
        string path = m["wb"];
        File.WriteAllBytes(path, Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray());
        ChildProcess.Sh($"echo appended >> '{path}' && truncate -s 200000 '{path}' && sync");
        var node = m.FileSystem.Lookup(m.FileSystem.RootNode, "wb")!;
        Assert.Equal(200_000, node.Size);
        var buffer = new byte[100_009];
        ulong h = m.FileSystem.Open(node.Node, Vfs.OpenFlags.ReadOnly);
        Assert.Equal(buffer.Length, m.FileSystem.Read(node.Node, h, 0, buffer));
        m.FileSystem.Release(node.Node, h);
        Assert.Equal(Enumerable.Range(0, 100_000).Select(i => (byte)i), buffer[..100_000]);
        Assert.Equal("appended\n"u8.ToArray(), buffer[100_000..]);
        var when = new DateTime(2005, 5, 5, 5, 5, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, when);
        Assert.Equal(when, File.GetLastWriteTimeUtc(path));
    }
}

public sealed class ClonedDescriptorTests
{
    [SkippableFact]
    public void WorkersOnClonedDescriptorsServeAndStop()
    {
        using var m = TestMount.Start(options: new FuseOptions { CloneDevicePerWorker = true, Threads = 3 });
        Parallel.For(0, 30, i => File.WriteAllText(m[$"p{i}"], $"payload {i}"));
        for (int i = 0; i < 30; i++) Assert.Equal($"payload {i}", File.ReadAllText(m[$"p{i}"]));
        Assert.DoesNotContain(m.Log, l => l.Contains("sharing one descriptor"));
        m.Mount.Unmount();
        Assert.True(m.Mount.WaitForExit(TimeSpan.FromSeconds(20)));
    }
}

public sealed class RenameAndXattrTests
{
    [SkippableFact]
    public void Renameat2NoReplaceAndExchange()
    {
        using var m = TestMount.Start();
        File.WriteAllText(m["a"], "A");
        File.WriteAllText(m["b"], "B");
        Assert.Equal(-17, NativeCalls.RenameAt2(m["a"], m["b"], 1)); // RENAME_NOREPLACE → EEXIST
        Assert.Equal(0, NativeCalls.RenameAt2(m["a"], m["b"], 2));   // RENAME_EXCHANGE
        Assert.Equal("B", File.ReadAllText(m["a"]));
        Assert.Equal("A", File.ReadAllText(m["b"]));
        Assert.Equal(0, NativeCalls.RenameAt2(m["a"], m["c"], 1));
        Assert.Equal("B", File.ReadAllText(m["c"]));
    }

    [SkippableFact]
    public void ExtendedAttributesThroughTheMount()
    {
        using var m = TestMount.Start();
        File.WriteAllText(m["x"], "");
        Assert.Equal(0, NativeCalls.SetXattr(m["x"], "user.colour", "blue"u8.ToArray()));
        Assert.Equal(4, NativeCalls.GetXattr(m["x"], "user.colour", 0).Length);
        Assert.Equal("blue"u8.ToArray(), NativeCalls.GetXattr(m["x"], "user.colour", 64).Value);
        Assert.Equal(-34, NativeCalls.GetXattr(m["x"], "user.colour", 2).Length);  // ERANGE
        Assert.Equal(-61, NativeCalls.GetXattr(m["x"], "user.absent", 64).Length); // ENODATA

        // A layout without xattrs: ENOSYS to the kernel, which then answers EOPNOTSUPP itself.
        var plain = new Memory.MemoryFileSystem(new Memory.MemoryFileSystemOptions { Capabilities = new Vfs.FileSystemCapabilities() });
        using var p = TestMount.Start(plain);
        File.WriteAllText(p["y"], "");
        Assert.Equal(-95, NativeCalls.SetXattr(p["y"], "user.colour", "red"u8.ToArray()));
        Assert.Equal(-95, NativeCalls.GetXattr(p["y"], "user.colour", 64).Length);
    }
}

/// <summary>One request stuck on a slow device must not stall the rest of the mount.</summary>
public sealed class SlowRequestTests
{
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void MetadataIsAnsweredWhileAReadIsStuck(bool ioUring)
    {
        var layout = new RecordingFileSystem(new MountFs.Memory.MemoryFileSystem());
        using var m = TestMount.Start(layout, new FuseOptions { IoUring = ioUring });
        Skip.If(ioUring && !m.Mount.UsesIoUring, "this kernel or process cannot serve FUSE over io_uring: " + string.Join(" | ", m.Log));
        File.WriteAllText(m["slow"], "data");
        using var gate = new ManualResetEventSlim(false);
        layout.ReadGate = gate;
        try
        {
            // O_DIRECT so the kernel's page cache cannot answer the read itself. Both processes run on CPU 0,
            // so under io_uring their requests reach the same queue (the kernel picks it by the caller's CPU).
            var stuck = Task.Run(() => ChildProcess.Sh($"taskset -c 0 dd if='{m["slow"]}' of=/dev/null iflag=direct bs=4096 count=1 2>&1"));
            Assert.True(layout.ReadWaiting.Wait(TimeSpan.FromSeconds(20)), "the read never reached the layout");

            var metadata = Task.Run(() =>
            {
                ChildProcess.Sh($"taskset -c 0 mkdir '{m["made-meanwhile"]}'");
                return Directory.GetFileSystemEntries(m.Root).Length;
            });
            Assert.True(metadata.Wait(TimeSpan.FromSeconds(10)), "mkdir and listing stalled behind the stuck read");
            Assert.Equal(2, metadata.Result);
            Assert.False(stuck.IsCompleted, "the read finished before its gate opened");

            gate.Set();
            Assert.True(stuck.Wait(TimeSpan.FromSeconds(10)), "the read did not finish after the gate opened");
        }
        finally
        {
            layout.ReadGate = null;
            gate.Set();
        }
    }
}
