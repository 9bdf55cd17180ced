using System.Runtime.InteropServices;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>Large writes on an image file are sent on to the disk as they arrive (FatVolume.StartWriteBack) instead of
/// waiting in the page cache for the next flush; what lands is still exactly what was written.</summary>
public class WriteBackTests
{
    private const int Page = 4096;

    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatRange { public ulong Offset, Length; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Cachestat { public ulong Cached, Dirty, Writeback, Evicted, RecentlyEvicted; }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long CachestatCall(long number, int fd, ref CachestatRange range, out Cachestat result, uint flags);

    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SyncFileRange(int fd, long offset, long length, uint flags);

    private const uint SyncFileRangeWrite = 2;

    private const long SysCachestat = 451; // the same number on x86-64 and arm64 (the generic table)

    /// <summary>Dirty pages of a whole file in the page cache, or null where cachestat(2) is missing (Linux before 6.5).</summary>
    private static ulong? DirtyPages(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var range = new CachestatRange();
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return CachestatCall(SysCachestat, (int)handle.DangerousGetHandle(), ref range, out var stat, 0) == 0 ? stat.Dirty : null;
        }
        finally { if (added) handle.DangerousRelease(); }
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Skips unless a plain file beside the image keeps <paramref name="bytes"/> written bytes dirty until
    /// something starts their write-back, and sync_file_range does start it: a file system without write-back (tmpfs)
    /// or a kernel without cachestat cannot show a difference.</summary>
    private static void RequireDirtyPages(TempImage img, int bytes)
    {
        string control = Path.Combine(img.Directory, "control.bin");
        using var h = File.OpenHandle(control, FileMode.Create, FileAccess.Write);
        RandomAccess.Write(h, RandomBytes(bytes, 7), 0);
        ulong? dirty = DirtyPages(control);
        Skip.If(dirty is null, "cachestat(2) is not available (Linux 6.5+)");
        Skip.If(dirty < (ulong)(bytes / Page / 2), $"the temp file system kept only {dirty} of {bytes / Page} written pages dirty");
        bool added = false;
        h.DangerousAddRef(ref added);
        try { SyncFileRange((int)h.DangerousGetHandle(), 0, 0, SyncFileRangeWrite); }
        finally { if (added) h.DangerousRelease(); }
        ulong? after = DirtyPages(control);
        Skip.If(after > dirty / 16, $"the temp file system kept {after} of {dirty} dirty pages after sync_file_range (no write-back)");
    }

    [SkippableFact]
    public void LargeWrites_LeaveNoDirtyPagesInTheImage_WherePlainWritesOfTheSameSizeStayDirty()
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat"), "dosfstools not installed");
        using var img = TempImage.MkfsFat(64L << 20, 32, sectorsPerCluster: 1);
        const int chunk = 1 << 20, chunks = 4;
        RequireDirtyPages(img, chunks * chunk);

        var expected = new byte[chunks * chunk];
        using (var fs = img.Mount())
        {
            var (a, h) = fs.Create(fs.RootNode, "big.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            for (int i = 0; i < chunks; i++)
            {
                var data = RandomBytes(chunk, 100 + i);
                data.CopyTo(expected, i * chunk);
                fs.Write(a.Node, h, (long)i * chunk, data);
            }
            // Nothing was flushed yet: the data pages left the dirty state because each write started their write-back.
            ulong dirty = DirtyPages(img.Path)!.Value;
            Assert.True(dirty < chunks * chunk / Page / 16, $"{dirty} dirty pages in the image after {chunks} MiB of large writes");
            fs.Release(a.Node, h);
        }
        ExternalTool.AssertFsckClean(img.Path);
        if (ExternalTool.Exists("mtype"))
            Assert.Equal(expected, ExternalTool.Run("mtype", "-i", img.Path, "::big.bin").Stdout);
    }

    [SkippableFact]
    public void SmallFilesWrittenInARow_StartTheirWriteBackInBatches_AndReadBackExactly()
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat"), "dosfstools not installed");
        using var img = TempImage.MkfsFat(64L << 20, 32, sectorsPerCluster: 1);
        const int size = 32 << 10, files = 128; // 4 MiB in all, each file far below the batch size
        RequireDirtyPages(img, files * size);
        var contents = new List<byte[]>();
        using (var fs = img.Mount())
        {
            for (int i = 0; i < files; i++)
            {
                var (f, h) = fs.Create(fs.RootNode, $"f{i:D3}.dat", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                var data = RandomBytes(size - 100 + i, 200 + i);
                fs.Write(f.Node, h, 0, data);
                fs.Release(f.Node, h);
                contents.Add(data);
            }
            // At most the last, unfinished batch (under 1 MiB = 256 pages) is still dirty; without batches all 1024 are.
            ulong dirty = DirtyPages(img.Path)!.Value;
            Assert.True(dirty < (ulong)(files * size / Page / 2), $"{dirty} dirty pages in the image after {files} files of {size} bytes");
        }
        ExternalTool.AssertFsckClean(img.Path);
        if (!ExternalTool.Exists("mtype")) return;
        foreach (int i in new[] { 0, 63, 127 })
            Assert.Equal(contents[i], ExternalTool.Run("mtype", "-i", img.Path, $"::f{i:D3}.dat").Stdout);
    }

    [SkippableFact]
    public void LargeUnalignedWrites_OverFragmentedClusters_ReadBackThroughMtools_AndStayClean()
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat") && ExternalTool.Exists("mtype"), "dosfstools/mtools not installed");
        using var img = TempImage.MkfsFat(64L << 20, 32, sectorsPerCluster: 1);
        var expected = new List<byte>();
        var small = new List<byte>();
        using (var fs = img.Mount())
        {
            var (a, ha) = fs.Create(fs.RootNode, "a.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            var (b, hb) = fs.Create(fs.RootNode, "b.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            // Sizes that start and end inside sectors, each large enough to start write-back, with b's small writes
            // taking clusters in between so that a's later writes span several runs.
            int[] sizes = [1000, 300_001, 700_000 + 7, 1 << 20, 262_144 + 511, 1_500_003];
            for (int i = 0; i < sizes.Length; i++)
            {
                var data = RandomBytes(sizes[i], i);
                fs.Write(a.Node, ha, expected.Count, data);
                expected.AddRange(data);
                var piece = RandomBytes(700, 50 + i);
                fs.Write(b.Node, hb, small.Count, piece);
                small.AddRange(piece);
            }
            // A large overwrite across the middle, unaligned at both ends.
            var over = RandomBytes(600_013, 99);
            fs.Write(a.Node, ha, 123_457, over);
            over.CopyTo(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(expected)[123_457..]);
            fs.Fsync(a.Node, ha, dataOnly: false);
            fs.Release(a.Node, ha);
            fs.Release(b.Node, hb);
        }
        ExternalTool.AssertFsckClean(img.Path);
        Assert.Equal(expected.ToArray(), ExternalTool.Run("mtype", "-i", img.Path, "::a.bin").Stdout);
        Assert.Equal(small.ToArray(), ExternalTool.Run("mtype", "-i", img.Path, "::b.bin").Stdout);
    }
}
