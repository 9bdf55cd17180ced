using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>
/// Damage made on purpose: reading never crashes or hangs (only FsException), our fsck -y repairs, and then
/// fsck.fat -n finds nothing and the volume takes new writes cleanly.
/// </summary>
public class CorruptionTests
{
    private const int Cluster = 512;

    private static readonly Dictionary<int, byte[]> BaseImages = [];

    private static byte[] BaseImage(int bits)
    {
        lock (BaseImages)
        {
            if (BaseImages.TryGetValue(bits, out var cached)) return (byte[])cached.Clone();
            using var img = TempImage.MkfsFat(bits == 32 ? 40L << 20 : bits == 16 ? 16L << 20 : 2L << 20, bits, 1);
            using (var fs = img.Mount())
            {
                var rng = new Random(bits);
                byte[] Data(int clusters) { var d = new byte[clusters * Cluster]; rng.NextBytes(d); return d; }
                FsPaths.WriteFile(fs, "/LOOP.BIN", Data(5));
                FsPaths.WriteFile(fs, "/PAST.BIN", Data(3));
                FsPaths.WriteFile(fs, "/CROSSA.BIN", Data(4));
                FsPaths.WriteFile(fs, "/CROSSB.BIN", Data(4));
                FsPaths.WriteFile(fs, "/SHORT.BIN", Data(3));
                FsPaths.WriteFile(fs, "/LONG.BIN", Data(3));
                FsPaths.WriteFile(fs, "/FREEMID.BIN", Data(4));
                FsPaths.WriteFile(fs, "/RANGE.BIN", Data(2));
                FsPaths.WriteFile(fs, "/A long name for the lfn test.txt", Data(1));
                FsPaths.WriteFile(fs, "/Checksum victim with long name.txt", Data(1));
                fs.MakeDirectory(fs.RootNode, "SUBDIR", 0x1ED, Credentials.Root);
                FsPaths.WriteFile(fs, "/SUBDIR/INNER.TXT", Data(2));
                fs.MakeDirectory(fs.RootNode, "SIZED", 0x1ED, Credentials.Root);
            }
            ExternalTool.AssertFsckClean(img.Path);
            BaseImages[bits] = img.ReadAll();
            return (byte[])BaseImages[bits].Clone();
        }
    }

