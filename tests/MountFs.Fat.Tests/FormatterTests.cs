using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

public class FormatterTests
{
    public static TheoryData<long, string?, int?> Cases()
    {
        var d = new TheoryData<long, string?, int?>();
        foreach (long kib in new long[] { 360, 720, 1440, 2880, 4096, 8192, 16384, 32768, 102400, 307200 })
            d.Add(kib * 1024, null, null);
        d.Add(600L << 20, null, null);
        d.Add(8L << 20, "fat12", null);
        d.Add(20L << 20, "fat16", null);
        d.Add(64L << 20, "fat16", 8);
        d.Add(2L << 20, "fat12", 2);
        d.Add(40L << 20, "fat32", null);
        d.Add(100L << 20, "fat32", 1);
        d.Add(300L << 20, "fat32", 4);
        d.Add(200L << 20, "fat12", null);
        return d;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void SameParametersAsMkfsFat_AndFsckFatAccepts(long size, string? variant, int? spc)
    {
        Skip.IfNot(ExternalTool.Exists("mkfs.fat"), "mkfs.fat not installed");
        using var reference = new TempImage(size);
        var args = new List<string>();
        if (variant != null) { args.Add("-F"); args.Add(variant[3..]); }
        if (spc != null) { args.Add("-s"); args.Add(spc.ToString()!); }
        args.Add(reference.Path);
        var r = ExternalTool.Run("mkfs.fat", args.ToArray());
        Assert.True(r.ExitCode == 0, r.Output);
        var theirs = BiosParameterBlock.Parse(reference.ReadAll().AsSpan(0, 512));

        using var ours = new TempImage(size);
        using (var dev = ours.Open())
            new FatFormatter().Format(dev, new FormatOptions { Variant = variant, SectorsPerCluster = spc });
        var mine = BiosParameterBlock.Parse(ours.ReadAll().AsSpan(0, 512));

        Assert.Equal(theirs.BytesPerSector, mine.BytesPerSector);
        Assert.Equal(theirs.SectorsPerCluster, mine.SectorsPerCluster);
        Assert.Equal(theirs.ReservedSectors, mine.ReservedSectors);
        Assert.Equal(theirs.NumberOfFats, mine.NumberOfFats);
        Assert.Equal(theirs.RootEntryCount, mine.RootEntryCount);
        Assert.Equal(theirs.TotalSectors, mine.TotalSectors);
        Assert.Equal(theirs.Media, mine.Media);
        Assert.Equal(theirs.FatSize, mine.FatSize);
        Assert.Equal(theirs.FileSystemType, mine.FileSystemType);
        Assert.Equal(theirs.RootCluster, mine.RootCluster);
        Assert.Equal(theirs.FsInfoSector, mine.FsInfoSector);
        Assert.Equal(theirs.BackupBootSector, mine.BackupBootSector);
        ExternalTool.AssertFsckClean(ours.Path);
        // And our checker agrees that a fresh volume is clean.
        using (var dev = ours.Open(readOnly: true))
        {
            var result = new FatChecker().Check(dev, RepairMode.CheckOnly, true, TextWriter.Null);
            Assert.True(result.ExitCode == FsckExitCode.Clean, string.Join("\n", result.Problems));
        }
    }

    [Fact]
    public void Label_IsWrittenToBpbAndRoot_AndMtoolsSeesIt()
    {
        using var img = new TempImage(16L << 20);
        using (var dev = img.Open())
            new FatFormatter().Format(dev, new FormatOptions { Label = "Backup01" });
        ExternalTool.AssertFsckClean(img.Path);
        var bpb = BiosParameterBlock.Parse(img.ReadAll().AsSpan(0, 512));
        Assert.Equal("BACKUP01   "u8.ToArray(), bpb.VolumeLabel);
        if (ExternalTool.Exists("mlabel"))
        {
            var r = ExternalTool.Run("mlabel", "-i", img.Path, "-s", "::");
            Assert.Contains("BACKUP01", r.Output);
        }
    }

    [Theory]
    [InlineData(2L << 20, "fat32", null, "FAT32 needs at least 65525 clusters")]
    [InlineData(8L << 30, "fat16", 2, "FAT16")]
    [InlineData(64L << 20, "fat12", 4, "FAT12 holds at most 4084 clusters")]
    [InlineData(16L << 10, null, null, "too small")]
    public void ImpossibleCombinations_FailWithAClearMessage(long size, string? variant, int? spc, string message)
    {
        var e = Assert.Throws<FsException>(() => FatFormatter.Plan(size, new FormatOptions { Variant = variant, SectorsPerCluster = spc }));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Layout_ProbesOurOutput_AndRefusesOthers()
    {
        var layout = new FatLayout();
        using var dev = new MemoryBlockDevice(4L << 20);
        Assert.False(layout.Probe(dev));
        new FatFormatter().Format(dev, new FormatOptions());
        Assert.True(layout.Probe(dev));
        Assert.Equal("fat", layout.Name);
        Assert.Contains("vfat", layout.Aliases);
        Assert.NotNull(layout.Formatter);
        Assert.NotNull(layout.Checker);
    }
}
