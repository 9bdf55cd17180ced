namespace MountFs.Fat;

/// <summary>Where everything lies, derived from a BPB (fatgen103 section 3.5), with the type decided by the
/// cluster count: &lt; 4085 FAT12, &lt; 65525 FAT16, else FAT32.</summary>
public sealed record FatGeometry
{
    public required BiosParameterBlock Bpb { get; init; }
    public required FatType Type { get; init; }
    public required int BytesPerSector { get; init; }
    public required int BytesPerCluster { get; init; }
    public required long TotalSectors { get; init; }
    public required long FatSectors { get; init; }
    public required long FirstFatSector { get; init; }
    public required long RootDirSector { get; init; }
    public required int RootDirSectors { get; init; }
    public required long FirstDataSector { get; init; }
    public required uint ClusterCount { get; init; }

    public const uint Fat12Limit = 4085;
    public const uint Fat16Limit = 65525;

    public static FatType TypeForClusterCount(long count) =>
        count < Fat12Limit ? FatType.Fat12 : count < Fat16Limit ? FatType.Fat16 : FatType.Fat32;

    public long ClusterOffset(uint cluster) => (FirstDataSector + (long)(cluster - 2) * Bpb.SectorsPerCluster) * BytesPerSector;
    public long FatOffset(int copy) => (FirstFatSector + copy * FatSectors) * BytesPerSector;
    public long RootDirOffset => RootDirSector * BytesPerSector;

    /// <summary>Null with a reason when the BPB cannot describe a usable FAT volume on a device of that length.</summary>
    public static FatGeometry? TryCreate(BiosParameterBlock b, long deviceLength, out string? problem)
    {
        problem = null;
        if (b.BytesPerSector is not (512 or 1024 or 2048 or 4096)) { problem = $"bytes per sector {b.BytesPerSector} is not 512..4096"; return null; }
        if (b.SectorsPerCluster == 0 || (b.SectorsPerCluster & (b.SectorsPerCluster - 1)) != 0) { problem = $"sectors per cluster {b.SectorsPerCluster} is not a power of two"; return null; }
        if (b.ReservedSectors == 0) { problem = "no reserved sectors"; return null; }
        if (b.NumberOfFats == 0) { problem = "no FATs"; return null; }
        long total = b.TotalSectors;
        if (total == 0) { problem = "total sectors is 0"; return null; }
        long fatSize = b.FatSize;
        if (fatSize == 0) { problem = "FAT size is 0"; return null; }
        int bps = b.BytesPerSector;
        if ((long)b.RootEntryCount * 32 % bps != 0) { problem = "root entry count is not a whole number of sectors"; return null; }
        int rootSectors = b.RootEntryCount * 32 / bps;
        long firstData = b.ReservedSectors + b.NumberOfFats * fatSize + rootSectors;
        if (firstData >= total) { problem = "metadata fills the whole volume"; return null; }
        long clusters = (total - firstData) / b.SectorsPerCluster;
        if (clusters < 1 || clusters > 0x0FFFFFF5) { problem = $"cluster count {clusters} is out of range"; return null; }
        var type = TypeForClusterCount(clusters);
        // Windows and Linux decide FAT32 by FATSz16 == 0; a volume whose BPB and cluster count disagree
        // cannot be mounted safely either way.
        if (b.IsFat32Layout != (type == FatType.Fat32))
        {
            if (b.IsFat32Layout && b.RootEntryCount == 0) type = FatType.Fat32;
            else { problem = $"{clusters} clusters mean {type} but the BPB is laid out for {(b.IsFat32Layout ? "FAT32" : "FAT12/16")}"; return null; }
        }
        if (type != FatType.Fat32 && rootSectors == 0) { problem = "FAT12/16 volume without a root directory"; return null; }
        if (fatSize * bps < FileAllocationTable.RequiredBytes(type, (uint)clusters)) { problem = $"FAT of {fatSize} sectors cannot hold {clusters + 2} entries"; return null; }
        if (total * bps > deviceLength) { problem = $"volume of {total * bps} bytes is longer than the device ({deviceLength})"; return null; }
        if (type == FatType.Fat32 && (b.RootCluster < 2 || b.RootCluster >= clusters + 2)) { problem = $"root cluster {b.RootCluster} is out of range"; return null; }
        if ((long)b.SectorsPerCluster * bps > 65536) { problem = "cluster larger than 64 KiB"; return null; }
        return new FatGeometry
        {
            Bpb = b, Type = type, BytesPerSector = bps, BytesPerCluster = b.SectorsPerCluster * bps, TotalSectors = total,
            FatSectors = fatSize, FirstFatSector = b.ReservedSectors,
            RootDirSector = b.ReservedSectors + b.NumberOfFats * fatSize, RootDirSectors = rootSectors,
            FirstDataSector = firstData, ClusterCount = (uint)clusters,
        };
    }
}
