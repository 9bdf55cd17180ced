using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

public class FormatterTests
{
    [SkippableTheory]
    [InlineData(1024, 8L << 20)]
    [InlineData(2048, 64L << 20)]
    [InlineData(4096, 200L << 20)]
    [InlineData(1024, 300L << 20)]
    public void Mkfs_output_passes_e2fsck(int blockSize, long size)
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck"), "e2fsck not installed");
        using var dir = new ScratchDir();
        string img = Path.Combine(dir.Path, "fs.img");
        using (var dev = FileBlockDevice.Create(img, size))
            new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = blockSize, Label = "ours" });
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        string dump = ExternalTool.Run("dumpe2fs", "-h", img).Out;
        Assert.Contains("Filesystem volume name:   ours", dump);
        Assert.Contains($"Block size:               {blockSize}", dump);
    }

    [Fact]
    public void Mkfs_leaves_the_inode_tables_of_a_fresh_image_file_as_holes()
    {
        using var dir = new ScratchDir();
        string img = Path.Combine(dir.Path, "fs.img");
        using var dev = FileBlockDevice.Create(img, 1L << 30);
        new Ext2Formatter().Format(dev, new FormatOptions());
        var (sb, geo) = Ext2Formatter.Plan(dev.Length, new FormatOptions());
        long tables = (long)geo.GroupCount * geo.InodeTableBlocks * geo.BlockSize;
        Assert.Equal(16L << 20, tables);
        // Bitmaps, superblock and descriptor copies, the first inode-table block and the two directories.
        Assert.InRange(dev.AllocatedBytes, 1, 1L << 20);
        Assert.Equal(65536u, sb.InodesCount);
    }

    [SkippableFact]
    public void Mkfs_over_an_image_full_of_old_bytes_zeroes_the_inode_tables()
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck"), "e2fsck not installed");
        using var dir = new ScratchDir();
        string img = Path.Combine(dir.Path, "fs.img");
        var junk = new byte[1 << 20];
        new Random(5).NextBytes(junk);
        using (var f = File.Create(img))
            for (int i = 0; i < 64; i++) f.Write(junk);
        using (var dev = FileBlockDevice.Open(img))
            new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = 1024 });
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        Assert.Contains("11/", output);
    }

    [Fact]
    public void Mkfs_refuses_a_tiny_device_naming_the_minimum()
    {
        using var dev = new MemoryBlockDevice(16 * 1024);
        var e = Assert.Throws<FsException>(() => new Ext2Formatter().Format(dev, new FormatOptions()));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("minimum is", e.Message);
    }

    [Fact]
    public void Mkfs_honours_inode_count_and_reserved_percent_and_reports_progress()
    {
        using var dev = new MemoryBlockDevice(32L << 20);
        var reports = new List<double>();
        new Ext2Formatter().Format(dev, new FormatOptions { InodeCount = 1000, ReservedPercent = 10, Progress = new SyncProgress(reports.Add) });
        var sb = SuperBlock.Read(dev.Contents.Slice(1024, 1024));
        Assert.InRange(sb.InodesCount, 1000u, 1100u);
        Assert.Equal(sb.BlocksCount / 10, sb.ReservedBlocksCount);
        Assert.Equal(1.0, reports[^1]);
        Assert.True(reports.Count > 1);
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    [Fact]
    public void SetBits_sets_exactly_the_range_and_keeps_the_other_bits()
    {
        var rng = new Random(5);
        for (int from = 0; from <= 48; from++)
        {
            for (int to = from; to <= 48; to++)
            {
                var before = new byte[6];
                rng.NextBytes(before);
                var actual = (byte[])before.Clone();
                Ext2Formatter.SetBits(actual, from, to);
                for (int bit = 0; bit < 48; bit++)
                {
                    bool was = (before[bit >> 3] & (1 << (bit & 7))) != 0;
                    bool now = (actual[bit >> 3] & (1 << (bit & 7))) != 0;
                    Assert.True(now == (was || (bit >= from && bit < to)), $"[{from}, {to}) bit {bit}");
                }
            }
        }
    }
}
