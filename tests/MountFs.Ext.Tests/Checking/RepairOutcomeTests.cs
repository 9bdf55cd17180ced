using System.Text;
using MountFs.Blocks;
using MountFs.Ext.Checking;
using MountFs.Vfs;

namespace MountFs.Ext.Tests.Checking;

/// <summary>What repairs keep (file contents through debugfs), what preen refuses, and operational failures.</summary>
public sealed class RepairOutcomeTests
{
    private static FsckResult Run(string image, RepairMode mode, bool force = true)
    {
        using var device = ImageFileRetry.Open(image, readOnly: mode == RepairMode.CheckOnly);
        return new Ext2Checker().Check(device, mode, force, TextWriter.Null);
    }

    private static byte[] Cat(string image, string path) => ExternalTool.RunBytes("debugfs", "-R", $"cat \"{path}\"", image);

    [SkippableFact]
    public void An_unattached_file_lands_in_lost_and_found_with_its_contents()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = Ext2CheckerTests.MakePopulatedImage(dir.Path, 1024, 20 << 20);
        byte[] original = Cat(img, "/dir1/big.bin");
        Assert.Equal(300_000, original.Length);
        var image = new Ext2Image(img);
        uint ino = image.Lookup("dir1/big.bin");
        image.SetEntryInode(image.Entry(image.Lookup("dir1"), "big.bin").Offset, 0);
        image.Save();

        var result = Run(img, RepairMode.All);
        Assert.Equal(FsckExitCode.Corrected, result.ExitCode);
        Assert.Contains(result.Problems, p => p.Contains($"Unattached inode {ino}"));
        Assert.Equal(original, Cat(img, $"/lost+found/#{ino}"));
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
    }

    [SkippableFact]
    public void A_shared_block_is_cloned_so_both_files_keep_their_bytes()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = Ext2CheckerTests.MakePopulatedImage(dir.Path, 1024, 20 << 20);
        byte[] small = Cat(img, "/small.txt");
        var image = new Ext2Image(img);
        uint mediumIno = image.Lookup("dir2/medium.bin");
        var medium = image.Inode(mediumIno);
        medium.SetBlock(2, image.Inode(image.Lookup("small.txt")).Block(0));
        image.SetInode(mediumIno, medium);
        image.Save();
        byte[] mediumBefore = Cat(img, "/dir2/medium.bin");

        Assert.Equal(FsckExitCode.Corrected, Run(img, RepairMode.All).ExitCode);
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
        Assert.Equal(small, Cat(img, "/small.txt"));
        Assert.Equal(mediumBefore, Cat(img, "/dir2/medium.bin"));
        var after = new Ext2Image(img);
        Assert.NotEqual(after.Inode(after.Lookup("small.txt")).Block(0), after.Inode(mediumIno).Block(2));
    }

    [SkippableFact]
    public void Preen_fixes_summary_counts_but_stops_at_a_shared_block_without_touching_it()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = Ext2CheckerTests.MakePopulatedImage(dir.Path, 1024, 20 << 20);
        Damage.All["group-counts"](img);
        Assert.Equal(FsckExitCode.Corrected, Run(img, RepairMode.Preen).ExitCode);
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);

        Damage.All["block-claimed-twice"](img);
        byte[] before = ImageFileRetry.Do(() => File.ReadAllBytes(img));
        var preen = Run(img, RepairMode.Preen);
        Assert.Equal(FsckExitCode.Uncorrected, preen.ExitCode);
        Assert.Contains(preen.Problems, p => p.Contains("manual"));
        byte[] after = ImageFileRetry.Do(() => File.ReadAllBytes(img));
        // Only the primary superblock changed: its error flag asks for the manual check.
        Assert.Equal(before.AsSpan(0, 1024).ToArray(), after.AsSpan(0, 1024).ToArray());
        Assert.Equal(before.AsSpan(2048).ToArray(), after.AsSpan(2048).ToArray());
        Assert.Equal(SuperBlock.StateErrors, SuperBlock.Read(after.AsSpan(1024)).State & SuperBlock.StateErrors);
        Assert.NotEqual(0, ExternalTool.Fsck(img).Exit);
        Assert.Equal(FsckExitCode.Corrected, Run(img, RepairMode.All).ExitCode);
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
    }

    [SkippableFact]
    public void A_truncated_image_is_shrunk_to_the_device()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = Ext2CheckerTests.MakePopulatedImage(dir.Path, 1024, 20 << 20);
        byte[] big = Cat(img, "/dir1/big.bin");
        Damage.All["truncated-image"](img);
        Assert.Equal(FsckExitCode.Corrected, Run(img, RepairMode.All).ExitCode);
        var image = new Ext2Image(img);
        Assert.Equal((uint)(new FileInfo(img).Length / 1024), image.Sb.BlocksCount);
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
        Assert.Equal(big, Cat(img, "/dir1/big.bin"));
    }

    [SkippableFact]
    public void A_not_cleanly_unmounted_volume_is_checked_without_force()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = Ext2CheckerTests.MakePopulatedImage(dir.Path, 4096, 16 << 20);
        var image = new Ext2Image(img);
        image.Sb.State = 0;
        image.Sb.FreeInodesCount -= 1;
        image.SaveSuperBlock();
        image.Save();
        var log = new StringWriter();
        using (var device = ImageFileRetry.Open(img, readOnly: false))
        {
            var result = new Ext2Checker().Check(device, RepairMode.Preen, force: false, log);
            Assert.Equal(FsckExitCode.Corrected, result.ExitCode);
        }
        Assert.Contains("was not cleanly unmounted", log.ToString());
        Assert.Equal(SuperBlock.StateValid, new Ext2Image(img).Sb.State);
        Assert.Equal(FsckExitCode.Clean, Run(img, RepairMode.Preen, force: false).ExitCode);
    }

    [Fact]
    public void Something_that_is_not_ext2_is_an_operational_error()
    {
        var zeros = new MemoryBlockDevice(4 << 20, readOnly: true);
        var log = new StringWriter();
        var result = new Ext2Checker().Check(zeros, RepairMode.CheckOnly, true, log);
        Assert.Equal(FsckExitCode.OperationalError, result.ExitCode);
        Assert.Contains("no valid ext2 superblock", log.ToString());
        var tiny = new MemoryBlockDevice(512, readOnly: true);
        Assert.Equal(FsckExitCode.OperationalError, new Ext2Checker().Check(tiny, RepairMode.CheckOnly, true, TextWriter.Null).ExitCode);
    }

    [SkippableFact]
    public void A_kernel_written_tree_is_clean()
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        string? why = KernelMount.Unavailable();
        Skip.If(why != null, why);
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 32 << 20, "-b", "1024");
        using (var mount = KernelMount.Mount(img))
        {
            var rng = new Random(7);
            for (int d = 0; d < 5; d++)
            {
                string sub = Path.Combine(mount.Path, $"d{d}", "inner");
                Directory.CreateDirectory(sub);
                for (int f = 0; f < 40; f++)
                {
                    var bytes = new byte[rng.Next(0, 70_000)];
                    rng.NextBytes(bytes);
                    File.WriteAllBytes(Path.Combine(sub, $"f{f}"), bytes);
                }
                File.CreateSymbolicLink(Path.Combine(mount.Path, $"d{d}", "link"), new string('t', 80));
                File.Delete(Path.Combine(sub, "f3"));
            }
            File.WriteAllText(Path.Combine(mount.Path, "note"), "kernel");
        }
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
        var result = Run(img, RepairMode.CheckOnly);
        Assert.True(result.ExitCode == FsckExitCode.Clean, string.Join("\n", result.Problems));
        Assert.Equal("kernel", Encoding.ASCII.GetString(Cat(img, "/note")));
    }
}

