using Xunit.Abstractions;
using MountFs.Blocks;
using MountFs.Ext.Checking;
using MountFs.Vfs;

namespace MountFs.Ext.Tests.Checking;

/// <summary>
/// Random byte flips in an image's metadata (superblock, descriptors, bitmaps, inode table, directory and indirect
/// blocks): the checker must always return a result, -n must never write, and whenever -y claims success
/// (exit 0 or 1) e2fsck -fn must agree and a second run must find nothing.
/// </summary>
public sealed class CheckerFuzzTests(ITestOutputHelper output)
{
    /// <summary>Rounds per block size; MOUNTFS_FUZZ_ROUNDS raises it for a longer hunt.</summary>
    private static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("MOUNTFS_FUZZ_ROUNDS"), out int n) ? n : 150;

    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Random_metadata_damage_never_crashes_and_claimed_repairs_satisfy_e2fsck(int blockSize)
    {
        Skip.IfNot(ExternalTool.E2fsprogsPresent, "e2fsprogs not installed");
        using var dir = new ScratchDir();
        string img = blockSize == 1024
            ? Ext2CheckerTests.MakePopulatedImage(dir.Path, 1024, 4 << 20, "-g", "2048")
            : Ext2CheckerTests.MakePopulatedImage(dir.Path, 4096, 16 << 20, "-g", "2048");
        byte[] pristine = ImageFileRetry.Do(() => File.ReadAllBytes(img));
        var image = new Ext2Image(img);
        var targets = new List<uint> { 1, 2 };
        for (int g = 0; g < image.Geo.GroupCount; g++)
        {
            var d = image.Group(g);
            targets.Add(d.BlockBitmap);
            targets.Add(d.InodeBitmap);
            targets.Add(d.InodeTable);
            targets.Add(d.InodeTable + 1);
            targets.Add(d.InodeTable + 2);
        }
        foreach (var path in new[] { "/", "dir1", "dir2", "dir1/sub" }) targets.Add(image.Inode(image.Lookup(path)).Block(0));
        targets.Add(image.Inode(image.Lookup("dir1/big.bin")).Block(Inode.SingleIndirect));

        var failures = new List<string>();
        var outcomes = new Dictionary<FsckExitCode, int>();
        string scratch = Path.Combine(dir.Path, "round.img");
        int firstSeed = int.TryParse(Environment.GetEnvironmentVariable("MOUNTFS_FUZZ_SEED"), out int seed) ? seed : 0;
        for (int round = firstSeed; round < firstSeed + Rounds; round++)
        {
            var rng = new Random(round);
            var bytes = (byte[])pristine.Clone();
            int flips = 1 + rng.Next(8);
            var desc = new List<string>();
            for (int i = 0; i < flips; i++)
            {
                uint block = targets[rng.Next(targets.Count)];
                // Bias toward the used start of each block, where the live records are.
                int offset = rng.Next(2) == 0 ? rng.Next(256) : rng.Next(image.BlockSize);
                long at = block * (long)image.BlockSize + offset;
                byte mask = (byte)(1 << rng.Next(8));
                bytes[at] ^= mask;
                desc.Add($"{block}+{offset}^{mask}");
            }
            string what = $"round {round} ({string.Join(", ", desc)})";

            var ro = new MemoryBlockDevice(bytes, readOnly: true);
            var check = new Ext2Checker().Check(ro, RepairMode.CheckOnly, true, TextWriter.Null);
            Assert.True(check.ExitCode is FsckExitCode.Clean or FsckExitCode.Uncorrected or FsckExitCode.OperationalError
                or (FsckExitCode.OperationalError | FsckExitCode.Uncorrected), what + ": " + check.ExitCode);

            var rw = new MemoryBlockDevice(bytes);
            var repair = new Ext2Checker().Check(rw, RepairMode.All, true, TextWriter.Null);
            outcomes[repair.ExitCode] = outcomes.GetValueOrDefault(repair.ExitCode) + 1;
            if (repair.ExitCode != FsckExitCode.Corrected && repair.ExitCode != FsckExitCode.Clean)
                output.WriteLine($"{what}: {repair.ExitCode}: {string.Join(" | ", repair.Problems.TakeLast(2))}");
            if ((repair.ExitCode & (FsckExitCode.Uncorrected | FsckExitCode.OperationalError)) != 0) continue;
            var repaired = new byte[rw.Length];
            rw.Read(0, repaired);
            ImageFileRetry.Do(() => File.WriteAllBytes(scratch, repaired));
            var theirs = ExternalTool.Fsck(scratch);
            if (theirs.Exit != 0)
            {
                // MOUNTFS_FUZZ_DUMP=folder keeps each failing round's damaged image for a closer look.
                string? dump = Environment.GetEnvironmentVariable("MOUNTFS_FUZZ_DUMP");
                if (dump != null) File.WriteAllBytes(Path.Combine(dump, $"fuzz-{blockSize}-{round}.img"), bytes);
                failures.Add($"{what}: e2fsck after our repair:\n{theirs.Output}\nours:\n{string.Join("\n", repair.Problems)}");
                continue;
            }
            var again = new Ext2Checker().Check(new MemoryBlockDevice(repaired), RepairMode.All, true, TextWriter.Null);
            if (again.ExitCode != FsckExitCode.Clean) failures.Add($"{what}: second run {again.ExitCode}: {string.Join("\n", again.Problems)}");
        }
        output.WriteLine(string.Join(", ", outcomes.Select(kv => $"{kv.Key}: {kv.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} rounds failed:\n" + string.Join("\n----\n", failures.Take(5)));
    }
}
