using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>Our writes judged by dosfstools and mtools, and their writes read by us.</summary>
public class InteropTests
{
    public static TheoryData<int, long, int, int> Volumes() => new()
    {
        { 12, 2L << 20, 1, 1 },
        { 12, 8L << 20, 4, 2 },
        { 16, 32L << 20, 2, 3 },
        { 16, 64L << 20, 16, 4 },
        { 32, 64L << 20, 1, 5 },
        { 32, 300L << 20, 8, 6 },
    };

    [SkippableTheory]
    [MemberData(nameof(Volumes))]
    public void TreeWrittenByUs_IsCleanForFsckFat_AndReadsBackThroughMtools(int bits, long size, int spc, int seed)
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat") && ExternalTool.Exists("mcopy"), "dosfstools/mtools not installed");
        using var img = TempImage.MkfsFat(size, bits, spc);
        var tree = new RandomTree(seed, bits == 12 ? 40_000 : 1 << 20);
        using (var fs = img.Mount())
        {
            Assert.Equal((FatType)bits, fs.Type);
            tree.Build(fs, bits == 12 ? 60 : 150);
        }
        ExternalTool.AssertFsckClean(img.Path);

        string outDir = Path.Combine(img.Directory, "out");
        Directory.CreateDirectory(outDir);
        var r = ExternalTool.Run("mcopy", "-s", "-n", "-m", "-i", img.Path, "::*", outDir);
        Assert.True(r.ExitCode == 0, r.Output);
        var (files, dirs) = FsPaths.HostSnapshot(outDir);
        tree.AssertMatches(files, dirs);
        var dir = ExternalTool.Run("mdir", "-/", "-i", img.Path, "::");
        Assert.True(dir.ExitCode == 0, dir.Output);

        using (var fs = img.Mount(readOnly: true))
        {
            var (ourFiles, ourDirs) = FsPaths.Snapshot(fs);
            tree.AssertMatches(ourFiles, ourDirs);
        }
    }

    [SkippableTheory]
    [InlineData(12, 4L << 20)]
    [InlineData(16, 40L << 20)]
    [InlineData(32, 80L << 20)]
    public void TreeWrittenByMcopy_ReadsBackExactly(int bits, long size)
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat") && ExternalTool.Exists("mcopy"), "dosfstools/mtools not installed");
        using var img = TempImage.MkfsFat(size, bits);
        string src = Path.Combine(img.Directory, "src");
        var rng = new Random(bits);
        var names = new[] { "README.TXT", "lower.txt", "Mixed Case Name.Data", "日本語のファイル.txt", "a.b.c.d", "LONGFILENAMEWITHOUTSPACES.JSON", "e" };
        string dir = src;
        Directory.CreateDirectory(src);
        for (int depth = 0; depth < 5; depth++)
        {
            foreach (var n in names)
            {
                var data = new byte[rng.Next(0, bits == 12 ? 30_000 : 300_000)];
                rng.NextBytes(data);
                File.WriteAllBytes(Path.Combine(dir, depth + n), data);
            }
            dir = Path.Combine(dir, $"Sub Directory {depth}");
            Directory.CreateDirectory(dir);
        }
        var args = new List<string> { "-s", "-i", img.Path };
        args.AddRange(Directory.EnumerateFileSystemEntries(src));
        args.Add("::/");
        var r = ExternalTool.Run("mcopy", args.ToArray());
        Assert.True(r.ExitCode == 0, r.Output);
        var expected = FsPaths.HostSnapshot(src);
        using var fs = img.Mount(readOnly: true);
        var (files, dirs) = FsPaths.Snapshot(fs);
        Assert.Equal(expected.Dirs.Order(StringComparer.Ordinal), dirs.Order(StringComparer.Ordinal));
        Assert.Equal(expected.Files.Keys.Order(StringComparer.Ordinal), files.Keys.Order(StringComparer.Ordinal));
        foreach (var (p, data) in expected.Files) Assert.True(data.AsSpan().SequenceEqual(files[p]), p);
        // Case-insensitive lookup of what mtools wrote.
        Assert.NotNull(fs.Lookup(fs.RootNode, "readme.txt".Insert(0, "0")));
        Assert.NotNull(fs.Lookup(fs.RootNode, "0MIXED CASE NAME.DATA"));
    }

    [SkippableFact]
    public void FourKibSectors_AndConcurrentWriters_StayClean()
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat"), "dosfstools not installed");
        using var img = new TempImage(64L << 20);
        var r = ExternalTool.Run("mkfs.fat", "-S", "4096", "-F", "16", img.Path);
        Assert.True(r.ExitCode == 0, r.Output);
        var expected = new System.Collections.Concurrent.ConcurrentDictionary<string, byte[]>();
        using (var fs = img.Mount())
        {
            Assert.Equal(0, fs.GetStatistics().BlockSize % 4096);
            var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                var rng = new Random(t);
                var dir = fs.MakeDirectory(fs.RootNode, $"thread {t}", 0x1ED, Credentials.Root);
                for (int i = 0; i < 40; i++)
                {
                    var data = new byte[rng.Next(0, 50_000)];
                    rng.NextBytes(data);
                    string name = $"file {i} of thread {t}.bin";
                    var (a, h) = fs.Create(dir.Node, name, 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                    for (int o = 0; o < data.Length; o += 3000)
                        fs.Write(a.Node, h, o, data.AsSpan(o, Math.Min(3000, data.Length - o)));
                    fs.Release(a.Node, h);
                    if (i % 5 == 4) fs.Unlink(dir.Node, name);
                    else expected[$"/thread {t}/{name}"] = data;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }
        ExternalTool.AssertFsckClean(img.Path);
        using (var fs = img.Mount(readOnly: true))
        {
            var (files, _) = FsPaths.Snapshot(fs);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), files.Keys.Order(StringComparer.Ordinal));
            foreach (var (p, d) in expected) Assert.True(d.AsSpan().SequenceEqual(files[p]), p);
        }
    }

    [SkippableFact]
    public void OurMkfs_ThenOurWrites_AreCleanForEveryType()
    {
        Skip.IfNot(ExternalTool.Exists("fsck.fat"), "dosfstools not installed");
        foreach (var (variant, size) in new[] { ("fat12", 3L << 20), ("fat16", 24L << 20), ("fat32", 48L << 20) })
        {
            using var img = new TempImage(size);
            using (var dev = img.Open())
                new FatFormatter().Format(dev, new FormatOptions { Variant = variant, Label = "TEST" });
            ExternalTool.AssertFsckClean(img.Path);
            var tree = new RandomTree(variant.Length + (int)size, 100_000);
            using (var fs = img.Mount()) tree.Build(fs, 60);
            ExternalTool.AssertFsckClean(img.Path);
        }
    }
}
