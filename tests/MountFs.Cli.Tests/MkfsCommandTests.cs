using System.Text.RegularExpressions;

namespace MountFs.Cli.Tests;

public sealed class MkfsCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [SkippableFact]
    public void Ext2_image_is_created_sparse_and_passes_e2fsck()
    {
        ExternalTool.SkipUnless("e2fsck");
        string image = _cli.PathOf("new.img");
        _cli.Ok("mkfs", "-t", "ext2", image, "64M");
        Assert.Equal(64L << 20, new FileInfo(image).Length);
        ExternalTool.AssertClean(image, "ext2");
        var info = _cli.Ok("info", image);
        Assert.Contains("sparse", info.Out);
    }

    [SkippableFact]
    public void Ext2_options_reach_the_superblock()
    {
        ExternalTool.SkipUnless("e2fsck", "dumpe2fs");
        string image = _cli.PathOf("opts.img");
        _cli.Ok("mkfs", "-t", "ext2", "-b", "4096", "-N", "4096", "-L", "scratch", "-m", "1", image, "128M");
        ExternalTool.AssertClean(image, "ext2");
        var (code, header) = ExternalTool.Run("dumpe2fs", "-h", image);
        Assert.True(code == 0, header);
        Assert.Matches(@"Block size:\s+4096", header);
        Assert.Matches(@"Filesystem volume name:\s+scratch", header);
        long inodes = long.Parse(Regex.Match(header, @"Inode count:\s+(\d+)").Groups[1].Value);
        Assert.InRange(inodes, 4096, 4096 + 1024);
        long blocks = long.Parse(Regex.Match(header, @"Block count:\s+(\d+)").Groups[1].Value);
        long reserved = long.Parse(Regex.Match(header, @"Reserved block count:\s+(\d+)").Groups[1].Value);
        Assert.Equal(32768, blocks);
        Assert.InRange(reserved, blocks / 100 - 1, blocks / 100 + 1);
    }

    [SkippableFact]
    public void Bare_size_with_block_size_counts_blocks_as_mke2fs_does()
    {
        ExternalTool.SkipUnless("e2fsck");
        string image = _cli.PathOf("blocks.img");
        _cli.Ok("mkfs", "-t", "ext2", "-b", "2048", image, "16384");
        Assert.Equal(16384L * 2048, new FileInfo(image).Length);
        ExternalTool.AssertClean(image, "ext2");
    }

    [SkippableTheory]
    [InlineData("fat12", "8M")]
    [InlineData("fat16", "64M")]
    [InlineData("fat32", "300M")]
    [InlineData("fat", "32M")]
    public void Fat_images_pass_fsck_fat(string type, string size)
    {
        ExternalTool.SkipUnless("fsck.fat");
        string image = _cli.PathOf($"{type}.img");
        _cli.Ok("mkfs", "-t", type, "-L", "MOUNTFS", image, size);
        ExternalTool.AssertClean(image, "fat");
        var (_, verbose) = ExternalTool.Run("fsck.fat", "-nv", image);
        if (type != "fat") Assert.Contains($"{type[3..]} bit entries", verbose);
        Assert.Contains("fat", _cli.Ok("info", image).Out);
    }

    [SkippableFact]
    public void Sectors_per_cluster_is_honoured()
    {
        ExternalTool.SkipUnless("fsck.fat");
        string image = _cli.PathOf("c.img");
        _cli.Ok("mkfs", "-t", "fat16", "-c", "8", image, "64M");
        var (code, verbose) = ExternalTool.Run("fsck.fat", "-nv", image);
        Assert.True(code == 0, verbose);
        Assert.Matches(@"4096 bytes per cluster", verbose);
    }

    [SkippableFact]
    public void Existing_image_is_formatted_in_place_without_size()
    {
        ExternalTool.SkipUnless("e2fsck");
        string image = _cli.PathOf("existing.img");
        using (var f = File.Create(image)) f.SetLength(48L << 20);
        _cli.Ok("mkfs", "-t", "ext2", image);
        Assert.Equal(48L << 20, new FileInfo(image).Length);
        ExternalTool.AssertClean(image, "ext2");
    }

    [SkippableFact]
    public void Smaller_size_than_the_image_formats_only_that_much()
    {
        ExternalTool.SkipUnless("dumpe2fs");
        string image = _cli.PathOf("bigger.img");
        using (var f = File.Create(image)) f.SetLength(64L << 20);
        _cli.Ok("mkfs", "-t", "ext2", "-b", "1024", image, "32M");
        var (_, header) = ExternalTool.Run("dumpe2fs", "-h", image);
        Assert.Matches(@"Block count:\s+32768\b", header);
    }

    [Fact]
    public void Missing_image_without_size_is_refused()
    {
        string image = _cli.PathOf("absent.img");
        var result = _cli.Run("mkfs", "-t", "ext2", image);
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("give a SIZE", result.Error);
        Assert.False(File.Exists(image));
    }

    [Fact]
    public void Too_small_size_is_refused_and_leaves_no_file()
    {
        string image = _cli.PathOf("tiny.img");
        var result = _cli.Run("mkfs", "-t", "ext2", image, "16K");
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.StartsWith($"mountfs: {image}: ", result.ErrorLines[0]);
        Assert.False(File.Exists(image));
    }

    [Fact]
    public void Option_a_layout_has_no_use_for_is_refused()
    {
        string image = _cli.PathOf("fat-n.img");
        var result = _cli.Run("mkfs", "-t", "fat", "-N", "100", image, "16M");
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.False(File.Exists(image));
    }
}
