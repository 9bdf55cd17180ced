using MountFs.Blocks;
using MountFs.ModelKit;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>Random operation sequences against FAT and the in-memory reference, fsck.fat judging the end.</summary>
public class ModelTests
{
    private static ModelChecker Checker(string variant, long size, int maxFileBytes, Func<MemoryBlockDevice?> current, Action<MemoryBlockDevice> set)
    {
        var layout = new FatLayout { Log = TextWriter.Null };
        return new ModelChecker(
            openSubject: () =>
            {
                var device = new MemoryBlockDevice(size);
                new FatFormatter { VolumeId = 1 }.Format(device, new FormatOptions { Variant = variant });
                set(device);
                return layout.Mount(new KeepOpenDevice(device), new MountOptions { CacheBytes = 4 << 20 });
            },
            new ModelOptions
            {
                Remount = fs => { fs.Dispose(); return layout.Mount(new KeepOpenDevice(current()!), new MountOptions { CacheBytes = 4 << 20 }); },
                FinalCheck = () => FsckFat(current()!),
                MaxFileBytes = maxFileBytes,
                MaxWriteBytes = Math.Min(64 << 10, maxFileBytes / 2),
                ShrinkTimeLimit = TimeSpan.FromSeconds(20),
            });
    }

    private static void FsckFat(MemoryBlockDevice device)
    {
        if (!ExternalTool.Exists("fsck.fat")) return;
        using var img = new TempImage(0);
        img.WriteAll(device.ToArray());
        ExternalTool.AssertFsckClean(img.Path);
        using var dev = img.Open(readOnly: true);
        var ours = new FatChecker().Check(dev, RepairMode.CheckOnly, true, TextWriter.Null);
        Assert.True(ours.ExitCode == FsckExitCode.Clean, string.Join("\n", ours.Problems));
    }

    [Theory]
    [InlineData("fat16", 64L << 20, 1, 5000, 512 << 10)]
    [InlineData("fat32", 96L << 20, 2, 4000, 512 << 10)]
    [InlineData("fat12", 12L << 20, 3, 2000, 96 << 10)]
    [InlineData("fat16", 64L << 20, 11, 4000, 512 << 10)]
    [InlineData("fat32", 96L << 20, 12, 4000, 512 << 10)]
    [InlineData("fat12", 12L << 20, 13, 3000, 96 << 10)]

    public void AgreesWithTheReference(string variant, long size, int seed, int operations, int maxFileBytes)
    {
        MemoryBlockDevice? device = null;
        var report = Checker(variant, size, maxFileBytes, () => device, d => device = d).Run(seed, operations);
        Assert.True(report.Count(OperationKind.Rename, "ok") > 0, report.ToString());
    }
}