/// <summary>Indexed (htree) directories, which e2fsck -D builds: valid ones pass, a broken root loses its index.</summary>
public sealed class IndexedDirectoryTests
{
    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void An_htree_built_by_e2fsck_is_clean_and_a_broken_root_is_unindexed(int blockSize)
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16 << 20, "-b", blockSize.ToString());
        string cmds = Path.Combine(dir.Path, "cmds");
        var lines = new List<string> { "mkdir big", "cd big" };
        for (int i = 0; i < 600; i++) lines.Add($"mknod entry-with-a-long-name-{i:D4} p");
        File.WriteAllLines(cmds, lines);
        Assert.Equal(0, ExternalTool.Run("debugfs", "-w", "-f", cmds, img).Exit);
        ExternalTool.Run("e2fsck", "-fyD", img);
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
        var image = new Ext2Image(img);
        uint big = image.Lookup("big");
        var inode = image.Inode(big);
        Assert.NotEqual(0u, inode.Flags & Inode.IndexFlag); // e2fsck -D indexed it

        var clean = Check(img, RepairMode.CheckOnly);
        Assert.True(clean.ExitCode == FsckExitCode.Clean, string.Join("\n", clean.Problems));

        image.Block(inode.Block(0))[28] = 20; // hash version
        image.Save();
        Assert.NotEqual(0, ExternalTool.Fsck(img).Exit);
        var repair = Check(img, RepairMode.All);
        Assert.Equal(FsckExitCode.Corrected, repair.ExitCode);
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
        Assert.Contains("entry-with-a-long-name-0599", ExternalTool.Run("debugfs", "-R", "ls /big", img).Out);
    }

    private static FsckResult Check(string image, RepairMode mode)
    {
        using var device = ImageFileRetry.Open(image, readOnly: mode == RepairMode.CheckOnly);
        return new Ext2Checker().Check(device, mode, true, TextWriter.Null);
    }
}
