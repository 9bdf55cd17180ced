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
}
