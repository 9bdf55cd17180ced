using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>Power cuts replayed from a recorded write log: what a sync promised is there, and whatever a cut
/// leaves between syncs our fsck turns into a volume fsck.fat accepts.</summary>
public class CrashTests
{
    [SkippableTheory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void PowerCuts_AfterSync_AreConsistent_AndAnyCutIsRepairable(int seed)
    {
        Skip.IfNot(ExternalTool.Exists("fsck.fat"), "dosfstools not installed");
        var media = new MemoryBlockDevice(8L << 20);
        new FatFormatter { VolumeId = 7 }.Format(media, new FormatOptions { Variant = "fat16", SectorsPerCluster = 1 });
        var recorder = new CrashRecordingDevice(media, leaveOpen: true);
        var syncPoints = new List<int>();
        var fs = new FatFileSystem(recorder, new MountOptions(), TextWriter.Null);
        var rng = new Random(seed);
        var tree = new RandomTree(seed, 20_000);
        for (int round = 0; round < 6; round++)
        {
            tree.Build(fs, 8);
            fs.SyncFileSystem();
            syncPoints.Add(recorder.OperationCount);
        }
        fs.Dispose();
        int total = recorder.OperationCount;

        foreach (int point in syncPoints)
        {
            // Right after a sync everything is in place: only the "mounted" marks differ from a clean volume.
            using var dev = recorder.MaterializeCrash(point, []);
            var result = new FatChecker().Check(dev, RepairMode.CheckOnly, true, TextWriter.Null);
            var real = result.Problems.Where(p => !p.Contains("dirty bit") && !p.Contains("clean-shutdown")).ToList();
            Assert.True(real.Count == 0, $"after the sync at operation {point}: " + string.Join("\n", real));
        }
        for (int k = 0; k < 30; k++)
        {
            int point = 1 + rng.Next(total);
            var unflushed = recorder.UnflushedWrites(point);
            var surviving = unflushed.Where(_ => rng.Next(2) == 0).ToList();
            using var dev = recorder.MaterializeCrash(point, surviving);
            var ourLog = new StringWriter();
            var repair = new FatChecker().Check(dev, RepairMode.All, true, ourLog);
            using var img = new TempImage(0);
            img.WriteAll(dev.ToArray());
            var after = ExternalTool.FsckCheck(img.Path);
            Assert.True(after.ExitCode == 0, $"cut after {point} of {total} operations, {surviving.Count}/{unflushed.Count} unflushed writes kept:\n{after.Output}\nour fsck ({repair.ExitCode}):\n{ourLog}");
        }
    }
}
