using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>Power cuts at many points of a workload with fsyncs: e2fsck repairs every state to clean, and every file
/// whose fsync returned before the cut is there, byte for byte.</summary>
public class CrashTests
{
    [SkippableFact]
    public void Crash_states_are_repairable_and_keep_fsynced_data()
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck") && ExternalTool.Exists("debugfs"), "e2fsprogs not installed");
        var baseDev = new MemoryBlockDevice(4L << 20);
        new Ext2Formatter().Format(baseDev, new FormatOptions { BlockSize = 1024 });
        var recorder = new CrashRecordingDevice(baseDev, leaveOpen: true);
        var durable = new List<(string Path, byte[] Data, int AfterOps)>();
        var rng = new Random(99);
        using (var fs = Ext2FileSystem.Mount(recorder, new MountOptions(), TextWriter.Null))
        {
            for (int i = 0; i < 8; i++)
            {
                var d = fs.MakeDirectory(fs.RootNode, $"d{i}", 0x1ED, Credentials.Root);
                for (int k = 0; k < 3; k++)
                {
                    var (s, sh) = fs.Create(d.Node, $"scratch{k}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                    fs.Write(s.Node, sh, 0, new byte[rng.Next(100, 20000)]);
                    fs.Release(s.Node, sh);
                }
                fs.Unlink(d.Node, "scratch1");
                fs.Rename(d.Node, "scratch2", fs.RootNode, $"moved{i}");
                var data = new byte[rng.Next(3000, 60000)];
                rng.NextBytes(data);
                var (a, h) = fs.Create(fs.RootNode, $"f{i}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                fs.Write(a.Node, h, 0, data);
                fs.Fsync(a.Node, h, dataOnly: false);
                durable.Add(($"/f{i}", data, recorder.OperationCount));
                fs.Release(a.Node, h);
            }
        }
        int total = recorder.OperationCount;
        var points = Enumerable.Range(0, 28).Select(k => (int)((long)total * k / 27)).Concat(durable.Select(x => x.AfterOps)).Distinct().Order().ToList();
        using var dir = new ScratchDir();
        int states = 0;
        foreach (int point in points)
        {
            var pending = recorder.UnflushedWrites(point);
            var subsets = new List<IEnumerable<int>> { Array.Empty<int>(), pending };
            if (pending.Count > 1) subsets.Add(pending.Where(_ => rng.Next(2) == 0).ToList());
            foreach (var subset in subsets)
            {
                using var state = recorder.MaterializeCrash(point, subset);
                string img = Path.Combine(dir.Path, $"crash-{point}-{states++}.img");
                File.WriteAllBytes(img, state.Contents.ToArray());
                var fix = ExternalTool.Run("e2fsck", "-fy", img);
                Assert.True(fix.Exit <= 1, $"crash after {point}/{total} ops: e2fsck -fy exit {fix.Exit}\n{fix.Out}{fix.Err}");
                var (exit, output) = ExternalTool.Fsck(img);
                Assert.True(exit == 0, $"crash after {point}/{total} ops: not clean after repair\n{output}");
                foreach (var (path, data, afterOps) in durable.Where(x => x.AfterOps <= point))
                {
                    var got = ExternalTool.RunBytes("debugfs", "-R", $"cat {path}", img);
                    Assert.True(data.AsSpan().SequenceEqual(got), $"crash after {point}/{total} ops: fsync'd {path} lost or damaged ({got.Length} of {data.Length} bytes)");
                }
                File.Delete(img);
            }
        }
        Assert.True(states >= 40, $"{states} crash states");
    }
}
