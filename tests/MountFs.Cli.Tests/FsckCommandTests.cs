namespace MountFs.Cli.Tests;

/// <summary>fsck dispatch and exit codes; the checkers' own depth is tested with each layout.</summary>
public sealed class FsckCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [SkippableFact]
    public void Clean_fat_image_from_mkfs_fat_exits_0()
    {
        ExternalTool.SkipUnless("mkfs.fat");
        string image = _cli.PathOf("clean.img");
        var (code, output) = ExternalTool.Run("mkfs.fat", "-C", "-F", "32", image, "65536");
        Assert.True(code == 0, output);
        var result = _cli.Run("fsck", "-n", image);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{image}: clean", result.Out);
        Assert.Equal(0, _cli.Run("fsck", "-f", "-t", "vfat", image).ExitCode);
    }

    [SkippableFact]
    public void Differing_fat_copies_are_reported_then_repaired()
    {
        ExternalTool.SkipUnless("mkfs.fat", "fsck.fat");
        string image = _cli.PathOf("damaged.img");
        var (code, output) = ExternalTool.Run("mkfs.fat", "-C", "-F", "16", image, "32768");
        Assert.True(code == 0, output);
        _cli.Ok("cp", WriteFile("x.txt", "some data"), image + ":/x.txt");

        // Scribble over the second FAT copy: the volume's FATs now disagree.
        using (var file = File.Open(image, FileMode.Open, FileAccess.ReadWrite))
        {
            var boot = new byte[512];
            file.ReadExactly(boot);
            int reserved = BitConverter.ToUInt16(boot, 14);
            int fatSectors = BitConverter.ToUInt16(boot, 22);
            file.Position = (long)(reserved + fatSectors) * 512 + 64;
            file.Write([0x55, 0x55, 0x55, 0x55]);
        }

        // -f: the volume was unmounted cleanly, so without it fsck (like e2fsck) would trust the clean flag.
        var check = _cli.Run("fsck", "-f", "-n", image);
        Assert.True((check.ExitCode & 4) != 0, check.ToString());
        var repair = _cli.Run("fsck", "-f", "-y", image);
        Assert.True(repair.ExitCode is 1 or 3, repair.ToString());
        Assert.Equal(0, _cli.Run("fsck", "-f", "-n", image).ExitCode);
        ExternalTool.AssertClean(image, "fat");
    }

    [SkippableFact]
    public void Type_option_overrides_detection()
    {
        ExternalTool.SkipUnless("mkfs.fat");
        string image = _cli.PathOf("fat.img");
        ExternalTool.Run("mkfs.fat", "-C", image, "8192");
        var result = _cli.Run("fsck", "-n", "-t", "nosuchfs", image);
        Assert.Equal(16, result.ExitCode);
    }

    [SkippableFact]
    public void Clean_ext2_image_from_mke2fs_exits_0()
    {
        ExternalTool.SkipUnless("mke2fs");
        string image = _cli.PathOf("ext2.img");
        var (code, output) = ExternalTool.Run("mke2fs", "-q", "-F", "-t", "ext2", image, "16M");
        Assert.True(code == 0, output);
        var result = _cli.Run("fsck", "-f", "-n", image);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{image}: clean", result.Out);
    }

    [SkippableFact]
    public void Wrong_ext2_group_summary_is_reported_then_repaired()
    {
        ExternalTool.SkipUnless("mke2fs", "e2fsck");
        string image = _cli.PathOf("ext2.img");
        var (code, output) = ExternalTool.Run("mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", image, "16M");
        Assert.True(code == 0, output);
        // Group 0's descriptor (block 2 with 1 KiB blocks): bg_free_inodes_count at offset 14 now lies.
        using (var file = File.Open(image, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 2048 + 14;
            file.Write([0x01, 0x00]);
        }
        Assert.NotEqual(0, ExternalTool.Run("e2fsck", "-fn", image).ExitCode);

        var check = _cli.Run("fsck", "-f", "-n", image);
        Assert.True((check.ExitCode & 4) != 0, check.ToString());
        var repair = _cli.Run("fsck", "-f", "-y", image);
        Assert.True((repair.ExitCode & 1) != 0 && (repair.ExitCode & 4) == 0, repair.ToString());
        ExternalTool.AssertClean(image, "ext2");
        Assert.Equal(0, _cli.Run("fsck", "-f", "-n", image).ExitCode);
    }

    private string WriteFile(string name, string text)
    {
        string path = _cli.PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }
}
