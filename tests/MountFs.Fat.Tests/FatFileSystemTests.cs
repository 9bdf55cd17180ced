using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>The POSIX mapping: errors, modes, ids, case, dirty flag, space accounting.</summary>
public class FatFileSystemTests
{
    private static MemoryBlockDevice Formatted(long size = 8L << 20, string? variant = null, int? spc = null)
    {
        var dev = new MemoryBlockDevice(size);
        new FatFormatter { VolumeId = 0x1234 }.Format(dev, new FormatOptions { Variant = variant, SectorsPerCluster = spc });
        return dev;
    }

    private static FatFileSystem Mount(MemoryBlockDevice dev, MountOptions? o = null) => new(dev, o ?? new MountOptions(), TextWriter.Null);

    /// <summary>A fresh device with what an unmounted (disposed) one holds.</summary>
    private static MemoryBlockDevice Again(MemoryBlockDevice dev) => new(dev.Contents);

    [Fact]
    public void LinksSymlinksAndSpecialFiles_AreEperm()
    {
        using var fs = Mount(Formatted());
        var (a, h) = fs.Create(fs.RootNode, "f", 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
        fs.Release(a.Node, h);
        Assert.Equal(Errno.EPERM, Assert.Throws<FsException>(() => fs.Link(a.Node, fs.RootNode, "g")).Errno);
        Assert.Equal(Errno.EPERM, Assert.Throws<FsException>(() => fs.Symlink(fs.RootNode, "s", "f", Credentials.Root)).Errno);
        Assert.Equal(Errno.EPERM, Assert.Throws<FsException>(() => fs.MakeNode(fs.RootNode, "p", UnixFileMode.Fifo | 0x1A4, 0, Credentials.Root)).Errno);
        Assert.Equal(Errno.EPERM, Assert.Throws<FsException>(() => fs.MakeNode(fs.RootNode, "d", UnixFileMode.CharacterDevice | 0x1A4, 0x0101, Credentials.Root)).Errno);
        Assert.False(fs.Capabilities.HardLinks || fs.Capabilities.Symlinks || fs.Capabilities.SpecialFiles || fs.Capabilities.Permissions || fs.Capabilities.SparseFiles);
        Assert.True(fs.Capabilities.CaseInsensitive);
        Assert.Equal(uint.MaxValue, fs.Capabilities.MaxFileSize);
        Assert.Equal(TimeSpan.FromSeconds(2), fs.Capabilities.TimeGranularity);
    }

    [Fact]
    public void ForbiddenNames_AreEinval_AndNothingIsCreated()
    {
        using var fs = Mount(Formatted());
        foreach (var bad in new[] { "a:b", "a*", "what?", "x<y", "p|q", "back\\slash", "quo\"te", "ctl\u0007" })
        {
            Assert.Equal(Errno.EINVAL, Assert.Throws<FsException>(() => fs.Create(fs.RootNode, bad, 0x1A4, OpenFlags.WriteOnly, Credentials.Root)).Errno);
            Assert.Equal(Errno.EINVAL, Assert.Throws<FsException>(() => fs.MakeDirectory(fs.RootNode, bad, 0x1ED, Credentials.Root)).Errno);
        }
        Assert.Equal(2, FsPaths.List(fs, fs.RootNode).Count);
        Assert.Equal(Errno.ENAMETOOLONG, Assert.Throws<FsException>(() => fs.MakeDirectory(fs.RootNode, new string('n', 256), 0x1ED, Credentials.Root)).Errno);
    }

    [Fact]
    public void FilesPast4GiBMinus1_AreEfbig()
    {
        using var fs = Mount(Formatted());
        var (a, h) = fs.Create(fs.RootNode, "big", 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
        Assert.Equal(Errno.EFBIG, Assert.Throws<FsException>(() => fs.Write(a.Node, h, 4L << 30, new byte[1])).Errno);
        Assert.Equal(Errno.EFBIG, Assert.Throws<FsException>(() => fs.Write(a.Node, h, uint.MaxValue, new byte[1])).Errno);
        Assert.Equal(Errno.EFBIG, Assert.Throws<FsException>(() => fs.SetAttributes(a.Node, new SetAttributes { Size = 4L << 30 })).Errno);
        Assert.Equal(0, fs.GetAttributes(a.Node).Size);
    }

    [Fact]
    public void ModesFollowVfatMountOptions_AndReadOnlyAttributeIsTheWriteBits()
    {
        var dev = Formatted();
        using (var fs = Mount(dev, new MountOptions { Uid = 1000, Gid = 100, FileMask = 0x5B /*0133*/, DirectoryMask = 0x12 }))
        {
            var (f, h) = fs.Create(fs.RootNode, "file.txt", 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
            fs.Release(f.Node, h);
            var d = fs.MakeDirectory(fs.RootNode, "dir", 0x1ED, Credentials.Root);
            Assert.Equal(UnixFileMode.Regular | 0x1A4u, f.Mode); // 0644
            Assert.Equal(UnixFileMode.Directory | 0x1EDu, d.Mode); // 0755
            Assert.Equal(1000u, f.Uid);
            Assert.Equal(100u, d.Gid);
            Assert.Equal(Errno.EPERM, Assert.Throws<FsException>(() => fs.SetAttributes(f.Node, new SetAttributes { Uid = 5 })).Errno);
            var ro = fs.SetAttributes(f.Node, new SetAttributes { Mode = 0x124 }); // chmod a-w
            Assert.Equal(UnixFileMode.Regular | 0x124u, ro.Mode);
            Assert.Equal(Errno.EACCES, Assert.Throws<FsException>(() => fs.Access(f.Node, AccessMode.Write, new Credentials(1000, 100))).Errno);
        }
        using (var fs = Mount(Again(dev), new MountOptions()))
        {
            var f = fs.Lookup(fs.RootNode, "FILE.TXT")!;
            Assert.Equal(UnixFileMode.Regular | 0x16Du, f.Mode); // 0755 less write bits: the attribute survived
            var rw = fs.SetAttributes(f.Node, new SetAttributes { Mode = 0x1A4 });
            Assert.Equal(UnixFileMode.Regular | 0x1EDu, rw.Mode);
        }
    }

    [Fact]
    public void LookupIgnoresCase_ListingKeepsIt()
    {
        using var fs = Mount(Formatted());
        var d = fs.MakeDirectory(fs.RootNode, "Hello World.Dir", 0x1ED, Credentials.Root);
        Assert.Equal(d.Node, fs.Lookup(fs.RootNode, "HELLO WORLD.DIR")!.Node);
        Assert.Equal(d.Node, fs.Lookup(fs.RootNode, "hello world.dir")!.Node);
        Assert.Equal(Errno.EEXIST, Assert.Throws<FsException>(() => fs.MakeDirectory(fs.RootNode, "HELLO world.dir", 0x1ED, Credentials.Root)).Errno);
        Assert.Contains(FsPaths.List(fs, fs.RootNode), e => e.Name == "Hello World.Dir");
        // A case-only rename changes the stored case.
        fs.Rename(fs.RootNode, "hello world.dir", fs.RootNode, "HELLO world.dir");
        Assert.Contains(FsPaths.List(fs, fs.RootNode), e => e.Name == "HELLO world.dir");
        Assert.Equal(d.Node, fs.Lookup(fs.RootNode, "hello WORLD.dir")!.Node);
    }

    [Fact]
    public void NodeIds_SurviveRenames_AndUnlinkedOpenFilesKeepTheirData()
    {
        using var fs = Mount(Formatted());
        var a = fs.MakeDirectory(fs.RootNode, "a", 0x1ED, Credentials.Root);
        var b = fs.MakeDirectory(fs.RootNode, "b", 0x1ED, Credentials.Root);
        var (f, h) = fs.Create(a.Node, "file with a long name.bin", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        var data = new byte[10_000];
        new Random(1).NextBytes(data);
        fs.Write(f.Node, h, 0, data);
        fs.Rename(a.Node, "file with a long name.bin", b.Node, "moved.bin");
        Assert.Equal(f.Node, fs.Lookup(b.Node, "moved.bin")!.Node);
        Assert.Null(fs.Lookup(a.Node, "file with a long name.bin"));
        Assert.Equal(10_000, fs.GetAttributes(f.Node).Size);
        fs.Rename(fs.RootNode, "b", a.Node, "b2");
        Assert.Equal(b.Node, fs.Lookup(a.Node, "b2")!.Node);
        Assert.Equal(fs.Lookup(a.Node, "b2")!.Node, FsPaths.Resolve(fs, "/a/b2"));
        long freeBefore = fs.GetStatistics().BlocksFree;
        fs.Unlink(b.Node, "moved.bin");
        Assert.Null(fs.Lookup(b.Node, "moved.bin"));
        var buffer = new byte[10_000];
        Assert.Equal(10_000, fs.Read(f.Node, h, 0, buffer));
        Assert.Equal(data, buffer);
        Assert.Equal(freeBefore, fs.GetStatistics().BlocksFree);
        fs.Release(f.Node, h);
        Assert.True(fs.GetStatistics().BlocksFree > freeBefore);
        fs.Forget(f.Node);
        Assert.Equal(Errno.ESTALE, Assert.Throws<FsException>(() => fs.GetAttributes(f.Node)).Errno);
    }

    [Fact]
    public void RenameFollowsPosix()
    {
        using var fs = Mount(Formatted());
        var d1 = fs.MakeDirectory(fs.RootNode, "d1", 0x1ED, Credentials.Root);
        fs.MakeDirectory(fs.RootNode, "d2", 0x1ED, Credentials.Root);
        fs.MakeDirectory(d1.Node, "inner", 0x1ED, Credentials.Root);
        FsPaths.WriteFile(fs, "/f1", [1, 2, 3]);
        FsPaths.WriteFile(fs, "/f2", [4]);
        Assert.Equal(Errno.EINVAL, Assert.Throws<FsException>(() => fs.Rename(fs.RootNode, "d1", d1.Node, "x")).Errno);
        Assert.Equal(Errno.ENOTEMPTY, Assert.Throws<FsException>(() => fs.Rename(fs.RootNode, "d2", fs.RootNode, "d1")).Errno);
        Assert.Equal(Errno.EISDIR, Assert.Throws<FsException>(() => fs.Rename(fs.RootNode, "f1", fs.RootNode, "d2")).Errno);
        Assert.Equal(Errno.ENOTDIR, Assert.Throws<FsException>(() => fs.Rename(fs.RootNode, "d2", fs.RootNode, "f1")).Errno);
        Assert.Equal(Errno.EEXIST, Assert.Throws<FsException>(() => fs.Rename(fs.RootNode, "f1", fs.RootNode, "F2", RenameFlags.NoReplace)).Errno);
        fs.Rename(fs.RootNode, "f1", fs.RootNode, "f2");
        Assert.Equal([1, 2, 3], FsPaths.ReadFile(fs, FsPaths.Resolve(fs, "/f2")));
        fs.Rename(fs.RootNode, "d2", d1.Node, "inner"); // empty directory replaces empty directory
        fs.Rename(fs.RootNode, "f2", d1.Node, "inner", RenameFlags.Exchange);
        Assert.True(fs.Lookup(fs.RootNode, "f2")!.IsDirectory);
        Assert.False(fs.Lookup(d1.Node, "inner")!.IsDirectory);
        Assert.Equal(Errno.ENOTEMPTY, Assert.Throws<FsException>(() => fs.RemoveDirectory(fs.RootNode, "d1")).Errno);
        Assert.Equal(Errno.EISDIR, Assert.Throws<FsException>(() => fs.Unlink(fs.RootNode, "d1")).Errno);
        Assert.Equal(Errno.ENOTDIR, Assert.Throws<FsException>(() => fs.RemoveDirectory(d1.Node, "inner")).Errno);
    }

    [Fact]
    public void DirtyFlag_IsSetWhileMounted_AndClearedByDispose()
    {
        foreach (var variant in new[] { "fat16", "fat32" })
        {
            var dev = Formatted(variant == "fat32" ? 40L << 20 : 16L << 20, variant);
            var bpb = BiosParameterBlock.Parse(dev.Contents[..512]);
            var g = FatGeometry.TryCreate(bpb, dev.Length, out _)!;
            uint Fat1() => variant == "fat16"
                ? BitConverter.ToUInt16(dev.Contents.Slice((int)g.FatOffset(0) + 2, 2))
                : BitConverter.ToUInt32(dev.Contents.Slice((int)g.FatOffset(0) + 4, 4));
            uint clean = variant == "fat16" ? 0x8000u : 0x08000000u;
            Assert.Equal(0, dev.Contents[bpb.TailOffset + 1] & 1);
            Assert.NotEqual(0u, Fat1() & clean);
            var fs = Mount(dev);
            Assert.Equal(1, dev.Contents[bpb.TailOffset + 1] & 1);
            Assert.Equal(0u, Fat1() & clean);
            // Every FAT copy carries the same mark.
            Assert.True(dev.Contents.Slice((int)g.FatOffset(0), 512).SequenceEqual(dev.Contents.Slice((int)g.FatOffset(1), 512)));
            fs.Dispose();
            Assert.Equal(0, dev.Contents[bpb.TailOffset + 1] & 1);
            Assert.NotEqual(0u, Fat1() & clean);
        }
    }

    [Fact]
    public void Times_AreTwoSecondSteps()
    {
        using var fs = Mount(Formatted());
        var (f, h) = fs.Create(fs.RootNode, "t", 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
        fs.Release(f.Node, h);
        var when = Timestamp.FromDateTime(new DateTime(2021, 7, 3, 10, 20, 31, 700, DateTimeKind.Utc));
        var a = fs.SetAttributes(f.Node, new SetAttributes { Mtime = TimeChange.At(when), Atime = TimeChange.At(when) });
        Assert.Equal(Timestamp.FromDateTime(new DateTime(2021, 7, 3, 10, 20, 30, DateTimeKind.Utc)), a.Mtime);
        Assert.Equal(Timestamp.FromDateTime(new DateTime(2021, 7, 3, 0, 0, 0, DateTimeKind.Utc)), a.Atime);
    }

    [Fact]
    public void FullDisk_IsEnospc_WithNothingPromised_AndFixedRootFillsUp()
    {
        using var fs = Mount(Formatted(1440 * 1024));
        long free = fs.GetStatistics().BlocksFree;
        var (f, h) = fs.Create(fs.RootNode, "fill", 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
        Assert.Equal(Errno.ENOSPC, Assert.Throws<FsException>(() => fs.Write(f.Node, h, 0, new byte[(free + 1) * 512])).Errno);
        Assert.Equal(0, fs.GetAttributes(f.Node).Size);
        Assert.Equal(free, fs.GetStatistics().BlocksFree);
        fs.Release(f.Node, h);
        // A floppy root holds 224 entries; 8.3 names take one each ("fill" took one).
        for (int i = 0; i < 223; i++) fs.MakeNode(fs.RootNode, $"F{i}", UnixFileMode.Regular | 0x1A4, 0, Credentials.Root);
        Assert.Equal(Errno.ENOSPC, Assert.Throws<FsException>(() => fs.MakeNode(fs.RootNode, "ONEMORE", UnixFileMode.Regular | 0x1A4, 0, Credentials.Root)).Errno);
    }

    [Fact]
    public void Directories_GrowPastOneCluster_AndReadBackInOrder()
    {
        var dev = Formatted(8L << 20, spc: 1);
        var names = Enumerable.Range(0, 300).Select(i => $"entry number {i} with a long name").ToList();
        using (var fs = Mount(dev))
        {
            var d = fs.MakeDirectory(fs.RootNode, "big", 0x1ED, Credentials.Root);
            foreach (var n in names) fs.MakeNode(d.Node, n, UnixFileMode.Regular | 0x1A4, 0, Credentials.Root);
            for (int i = 0; i < 300; i += 3) fs.Unlink(d.Node, names[i]);
            Assert.True(fs.GetAttributes(d.Node).Size > 512 * 50);
        }
        using (var fs = Mount(Again(dev)))
        {
            var listed = FsPaths.List(fs, FsPaths.Resolve(fs, "/big")).Select(e => e.Name).Where(n => n is not ("." or "..")).ToList();
            Assert.Equal(names.Where((_, i) => i % 3 != 0).Order(), listed.Order());
            // Resuming from any cookie continues after that entry.
            var all = FsPaths.List(fs, FsPaths.Resolve(fs, "/big"));
            var rest = new List<string>();
            ulong dir = FsPaths.Resolve(fs, "/big");
            fs.ReadDirectory(dir, 0, all[50].NextOffset, (in DirectoryEntry e) => { rest.Add(e.Name); return true; });
            Assert.Equal(all.Skip(51).Select(e => e.Name), rest);
        }
    }

    [SkippableFact]
    public void HundredMebibyteFile_OnFat32_ReadsBackThroughMtools()
    {
        Skip.IfNot(ExternalTool.Exists("mcopy"), "mtools not installed");
        using var img = TempImage.MkfsFat(160L << 20, 32);
        var data = new byte[100 << 20];
        new Random(100).NextBytes(data.AsSpan(0, 1 << 20));
        for (int i = 1; i < 100; i++) data.AsSpan(0, 1 << 20).CopyTo(data.AsSpan(i << 20));
        for (int i = 0; i < 100; i++) data[(i << 20) + i] = (byte)i; // each MiB differs
        using (var fs = img.Mount()) FsPaths.WriteFile(fs, "/hundred.bin", data, 1 << 20);
        ExternalTool.AssertFsckClean(img.Path);
        string outFile = Path.Combine(img.Directory, "hundred.bin");
        var r = ExternalTool.Run("mcopy", "-n", "-i", img.Path, "::/hundred.bin", outFile);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.True(File.ReadAllBytes(outFile).AsSpan().SequenceEqual(data));
    }
}