    /// <summary>Each kind: how to damage the image, and the file whose read must fail (null: reads may work).</summary>
    public static readonly Dictionary<string, (Action<ImageInspector> Damage, string? Unreadable)> Kinds = new()
    {
        ["looping chain"] = (i => { var c = i.Chain(i.Entry(i.FindEntry("LOOP    BIN")).FirstCluster); i.SetFat(c[3], c[1]); }, "/LOOP.BIN"),
        ["chain past the end of the FAT"] = (i => { var c = i.Chain(i.Entry(i.FindEntry("PAST    BIN")).FirstCluster); i.SetFat(c[0], i.Geometry.ClusterCount + 5); }, "/PAST.BIN"),
        ["cross-linked clusters"] = (i =>
        {
            var a = i.Chain(i.Entry(i.FindEntry("CROSSA  BIN")).FirstCluster);
            var b = i.Chain(i.Entry(i.FindEntry("CROSSB  BIN")).FirstCluster);
            i.SetFat(b[1], a[2]);
        }, null),
        ["lost chain"] = (i =>
        {
            uint f = i.FirstFreeClusterAfter(200);
            i.SetFat(f, f + 1); i.SetFat(f + 1, f + 2); i.SetFat(f + 2, 0xFFFFFFF);
        }, null),
        ["file size larger than its chain"] = (i => { int o = i.FindEntry("SHORT   BIN"); i.SetEntry(o, i.Entry(o) with { FileSize = 10 * Cluster }); }, "/SHORT.BIN"),
        ["chain longer than the file size"] = (i => { int o = i.FindEntry("LONG    BIN"); i.SetEntry(o, i.Entry(o) with { FileSize = 100 }); }, null),
        ["FAT copies differ"] = (i => { uint f = i.FirstFreeClusterAfter(100); i.SetFat(f, 0xFFFFFFF, onlyCopy: 1); }, null),
        ["orphaned long-name entries"] = (i => { int o = i.FindEntry("ALONGN~1TXT"); i.Bytes[o] = 0xE5; }, null),
        ["long-name checksum mismatch"] = (i => { int o = i.FindEntry("CHECKS~1TXT"); i.Bytes[o - 32 + 13] ^= 0x5A; }, null),
        ["bad '..' entry"] = (i =>
        {
            uint sub = i.Entry(i.FindEntry("SUBDIR     ")).FirstCluster;
            int dotdot = i.FindEntry("..         ", sub);
            i.SetEntry(dotdot, i.Entry(dotdot) with { FirstCluster = 7 });
        }, null),
        ["bad '.' entry"] = (i =>
        {
            uint sub = i.Entry(i.FindEntry("SUBDIR     ")).FirstCluster;
            int dot = i.FindEntry(".          ", sub);
            i.SetEntry(dot, i.Entry(dot) with { FirstCluster = sub + 3 });
        }, null),
        ["link to a free cluster mid-chain"] = (i => { var c = i.Chain(i.Entry(i.FindEntry("FREEMID BIN")).FirstCluster); i.SetFat(c[1], 0); }, "/FREEMID.BIN"),
        ["start cluster out of range"] = (i => { int o = i.FindEntry("RANGE   BIN"); i.SetEntry(o, i.Entry(o) with { FirstCluster = i.Geometry.ClusterCount + 50 }); }, "/RANGE.BIN"),
        ["directory containing itself"] = (i =>
        {
            uint sub = i.Entry(i.FindEntry("SUBDIR     ")).FirstCluster;
            int inner = i.FindEntry("INNER   TXT", sub);
            i.SetEntry(inner, i.Entry(inner) with { Attributes = FatAttributes.Directory, FirstCluster = sub, FileSize = 0 });
        }, null),
        ["two directories sharing clusters"] = (i =>
        {
            uint sub = i.Entry(i.FindEntry("SUBDIR     ")).FirstCluster;
            int sized = i.FindEntry("SIZED      ");
            i.SetEntry(sized, i.Entry(sized) with { FirstCluster = sub });
        }, null),
        ["forbidden characters in a short name"] = (i => { int o = i.FindEntry("LONG    BIN"); i.Bytes[o + 1] = (byte)'?'; i.Bytes[o + 2] = 0x01; }, null),
        ["duplicate short names"] = (i => { int o = i.FindEntry("PAST    BIN"); "LOOP    BIN"u8.CopyTo(i.Bytes.AsSpan(o)); }, null),
        ["directory with a size"] = (i => { int o = i.FindEntry("SIZED      "); i.SetEntry(o, i.Entry(o) with { FileSize = 4096 }); }, null),
        ["dirty bit left set"] = (i => i.Bytes[i.Bpb.TailOffset + 1] |= 1, null),
        ["wrong media byte in FAT[0]"] = (i => i.SetFat(0, i.GetFat(0) & ~0xFFu | 0xF0), null),
        ["boot label without root label entry"] = (i => "GHOSTLABEL "u8.CopyTo(i.Bytes.AsSpan(i.Bpb.TailOffset + 7)), null),
        ["FSInfo free count wrong"] = (i =>
        {
            if (i.Geometry.Type != FatType.Fat32) { i.Bytes[i.Bpb.TailOffset + 1] |= 1; return; }
            BitConverter.GetBytes(12345u).CopyTo(i.Bytes, i.Bpb.FsInfoSector * 512 + 488);
        }, null),
        ["backup boot sector differs"] = (i =>
        {
            if (i.Geometry.Type != FatType.Fat32) { i.SetFat(0, i.GetFat(0) & ~0xFFu | 0xF9); return; }
            i.Bytes[i.Bpb.BackupBootSector * 512 + 3] ^= 0x20;
        }, null),
    };

    public static TheoryData<string, int> Cases()
    {
        var d = new TheoryData<string, int>();
        foreach (var k in Kinds.Keys) foreach (int bits in new[] { 12, 16, 32 }) d.Add(k, bits);
        return d;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void DamagedVolume_ReadsWithoutCrashing_AndOurFsckRepairsIt(string kind, int bits)
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat") && ExternalTool.Exists("fsck.fat"), "dosfstools not installed");
        var bytes = BaseImage(bits);
        var inspector = new ImageInspector(bytes);
        var (damage, unreadable) = Kinds[kind];
        damage(inspector);
        using var img = new TempImage(0);
        img.WriteAll(bytes);

        using (var fs = img.Mount(readOnly: true))
        {
            int errors = WalkTolerant(fs, fs.RootNode);
            if (unreadable != null)
            {
                var e = Assert.Throws<FsException>(() => FsPaths.ReadFile(fs, FsPaths.Resolve(fs, unreadable)));
                Assert.True(e.Errno is Errno.EUCLEAN or Errno.EIO, e.ToString());
                Assert.True(errors > 0);
            }
        }

        var log = new StringWriter();
        using (var dev = img.Open(readOnly: true))
            Assert.Equal(FsckExitCode.Uncorrected, new FatChecker().Check(dev, RepairMode.CheckOnly, true, log).ExitCode);
        Assert.Equal(bytes, img.ReadAll()); // -n changed nothing
        using (var dev = img.Open())
        {
            var result = new FatChecker().Check(dev, RepairMode.All, true, log);
            Assert.True(result.ExitCode == FsckExitCode.Corrected, log.ToString());
        }
        var after = ExternalTool.FsckCheck(img.Path);
        Assert.True(after.ExitCode == 0, $"fsck.fat after our repair of {kind}:\n{after.Output}\nour log:\n{log}");
        using (var dev = img.Open(readOnly: true))
        {
            var again = new FatChecker().Check(dev, RepairMode.CheckOnly, true, TextWriter.Null);
            Assert.True(again.ExitCode == FsckExitCode.Clean, string.Join("\n", again.Problems));
        }
        using (var fs = img.Mount())
        {
            Assert.Equal(0, WalkTolerant(fs, fs.RootNode));
            FsPaths.WriteFile(fs, "/after repair.bin", new byte[3000]);
        }
        ExternalTool.AssertFsckClean(img.Path);
    }

