using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>Our writes judged by e2fsprogs: e2fsck -fn must be silent and debugfs must read back every byte.</summary>
public class InteropTests
{
    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Tree_written_by_us_into_a_mke2fs_image_passes_e2fsck_and_reads_back_in_debugfs(int blockSize)
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs") && ExternalTool.Exists("debugfs"), "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 96L << 20, "-b", blockSize.ToString());
        TreeBuilder tree;
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            tree = new TreeBuilder(fs, seed: blockSize);
            tree.Build(operations: 300, bigDirEntries: 5000);
        }
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        foreach (var (path, expected) in tree.Files.Where((_, i) => i % 3 == 0 || _.Key.Contains("sparse")).Take(150))
        {
            var actual = ExternalTool.RunBytes("debugfs", "-R", $"cat \"{path}\"", img);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{path}: {expected.Length} bytes expected, debugfs gave {actual.Length}");
        }
        var listing = ExternalTool.Run("debugfs", "-R", "ls /big", img).Out;
        // A block whose first record was removed keeps it with inode 0 (as the kernel does); debugfs lists those as 0.
        int bigEntries = System.Text.RegularExpressions.Regex.Matches(listing, @"(\d+)\s+\(\d+\)\s+entry-").Count(m => m.Groups[1].Value != "0");
        Assert.Equal(tree.Files.Keys.Count(k => k.StartsWith("/big/")), bigEntries);
        Assert.True(tree.Files.Count > 1000 && tree.Symlinks.Count > 10, $"{tree.Files.Count} files, {tree.Symlinks.Count} symlinks");
        foreach (var (path, target) in tree.Symlinks.Take(20))
        {
            var stat = ExternalTool.Run("debugfs", "-R", $"stat \"{path}\"", img).Out;
            Assert.Contains(target.Length < 60 ? $"Fast link dest: \"{target}\"" : "Type: symlink", stat);
        }
    }

    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Sparse_file_past_4_GiB_passes_e2fsck_and_reads_back_in_debugfs(int blockSize)
    {
        Skip.IfNot(ExternalTool.Exists("debugfs"), "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 32L << 20, "-b", blockSize.ToString());
        long at = 5L << 30;
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions(), TextWriter.Null))
        {
            var (a, h) = fs.Create(fs.RootNode, "huge", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, h, 100, "head"u8);
            fs.Write(a.Node, h, at, "tail-of-a-large-file"u8);
            Assert.Equal(at + 20, fs.GetAttributes(a.Node).Size);
            var buf = new byte[20];
            Assert.Equal(20, fs.Read(a.Node, h, at, buf));
            Assert.Equal("tail-of-a-large-file"u8.ToArray(), buf);
            fs.SetAttributes(a.Node, new SetAttributes { Size = at + 4 });
            fs.Release(a.Node, h);
        }
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        Assert.Contains($"Size: {at + 4}", ExternalTool.Run("debugfs", "-R", "stat /huge", img).Out);
        // debugfs bmap gives the physical block of a file block: check both ends of the file on the raw image.
        var image = ImageFile.ReadAll(img);
        foreach (var (offset, expected) in new[] { (at, "tail"u8.ToArray()), (100L, "head"u8.ToArray()) })
        {
            string bmap = ExternalTool.Run("debugfs", "-R", $"bmap /huge {offset / blockSize}", img).Out.Trim();
            long physical = long.Parse(bmap);
            Assert.True(physical > 0, bmap);
            Assert.Equal(expected, image.AsSpan((int)(physical * blockSize + offset % blockSize), 4).ToArray());
        }
        Assert.Equal("0", ExternalTool.Run("debugfs", "-R", $"bmap /huge {(at / 2) / blockSize}", img).Out.Trim()); // a hole
    }
}
