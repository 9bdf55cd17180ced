using System.Buffers.Binary;

namespace MountFs.Fat;

/// <summary>
/// One FAT held in memory (the on-disk copies are identical images of it), with the packing of each width,
/// a free-cluster counter and a next-free hint so allocation never rescans the whole table, and the set of
/// sectors changed since the last flush.
/// </summary>
/// <remarks>Valid data clusters are 2..<see cref="ClusterCount"/>+1. Entries 0 and 1 are reserved (media byte
/// and the clean-shutdown bits).</remarks>
public sealed class FileAllocationTable
{
    private readonly byte[] _raw;
    private readonly bool[] _dirtySectors;
    private readonly int _sectorSize;
    private uint _nextFree;

    public FileAllocationTable(FatType type, uint clusterCount, byte[] raw, int sectorSize)
    {
        Type = type;
        ClusterCount = clusterCount;
        _raw = raw;
        _sectorSize = sectorSize;
        _dirtySectors = new bool[(raw.Length + sectorSize - 1) / sectorSize];
        if (raw.Length < RequiredBytes(type, clusterCount))
            throw new ArgumentException($"FAT of {raw.Length} bytes cannot hold {clusterCount + 2} entries");
        uint free = 0;
        for (uint c = 2; c < clusterCount + 2; c++) if (Get(c) == 0) free++;
        FreeCount = free;
        _nextFree = 2;
    }

    public FatType Type { get; }
    public uint ClusterCount { get; }
    public uint FreeCount { get; private set; }
    public uint NextFreeHint => _nextFree;
    public ReadOnlySpan<byte> Raw => _raw;

    public uint EndOfChain => Type switch { FatType.Fat12 => 0xFFF, FatType.Fat16 => 0xFFFF, _ => 0x0FFFFFFF };
    public uint BadCluster => Type switch { FatType.Fat12 => 0xFF7, FatType.Fat16 => 0xFFF7, _ => 0x0FFFFFF7 };

    public static long RequiredBytes(FatType type, uint clusterCount) => type switch
    {
        FatType.Fat12 => ((long)clusterCount + 2) * 3 / 2 + 1,
        FatType.Fat16 => ((long)clusterCount + 2) * 2,
        _ => ((long)clusterCount + 2) * 4,
    };

    public bool IsValidCluster(uint c) => c >= 2 && c < ClusterCount + 2;
    public bool IsEndOfChain(uint value) => value >= BadCluster + 1;
    public bool IsBad(uint value) => value == BadCluster;