    [Fact]
    public void WithoutForce_ACleanlyUnmountedVolumeIsNotWalked_ButADirtyOneIs()
    {
        var bytes = BaseImage(16);
        var inspector = new ImageInspector(bytes);
        Kinds["chain longer than the file size"].Damage(inspector);
        using (var dev = new MemoryBlockDevice(bytes))
            Assert.Equal(FsckExitCode.Clean, new FatChecker().Check(dev, RepairMode.CheckOnly, force: false, TextWriter.Null).ExitCode);
        using (var dev = new MemoryBlockDevice(bytes))
            Assert.Equal(FsckExitCode.Uncorrected, new FatChecker().Check(dev, RepairMode.CheckOnly, force: true, TextWriter.Null).ExitCode);
        bytes[inspector.Bpb.TailOffset + 1] |= 1;
        using (var dev = new MemoryBlockDevice(bytes))
            Assert.Equal(FsckExitCode.Uncorrected, new FatChecker().Check(dev, RepairMode.CheckOnly, force: false, TextWriter.Null).ExitCode);
    }

    [Fact]
    public void TruncatedImage_IsRefusedWithAClearError()
    {
        var bytes = BaseImage(16);
        using var dev = new MemoryBlockDevice(bytes.AsSpan(0, bytes.Length / 2));
        var e = Assert.Throws<FsException>(() => new FatFileSystem(dev, new MountOptions(), TextWriter.Null));
        Assert.Equal(Errno.EUCLEAN, e.Errno);
        Assert.Contains("longer than the device", e.Message);
        Assert.False(new FatLayout().Probe(new MemoryBlockDevice(bytes.AsSpan(0, bytes.Length / 2))));
    }

    [Fact]
    public void RandomBitFlips_NeverCrashTheReaderOrTheChecker()
    {
        var pristine = BaseImage(12);
        var g = new ImageInspector((byte[])pristine.Clone()).Geometry;
        // Metadata lives in the first sectors (boot, FATs, root) and in the few directory clusters after them.
        int metadataEnd = (int)((g.FirstDataSector + 64) * 512);
        var rng = new Random(20240);
        for (int round = 0; round < 1500; round++)
        {
            var bytes = (byte[])pristine.Clone();
            int flips = 1 + rng.Next(8);
            for (int k = 0; k < flips; k++)
            {
                int at = rng.Next(4) == 0 ? rng.Next(512) : rng.Next(metadataEnd);
                bytes[at] ^= (byte)(1 << rng.Next(8));
            }
            new FatLayout().Probe(new MemoryBlockDevice(bytes));
            try
            {
                using var fs = new FatFileSystem(new MemoryBlockDevice(bytes), new MountOptions { ReadOnly = true }, TextWriter.Null);
                WalkTolerant(fs, fs.RootNode);
            }
            catch (FsException) { }
            if (round % 10 == 0)
            {
                using var dev = new MemoryBlockDevice(bytes);
                var r = new FatChecker().Check(dev, RepairMode.All, true, TextWriter.Null);
                if (r.ExitCode == FsckExitCode.Corrected)
                {
                    var again = new FatChecker().Check(dev, RepairMode.CheckOnly, true, TextWriter.Null);
                    Assert.True(again.ExitCode == FsckExitCode.Clean, $"round {round}: second check still finds:\n" + string.Join("\n", again.Problems));
                }
            }
        }
    }

    private static void ReadCapped(IFileSystem fs, ulong node)
    {
        ulong h = fs.Open(node, OpenFlags.ReadOnly);
        try
        {
            var buffer = new byte[65536];
            long size = fs.GetAttributes(node).Size;
            for (long o = 0; o < Math.Min(size, 4L << 20); o += buffer.Length) fs.Read(node, h, o, buffer);
        }
        finally { fs.Release(node, h); }
    }

    /// <summary>Lists and reads everything, counting the FsExceptions met on the way.</summary>
    internal static int WalkTolerant(IFileSystem fs, ulong dir, int depth = 0)
    {
        int errors = 0;
        List<DirectoryEntry> entries;
        try { entries = FsPaths.List(fs, dir); }
        catch (FsException) { return 1; }
        foreach (var e in entries)
        {
            if (e.Name is "." or "..") continue;
            try
            {
                var a = fs.Lookup(dir, e.Name);
                if (a == null) { errors++; continue; }
                if (a.IsDirectory) { if (depth < 20) errors += WalkTolerant(fs, a.Node, depth + 1); }
                else ReadCapped(fs, a.Node);
            }
            catch (FsException) { errors++; }
        }
        return errors;
    }
}
