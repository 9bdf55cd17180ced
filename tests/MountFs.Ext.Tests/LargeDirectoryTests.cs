using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

public class LargeDirectoryTests
{
    [SkippableFact]
    public void Fifty_thousand_entries_lookups_and_creates_do_not_scan_the_directory()
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck"), "e2fsck not installed");
        var dev = new MemoryBlockDevice(64L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = 1024, InodeCount = 60_000 });
        using (var fs = Ext2FileSystem.Mount(dev, new MountOptions(), TextWriter.Null))
        {
            ulong dir = fs.MakeDirectory(fs.RootNode, "huge", 0x1ED, Credentials.Root).Node;
            for (int i = 0; i < 50_000; i++) fs.MakeNode(dir, $"file-{i:D6}", 0x81A4, 0, Credentials.Root);
            long before = fs.DirectoryRecordsParsed;
            var rng = new Random(3);
            for (int i = 0; i < 2000; i++) Assert.NotNull(fs.Lookup(dir, $"file-{rng.Next(50_000):D6}"));
            for (int i = 0; i < 2000; i++) Assert.Null(fs.Lookup(dir, $"absent-{i}"));
            Assert.Equal(before, fs.DirectoryRecordsParsed); // lookups: hash probes only
            for (int i = 0; i < 1000; i++) fs.Unlink(dir, $"file-{i * 50:D6}");
            for (int i = 0; i < 1000; i++) fs.MakeNode(dir, $"late-{i}", 0x81A4, 0, Credentials.Root);
            long perOp = (fs.DirectoryRecordsParsed - before) / 2000;
            // Each insert/remove parses the records of one block (~40 here), never the 50,000 of the directory.
            Assert.True(perOp < 500, $"{perOp} records parsed per create/unlink");
            int listed = 0;
            fs.ReadDirectory(dir, 0, 0, (in Vfs.DirectoryEntry e) => { listed++; return true; });
            Assert.Equal(50_000 + 2, listed);
        }
        using var scratch = new ScratchDir();
        string img = Path.Combine(scratch.Path, "huge.img");
        File.WriteAllBytes(img, dev.ToArray());
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
    }
}
