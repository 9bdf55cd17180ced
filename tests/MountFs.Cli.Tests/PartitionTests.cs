namespace MountFs.Cli.Tests;

/// <summary>IMAGE@N: commands on one partition of an sfdisk-made disk, never touching the rest of the disk.</summary>
public sealed class PartitionTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string MakeDisk(string label)
    {
        ExternalTool.SkipUnless("sfdisk", "e2fsck", "fsck.fat");
        string disk = _cli.PathOf($"{label}.img");
        using (var f = File.Create(disk)) f.SetLength(160L << 20);
        string script = label == "gpt" ? "label: gpt\n,64M,L\n,64M,U\n" : "label: dos\n,64M,83\n,64M,c\n";
        var (code, output) = ExternalTool.RunWithInput("sfdisk", script, "-q", disk);
        Assert.True(code == 0, output);
        return disk;
    }

    /// <summary>Copies partition bytes out so the judges (which take whole files) can check them.</summary>
    private string Extract(string disk, long offset, long length, string name)
    {
        string path = _cli.PathOf(name);
        using var source = File.OpenRead(disk);
        using var target = File.Create(path);
        source.Position = offset;
        var buffer = new byte[1 << 20];
        for (long left = length; left > 0;)
        {
            int read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0) break;
            target.Write(buffer, 0, read);
            left -= read;
        }
        return path;
    }

    [SkippableTheory]
    [InlineData("gpt")]
    [InlineData("dos")]
    public void Mkfs_cp_and_fsck_work_on_one_partition(string label)
    {
        string disk = MakeDisk(label);
        var (_, tableBefore) = ExternalTool.Run("sfdisk", "-d", disk);

        _cli.Ok("mkfs", "-t", "ext2", disk + "@1");
        _cli.Ok("mkfs", "-t", "fat", disk + "@2");
        File.WriteAllText(_cli.PathOf("note.txt"), "in a partition\n");
        _cli.Ok("cp", _cli.PathOf("note.txt"), disk + "@1:/note.txt");
        _cli.Ok("cp", _cli.PathOf("note.txt"), disk + "@2:/note.txt");
        Assert.Equal("in a partition\n", ExternalTool.Text(_cli.Ok("cat", disk + "@2:/note.txt").Binary));
        Assert.Equal(0, _cli.Run("fsck", "-n", disk + "@1").ExitCode);
        Assert.Equal(0, _cli.Run("fsck", "-n", disk + "@2").ExitCode);

        var info = _cli.Ok("info", disk).Out;
        Assert.Matches(@"(?m)^\|\s*1\s*\|.*\|\s*ext2\s*\|$", info);
        Assert.Matches(@"(?m)^\|\s*2\s*\|.*\|\s*fat\s*\|$", info);

        // The partition table is as sfdisk left it, and each file system is sound on its own.
        var (verify, verifyOutput) = ExternalTool.Run("sfdisk", "--verify", disk);
        Assert.True(verify == 0, verifyOutput);
        Assert.Equal(tableBefore, ExternalTool.Run("sfdisk", "-d", disk).Output);
        ExternalTool.AssertClean(Extract(disk, 2048 * 512, 64L << 20, "p1.img"), "ext2");
        ExternalTool.AssertClean(Extract(disk, (2048 + 131072) * 512L, 64L << 20, "p2.img"), "fat");
    }

    [SkippableFact]
    public void Copy_between_two_partitions_of_one_disk()
    {
        string disk = MakeDisk("gpt");
        _cli.Ok("mkfs", "-t", "ext2", disk + "@1");
        _cli.Ok("mkfs", "-t", "fat", disk + "@2");
        File.WriteAllText(_cli.PathOf("a.txt"), "across partitions\n");
        _cli.Ok("cp", _cli.PathOf("a.txt"), disk + "@1:/a.txt");
        _cli.Ok("cp", disk + "@1:/a.txt", disk + "@2:/b.txt");
        Assert.Equal("across partitions\n", ExternalTool.Text(_cli.Ok("cat", disk + "@2:/b.txt").Binary));
        ExternalTool.AssertClean(Extract(disk, 2048 * 512, 64L << 20, "p1.img"), "ext2");
        ExternalTool.AssertClean(Extract(disk, (2048 + 131072) * 512L, 64L << 20, "p2.img"), "fat");
    }

    [SkippableFact]
    public void Missing_partition_is_a_clear_error()
    {
        string disk = MakeDisk("dos");
        var result = _cli.Run("info", disk + "@7");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal([$"mountfs: {disk}@7: no such partition (the disk has 1, 2)"], result.ErrorLines);
    }

    [Fact]
    public void Disk_without_a_table_has_no_partitions()
    {
        string image = _cli.PathOf("plain.img");
        File.WriteAllBytes(image, new byte[1 << 20]);
        var result = _cli.Run("info", image + "@1");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal([$"mountfs: {image}: has no partition table"], result.ErrorLines);
    }
}
