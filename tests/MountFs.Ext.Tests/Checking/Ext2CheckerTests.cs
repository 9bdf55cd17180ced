using System.Security.Cryptography;
using MountFs.Blocks;
using MountFs.Ext.Checking;
using MountFs.Vfs;

namespace MountFs.Ext.Tests.Checking;

/// <summary>
/// The ext2 fsck against e2fsprogs: images made by mke2fs and filled by debugfs, damaged by editing bytes; e2fsck -fn
/// must see each damage, our -n must report it without writing, our -y must repair it so that e2fsck -fn is clean
/// and a second run of ours finds nothing.
/// </summary>
public sealed class Ext2CheckerTests
{
    private static FsckResult RunChecker(string image, RepairMode mode, bool force = true)
    {
        using var device = ImageFileRetry.Open(image, readOnly: mode == RepairMode.CheckOnly);
        var log = new StringWriter();
        return new Ext2Checker().Check(device, mode, force, log);
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(ImageFileRetry.Do(() => File.ReadAllBytes(path))));

    /// <summary>A small tree: nested directories, a file big enough for indirect blocks, fast and slow symlinks, a
    /// hard link, a FIFO.</summary>
    internal static string MakePopulatedImage(string dir, int blockSize, long size, params string[] extraMkfs)
    {
        var args = new List<string> { "-b", blockSize.ToString() };
        args.AddRange(extraMkfs);
        string img = ExternalTool.MakeImage(dir, size, [.. args]);
        var rng = new Random(blockSize);
        string Host(string name, int length)
        {
            var bytes = new byte[length];
            rng.NextBytes(bytes);
            string p = Path.Combine(dir, name);
            File.WriteAllBytes(p, bytes);
            return p;
        }
        string cmds = Path.Combine(dir, "cmds");
        File.WriteAllLines(cmds,
        [
            "mkdir dir1", "mkdir dir1/sub", "mkdir dir2",
            $"write {Host("small", 1000)} small.txt",
            "cd dir1", $"write {Host("big", 300_000)} big.bin",
            "cd sub", $"write {Host("f", 100)} f",
            "cd /dir2", $"write {Host("medium", 20_000)} medium.bin",
            $"write {Host("other", 5000)} other.bin",
            "symlink fast /a/short/target",
            $"symlink slow /{new string('x', 100)}/target",
            "cd /", "ln small.txt dir2/hard", "sif small.txt links_count 2",
            "mknod pipe p",
        ]);
        var r = ExternalTool.Run("debugfs", "-w", "-f", cmds, img);
        if (r.Exit != 0) throw new InvalidOperationException("debugfs failed: " + r.Err);
        var fsck = ExternalTool.Fsck(img);
        if (fsck.Exit != 0) throw new InvalidOperationException("populated image is not clean: " + fsck.Output);
        return img;
    }

    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Clean_mke2fs_image_is_clean_forced_and_skipped_unforced(int blockSize)
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 24 << 20, "-b", blockSize.ToString());
        string before = Hash(img);
        var forced = RunChecker(img, RepairMode.CheckOnly);
        Assert.Equal(FsckExitCode.Clean, forced.ExitCode);
        Assert.Empty(forced.Problems);
        using (var device = ImageFileRetry.Open(img, readOnly: true))
        {
            var log = new StringWriter();
            var skipped = new Ext2Checker().Check(device, RepairMode.Preen, force: false, log);
            Assert.Equal(FsckExitCode.OperationalError, skipped.ExitCode); // -p needs a writable device
        }
        using (var device = ImageFileRetry.Open(img, readOnly: false))
        {
            var log = new StringWriter();
            var skipped = new Ext2Checker().Check(device, RepairMode.Preen, force: false, log);
            Assert.Equal(FsckExitCode.Clean, skipped.ExitCode);
            Assert.Contains("clean, 11/", log.ToString());
        }
        Assert.Equal(before, Hash(img));
    }

    [SkippableFact]
    public void Garbage_pointers_from_an_image_file_give_the_same_findings_as_from_memory()
    {
        // From an image file pass 1 announces every pointer it is about to follow to the page cache, before it
        // checks them; garbage ones must change nothing in what is found.
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = MakePopulatedImage(dir.Path, 1024, 24 << 20);
        var image = new Ext2Image(img);
        uint dir1 = image.Entry(2, "dir1").Inode;
        uint big = image.Entry(dir1, "big.bin").Inode;
        var bigInode = image.Inode(big);
        bigInode.SetBlock(Inode.SingleIndirect, 0xFFFF_FFF0);
        image.SetInode(big, bigInode);
        var dirInode = image.Inode(dir1);
        dirInode.SetBlock(1, image.Sb.BlocksCount + 5);
        image.SetInode(dir1, dirInode);
        image.Save();

        var fromFile = RunChecker(img, RepairMode.CheckOnly);
        var fromMemory = new Ext2Checker().Check(new MemoryBlockDevice(File.ReadAllBytes(img), readOnly: true),
            RepairMode.CheckOnly, true, TextWriter.Null);
        Assert.Equal(FsckExitCode.Uncorrected, fromFile.ExitCode);
        Assert.Equal(fromMemory.ExitCode, fromFile.ExitCode);
        Assert.Equal(fromMemory.Problems, fromFile.Problems);
        Assert.Contains(fromFile.Problems, p => p.Contains($"inode {big}", StringComparison.OrdinalIgnoreCase));
    }

    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Populated_image_is_clean_and_a_repair_run_changes_nothing_but_check_time(int blockSize)
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = MakePopulatedImage(dir.Path, blockSize, 24 << 20);
        var check = RunChecker(img, RepairMode.CheckOnly);
        Assert.True(check.ExitCode == FsckExitCode.Clean, string.Join("\n", check.Problems));
        var repair = RunChecker(img, RepairMode.All);
        Assert.True(repair.ExitCode == FsckExitCode.Clean, string.Join("\n", repair.Problems));
        Assert.Equal(0, ExternalTool.Fsck(img).Exit);
    }

    public static TheoryData<string, int> Damages()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in Damage.All.Keys)
            foreach (int bs in new[] { 1024, 4096 })
                data.Add(name, bs);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Damages))]
    public void Damage_is_reported_by_n_and_repaired_by_y(string damage, int blockSize)
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        // 4 KiB images use 4096 blocks per group so they have a backup group while staying small.
        string img = blockSize == 1024
            ? MakePopulatedImage(dir.Path, blockSize, 20 << 20)
            : MakePopulatedImage(dir.Path, blockSize, 32 << 20, "-g", "4096");
        Damage.All[damage](img);

        var theirs = ExternalTool.Fsck(img);
        // Some findings (superblock totals, a short device) e2fsck -n reports without failing its exit code.
        Assert.True(theirs.Exit != 0 || theirs.Output.Contains("? no"), $"e2fsck -fn did not notice '{damage}':\n{theirs.Output}");

        string damaged = Hash(img);
        var check = RunChecker(img, RepairMode.CheckOnly);
        Assert.True(check.ExitCode == FsckExitCode.Uncorrected, $"-n gave {check.ExitCode}: {string.Join("\n", check.Problems)}");
        Assert.NotEmpty(check.Problems);
        Assert.Equal(damaged, Hash(img));

        var repair = RunChecker(img, RepairMode.All);
        Assert.True(repair.ExitCode == FsckExitCode.Corrected, $"-y gave {repair.ExitCode}: {string.Join("\n", repair.Problems)}");

        var after = ExternalTool.Fsck(img);
        Assert.True(after.Exit == 0, $"e2fsck -fn after our repair of '{damage}':\n{after.Output}\nour repair:\n{string.Join("\n", repair.Problems)}");
        var again = RunChecker(img, RepairMode.All);
        Assert.True(again.ExitCode == FsckExitCode.Clean, $"second run: {string.Join("\n", again.Problems)}");
    }
}