    public uint Get(uint n)
    {
        switch (Type)
        {
            case FatType.Fat12:
                {
                    int o = (int)(n + n / 2);
                    ushort v = (ushort)(_raw[o] | _raw[o + 1] << 8);
                    return (n & 1) == 0 ? (uint)(v & 0xFFF) : (uint)(v >> 4);
                }
            case FatType.Fat16:
                return BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan((int)(n * 2)));
            default:
                return BinaryPrimitives.ReadUInt32LittleEndian(_raw.AsSpan(checked((int)(n * 4)))) & 0x0FFFFFFF;
        }
    }

    public void Set(uint n, uint value)
    {
        if (n >= 2 && n < ClusterCount + 2)
        {
            bool wasFree = Get(n) == 0;
            if (wasFree && value != 0) FreeCount--;
            else if (!wasFree && value == 0) { FreeCount++; if (n < _nextFree) _nextFree = n; }
        }
        SetRaw(n, value);
    }

    /// <summary>Writes an entry without touching the counters (entries 0 and 1, and fsck rebuilding).</summary>
    public void SetRaw(uint n, uint value)
    {
        switch (Type)
        {
            case FatType.Fat12:
                {
                    int o = (int)(n + n / 2);
                    if ((n & 1) == 0)
                    {
                        _raw[o] = (byte)value;
                        _raw[o + 1] = (byte)((_raw[o + 1] & 0xF0u) | ((value >> 8) & 0x0Fu));
                    }
                    else
                    {
                        _raw[o] = (byte)((_raw[o] & 0x0Fu) | ((value << 4) & 0xF0u));
                        _raw[o + 1] = (byte)(value >> 4);
                    }
                    MarkDirty(o, 2);
                    break;
                }
            case FatType.Fat16:
                BinaryPrimitives.WriteUInt16LittleEndian(_raw.AsSpan((int)(n * 2)), (ushort)value);
                MarkDirty((int)(n * 2), 2);
                break;
            default:
                {
                    // The top four bits are reserved: keep what is on disk.
                    var span = _raw.AsSpan((int)(n * 4));
                    uint old = BinaryPrimitives.ReadUInt32LittleEndian(span);
                    BinaryPrimitives.WriteUInt32LittleEndian(span, old & 0xF0000000 | value & 0x0FFFFFFF);
                    MarkDirty((int)(n * 4), 4);
                    break;
                }
        }
    }

    /// <summary>Recounts free clusters (after fsck rewrites entries with <see cref="SetRaw"/>).</summary>
    public void Recount()
    {
        uint free = 0;
        for (uint c = 2; c < ClusterCount + 2; c++) if (Get(c) == 0) free++;
        FreeCount = free;
        _nextFree = 2;
    }

    public void SetNextFreeHint(uint hint)
    {
        if (IsValidCluster(hint)) _nextFree = hint;
    }

    /// <summary>
    /// Allocates <paramref name="count"/> clusters linked into a chain and ended with EOC, preferring the
    /// clusters right after <paramref name="after"/> (so a growing file stays contiguous), then the next-free
    /// hint. Links <paramref name="after"/> to the new chain when it is a valid cluster. Returns them in order.
    /// </summary>
    public uint[] Allocate(int count, uint after)
    {
        if (count <= 0) return [];
        if (count > FreeCount) throw new InvalidOperationException("not enough free clusters");
        var result = new uint[count];
        uint candidate = IsValidCluster(after) ? after + 1 : _nextFree;
        for (int i = 0; i < count; i++)
        {
            uint c = IsValidCluster(candidate) && Get(candidate) == 0 ? candidate : FindFree(_nextFree);
            result[i] = c;
            Set(c, EndOfChain);
            candidate = c + 1;
        }
        for (int i = 0; i + 1 < count; i++) Set(result[i], result[i + 1]);
        if (IsValidCluster(after)) Set(after, result[0]);
        _nextFree = result[^1] + 1 < ClusterCount + 2 ? result[^1] + 1 : 2;
        return result;
    }

    private uint FindFree(uint start)
    {
        if (!IsValidCluster(start)) start = 2;
        for (uint c = start; c < ClusterCount + 2; c++) if (Get(c) == 0) { _nextFree = c; return c; }
        for (uint c = 2; c < start; c++) if (Get(c) == 0) { _nextFree = c; return c; }
        throw new InvalidOperationException("FAT free count says free clusters exist but none was found");
    }

    /// <summary>Frees the given clusters (a chain the caller has already walked and validated).</summary>
    public void Free(IEnumerable<uint> clusters)
    {
        foreach (uint c in clusters) if (IsValidCluster(c)) Set(c, 0);
    }

    private void MarkDirty(int offset, int length)
    {
        for (int s = offset / _sectorSize; s <= (offset + length - 1) / _sectorSize && s < _dirtySectors.Length; s++)
            _dirtySectors[s] = true;
    }

    public void MarkAllDirty() => Array.Fill(_dirtySectors, true);

    /// <summary>Indices (within one FAT copy) of sectors changed since the last call, and clears the marks.</summary>
    public List<int> TakeDirtySectors()
    {
        var list = new List<int>();
        for (int i = 0; i < _dirtySectors.Length; i++) if (_dirtySectors[i]) { list.Add(i); _dirtySectors[i] = false; }
        return list;
    }
}
