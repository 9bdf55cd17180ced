using System.Text.RegularExpressions;

namespace MountFs.Cli.Tests;

public sealed class InfoCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static string Field(CliResult result, string key)
    {
        var match = Regex.Match(result.Out, $"^{Regex.Escape(key)}:\\s+(.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{key}:' line in\n{result.Out}");
        return match.Groups[1].Value.Trim();
    }

    [Fact]
    public void Sparse_image_shows_size_and_small_allocation()
    {
        string image = _cli.PathOf("sparse.img");
        using (var file = File.Create(image))
        {
            file.SetLength(64L << 20);
            file.Position = 10L << 20;
            file.Write(new byte[8192].Select(_ => (byte)0xAB).ToArray());
        }
        var result = _cli.Ok("info", image);
        Assert.StartsWith("67108864 bytes", Field(result, "Size"));
        long allocated = long.Parse(Field(result, "Allocated").Split(' ')[0]);
        Assert.InRange(allocated, 8192, 4L << 20);
        Assert.Contains("sparse", Field(result, "Allocated"));
        Assert.Equal("none recognised", Field(result, "File system"));
    }

    [SkippableFact]
    public void Recognises_an_image_made_by_mke2fs()
    {
        ExternalTool.SkipUnless("mke2fs");
        string image = _cli.PathOf("ext2.img");
        var (code, output) = ExternalTool.Run("mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", "-N", "2048", image, "32M");
        Assert.True(code == 0, output);
        var result = _cli.Ok("info", image);
        Assert.Equal("ext2", Field(result, "File system"));
        Assert.Equal("4096", Field(result, "Block size"));
        Assert.StartsWith("2048 total", Field(result, "Inodes"));
    }

    [SkippableFact]
    public void Recognises_an_image_made_by_mkfs_fat()
    {
        ExternalTool.SkipUnless("mkfs.fat");
        string image = _cli.PathOf("fat.img");
        var (code, output) = ExternalTool.Run("mkfs.fat", "-C", "-F", "16", image, "32768");
        Assert.True(code == 0, output);
        var result = _cli.Ok("info", image);
        Assert.Equal("fat", Field(result, "File system"));
        Assert.Contains("case-insensitive", Field(result, "Features"));
        Assert.Equal("not counted by this layout", Field(result, "Inodes"));
    }

    [SkippableFact]
    public void Partitioned_gpt_disk_lists_partitions_and_their_file_systems()
    {
        ExternalTool.SkipUnless("sfdisk", "mke2fs", "mkfs.fat");
        string image = _cli.PathOf("gpt.img");
        using (var f = File.Create(image)) f.SetLength(200L << 20);
        var (code, output) = ExternalTool.RunWithInput("sfdisk", "label: gpt\n,64M,L,\n,64M,U\n,,L\n", "-q", image);
        Assert.True(code == 0, output);
        (code, output) = ExternalTool.Run("mke2fs", "-q", "-F", "-t", "ext2", "-E", $"offset={2048 * 512}", image, "64M");
        Assert.True(code == 0, output);
        (code, output) = ExternalTool.Run("mkfs.fat", "--offset", "133120", image, "65536");
        Assert.True(code == 0, output);

        var result = _cli.Ok("info", image);
        Assert.StartsWith("gpt, ", Field(result, "Partition table"));
        Assert.Contains("3 partition(s)", Field(result, "Partition table"));
        var rows = result.Out.Split('\n').Where(l => Regex.IsMatch(l, @"^\|\s*\d+\s*\|")).Select(l => l.TrimEnd().TrimEnd('|')[1..]).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Matches(@"^\s*1\s*\|\s*2048\s*\|\s*131072\s*\|\s*64\.0 MiB\s*\|\s*Linux filesystem.*\|\s*ext2\s*$", rows[0].TrimEnd());
        Assert.Matches(@"^\s*2\s*\|\s*133120\s*\|.*EFI System.*\|\s*fat\s*$", rows[1].TrimEnd());
        Assert.Matches(@"^\s*3\s*\|.*\|\s*-\s*$", rows[2].TrimEnd());
    }

    [SkippableFact]
    public void Partitioned_mbr_disk_shows_types_and_the_bootable_flag()
    {
        ExternalTool.SkipUnless("sfdisk");
        string image = _cli.PathOf("mbr.img");
        using (var f = File.Create(image)) f.SetLength(100L << 20);
        var (code, output) = ExternalTool.RunWithInput("sfdisk", "label: dos\n,32M,83,*\n,,c\n", "-q", image);
        Assert.True(code == 0, output);
        var result = _cli.Ok("info", image);
        Assert.Matches(@"^mbr, disk id 0x[0-9a-f]{8}, 2 partition\(s\)$", Field(result, "Partition table"));
        Assert.Contains("83 Linux, bootable", result.Out);
        Assert.Contains("0c FAT32 (LBA)", result.Out);
    }

    [SkippableFact]
    public void Whole_disk_file_system_has_no_partition_table()
    {
        ExternalTool.SkipUnless("mkfs.fat");
        string image = _cli.PathOf("superfloppy.img");
        ExternalTool.Run("mkfs.fat", "-C", image, "16384");
        var result = _cli.Ok("info", image);
        Assert.Equal("none", Field(result, "Partition table"));
        Assert.Equal("fat", Field(result, "File system"));
    }

    [SkippableFact]
    public void Loop_block_device_is_read_like_an_image()
    {
        ExternalTool.SkipUnless("losetup");
        string image = _cli.PathOf("loop.img");
        _cli.Ok("mkfs", "-t", "fat", image, "32M");
        var (code, output) = ExternalTool.Run("losetup", "-f", "--show", image);
        Skip.If(code != 0, $"no loop device available: {output.Trim()}");
        string loop = output.Trim();
        try
        {
            var result = _cli.Ok("info", loop);
            Assert.Equal("block device", Field(result, "Kind"));
            Assert.StartsWith("33554432 bytes", Field(result, "Size"));
            Assert.Equal("fat", Field(result, "File system"));
        }
        finally
        {
            ExternalTool.Run("losetup", "-d", loop);
        }
    }

    [Fact]
    public void Missing_image_is_one_clear_line_and_exit_1()
    {
        string image = _cli.PathOf("nothing-here.img");
        var result = _cli.Run("info", image);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal([$"mountfs: {image}: No such file or directory"], result.ErrorLines);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public void Directory_is_not_an_image()
    {
        var result = _cli.Run("info", _cli.Directory);
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("is a directory", result.Error);
    }
}
