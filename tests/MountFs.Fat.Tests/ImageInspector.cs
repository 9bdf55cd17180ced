namespace MountFs.Fat.Tests;

/// <summary>Reads and patches the metadata of an image held in memory, for making corruption on purpose.</summary>
public sealed class ImageInspector
{
    public ImageInspector(byte[] image)
    {
        Bytes = image;
        Bpb = BiosParameterBlock.Parse(image.AsSpan(0, 512));
        Geometry = FatGeometry.TryCreate(Bpb, image.Length, out string? problem) ?? throw new InvalidOperationException(problem);
    }

    public byte[] Bytes { get; }
    public BiosParameterBlock Bpb { get; }
    public FatGeometry Geometry { get; }
    public int ClusterBytes => Geometry.BytesPerCluster;

    private FileAllocationTable Table(int copy)
    {
        int length = (int)(Geometry.FatSectors * Geometry.BytesPerSector);
        var raw = Bytes.AsSpan((int)Geometry.FatOffset(copy), length).ToArray();
        return new FileAllocationTable(Geometry.Type, Geometry.ClusterCount, raw, Geometry.BytesPerSector);
    }

    public uint GetFat(uint cluster) => Table(0).Get(cluster);

    public void SetFat(uint cluster, uint value, int? onlyCopy = null)
    {
        for (int copy = 0; copy < Bpb.NumberOfFats; copy++)
        {
            if (onlyCopy != null && onlyCopy != copy) continue;
            var t = Table(copy);
            t.SetRaw(cluster, value);
            t.Raw.CopyTo(Bytes.AsSpan((int)Geometry.FatOffset(copy)));
        }
    }

    public List<uint> Chain(uint first)
    {
        var t = Table(0);
        return ClusterChain.Walk(t, first, long.MaxValue, "test", "chain");
    }

    public uint FirstFreeClusterAfter(uint start)
    {
        var t = Table(0);
        for (uint c = start; c < Geometry.ClusterCount + 2; c++) if (t.Get(c) == 0) return c;
        throw new InvalidOperationException("no free cluster");
    }

    private long DirectoryOffset(uint firstCluster) =>
        firstCluster == 0 ? (Geometry.Type == FatType.Fat32 ? Geometry.ClusterOffset(Bpb.RootCluster) : Geometry.RootDirOffset)
                          : Geometry.ClusterOffset(firstCluster);

    /// <summary>Offset of the short entry named <paramref name="name11"/> (11 bytes, as stored) in the directory
    /// starting at <paramref name="dirCluster"/> (0 = root).</summary>
    public int FindEntry(string name11, uint dirCluster = 0)
    {
        var regions = new List<(long Start, int Length)>();
        if (dirCluster == 0 && Geometry.Type != FatType.Fat32)
            regions.Add((Geometry.RootDirOffset, Geometry.RootDirSectors * Geometry.BytesPerSector));
        else
            foreach (uint c in Chain(dirCluster == 0 ? Bpb.RootCluster : dirCluster))
                regions.Add((Geometry.ClusterOffset(c), ClusterBytes));
        foreach (var (start, length) in regions)
            for (int o = 0; o < length; o += 32)
            {
                var s = Bytes.AsSpan((int)(start + o), 32);
                if (s[0] == 0) break;
                if (!ShortDirectoryEntry.IsLongNameSlot(s) && System.Text.Encoding.ASCII.GetString(s[..11]) == name11) return (int)(start + o);
            }
        throw new InvalidOperationException($"entry '{name11}' not found");
    }

    public ShortDirectoryEntry Entry(int offset) => ShortDirectoryEntry.Parse(Bytes.AsSpan(offset, 32));

    public void SetEntry(int offset, ShortDirectoryEntry e) => e.WriteTo(Bytes.AsSpan(offset, 32));
}
