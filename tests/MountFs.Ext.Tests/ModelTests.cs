using MountFs.Blocks;
using MountFs.ModelKit;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>ext2 against the reference file system over long random operation sequences, with remounts, and
/// e2fsck as the judge of the final bytes.</summary>
public class ModelTests
{
    private static (ModelChecker Checker, Func<MemoryBlockDevice?> Device) Build(int blockSize)
    {
        MemoryBlockDevice? device = null;
        var layout = new Ext2Layout();
        var checker = new ModelChecker(
            openSubject: () =>
            {
                device = new MemoryBlockDevice(96L << 20);
                layout.Formatter!.Format(device, new FormatOptions { BlockSize = blockSize });
                return Ext2FileSystem.Mount(new KeepOpenDevice(device), new MountOptions(), TextWriter.Null);
            },
            new ModelOptions
            {
                Remount = fs => { fs.Dispose(); return Ext2FileSystem.Mount(new KeepOpenDevice(device!), new MountOptions(), TextWriter.Null); },
                FinalCheck = () => E2fsckClean(device!),
                MaxShrinkRuns = 60,
            });
        return (checker, () => device);
    }

    private static void E2fsckClean(MemoryBlockDevice device)
    {
        if (!ExternalTool.Exists("e2fsck")) return;
        using var dir = new ScratchDir();
        string img = Path.Combine(dir.Path, "model.img");
        File.WriteAllBytes(img, device.Contents.ToArray());
        var (exit, output) = ExternalTool.Fsck(img);
        if (exit != 0) throw new InvalidOperationException($"e2fsck -fn exit {exit}:\n{output}");
    }

    [Theory]
    [InlineData(1, 1024, 4000)]
    [InlineData(2, 4096, 4000)]
    [InlineData(3, 2048, 2500)]
    public void Ext2_agrees_with_the_reference_and_e2fsck_is_clean(int seed, int blockSize, int operations)
    {
        var (checker, _) = Build(blockSize);
        var report = checker.Run(seed, operations);
        Assert.True(report.Count(OperationKind.Rename, "ok") > 0, report.ToString());
    }
}
