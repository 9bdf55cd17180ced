namespace MountFs.Fat;

/// <summary>
/// One directory's entries held in memory: its bytes, the clusters they come from (none for the fixed
/// FAT12/16 root region), and which sectors changed since the last flush.
/// </summary>
public sealed class DirectoryImage
{
    public const int MaxEntries = 65536;

    private byte[] _data;
    private bool[] _dirty;
    private readonly int _sectorSize;

    public DirectoryImage(byte[] data, List<uint> clusters, int sectorSize, bool fixedRegion)
    {
        _data = data;
        Clusters = clusters;
        _sectorSize = sectorSize;
        FixedRegion = fixedRegion;
        _dirty = new bool[data.Length / sectorSize];
        // Linux and fsck.fat do not stop at a 0x00 slot (they treat it as one more free slot), so neither do
        // we: the end is after the last slot in use.
        EndSlot = 0;
        for (int i = SlotCount - 1; i >= 0; i--)
            if (_data[i * 32] != 0) { EndSlot = i + 1; break; }
    }

    public static bool IsFreeSlot(byte first) => first == 0 || first == ShortDirectoryEntry.DeletedMarker;

    public List<uint> Clusters { get; }
    public bool FixedRegion { get; }
    public int SlotCount => _data.Length / 32;
    public bool IsDirty { get; private set; }
    /// <summary>One past the last slot in use: everything from here on is unused.</summary>
    public int EndSlot { get; private set; }
    /// <summary>Number of free (0xE5 or 0x00) slots before <see cref="EndSlot"/>, to skip the hole search when there are none.</summary>
    public int DeletedSlots { get; set; }

    public Span<byte> Slot(int i) => _data.AsSpan(i * 32, 32);
    public ReadOnlySpan<byte> Data => _data;

    public void MarkDirty(int slot)
    {
        _dirty[slot * 32 / _sectorSize] = true;
        IsDirty = true;
        if (slot >= EndSlot && _data[slot * 32] != 0) EndSlot = slot + 1;
    }

    /// <summary>Finds <paramref name="count"/> consecutive free slots; -1 when the directory must grow.</summary>
    public int FindFreeRun(int count)
    {
        if (DeletedSlots >= count)
        {
            int run = 0;
            for (int i = 0; i < EndSlot; i++)
            {
                if (IsFreeSlot(_data[i * 32])) { if (++run == count) return i - count + 1; }
                else run = 0;
            }
        }
        // Reuse deleted slots just before the end marker, then the free tail.
        int start = EndSlot;
        while (start > 0 && IsFreeSlot(_data[(start - 1) * 32]) && EndSlot - start < count) start--;
        return start + count <= SlotCount ? start : -1;
    }

    public void Append(byte[] zeroedClusterBytes, uint cluster)
    {
        int oldLength = _data.Length;
        Array.Resize(ref _data, oldLength + zeroedClusterBytes.Length);
        Array.Resize(ref _dirty, _data.Length / _sectorSize);
        for (int i = oldLength / _sectorSize; i < _dirty.Length; i++) _dirty[i] = true;
        Clusters.Add(cluster);
        IsDirty = true;
    }

    public List<int> TakeDirtySectors()
    {
        var list = new List<int>();
        for (int i = 0; i < _dirty.Length; i++) if (_dirty[i]) { list.Add(i); _dirty[i] = false; }
        IsDirty = false;
        return list;
    }
}
