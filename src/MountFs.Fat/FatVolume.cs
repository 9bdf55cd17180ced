using System.Buffers;
using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>
/// The on-disk side of a mounted FAT volume: geometry, the in-memory FAT and its copies, directory images,
/// byte I/O on clusters, and the flush order (file data, then the FATs and FSInfo, then directory entries).
/// </summary>
internal sealed class FatVolume
{
    private readonly IBlockDevice _dev;
    private readonly HashSet<FatNode> _dirtyDirectories = [];
    private readonly byte[] _bootSector;
    private readonly Action<string> _log;
    private byte[]? _fsInfoSector;
    /// <summary>Something was written since the last device flush (a flush with nothing new is skipped).</summary>
    private bool _unsynced;
    /// <summary>File data written since the last write-back was started: how many bytes, and the device range around them.</summary>
    private long _pendingBytes, _pendingStart = long.MaxValue, _pendingEnd;

    /// <summary>File data piled up to this much starts its write-back (<see cref="TakeWriteBack"/>).</summary>
    public const int WriteBackBytes = 1 << 20;

    public FatVolume(IBlockDevice device, bool readOnly, Action<string> log)
    {
        _dev = device;
        _log = log;
        ReadOnly = readOnly;
        Name = device.Name;
        int first = Math.Max(512, device.SectorSize);
        if (device.Length < first) throw new FsException(Errno.EINVAL, $"{Name}: too small to hold a FAT volume");
        _bootSector = new byte[first];
        ReadRaw(0, _bootSector);
        var bpb = BiosParameterBlock.Parse(_bootSector);
        var g = FatGeometry.TryCreate(bpb, device.Length, out string? problem);
        if (g == null)
        {
            if (!bpb.HasBootSignature) throw new FsException(Errno.EINVAL, $"{Name}: not a FAT volume ({problem})");
            throw Corrupt("boot sector", problem!);
        }
        if (g.BytesPerSector % device.SectorSize != 0)
            throw new FsException(Errno.EINVAL, $"{Name}: FAT sector size {g.BytesPerSector} is not a multiple of the device's {device.SectorSize}");
        Geometry = g;
        var raw = new byte[g.FatSectors * g.BytesPerSector];
        // FAT32 may run with mirroring off (ExtFlags bit 7); the active copy is then the truth. We write every
        // copy, which turns mirroring back on in effect.
        int active = bpb.IsFat32Layout && (bpb.ExtFlags & 0x80) != 0 && (bpb.ExtFlags & 0x0F) < bpb.NumberOfFats ? bpb.ExtFlags & 0x0F : 0;
        ReadRaw(g.FatOffset(active), raw);
        Fat = new FileAllocationTable(g.Type, g.ClusterCount, raw, g.BytesPerSector);
        if (g.Type == FatType.Fat32 && bpb.FsInfoSector >= 1 && bpb.FsInfoSector < bpb.ReservedSectors)
        {
            var info = new byte[g.BytesPerSector];
            ReadRaw((long)bpb.FsInfoSector * g.BytesPerSector, info);
            var fsInfo = FsInfo.Parse(info);
            if (fsInfo != null) Fat.SetNextFreeHint(fsInfo.NextFree);
        }
        if ((_bootSector[bpb.TailOffset + 1] & 1) != 0)
            _log($"{Name}: volume was not cleanly unmounted (dirty bit set); run fsck");
    }

    public string Name { get; }
    public bool ReadOnly { get; }
    public FatGeometry Geometry { get; }
    public FileAllocationTable Fat { get; }
    public int ClusterBytes => Geometry.BytesPerCluster;

    public FsException Corrupt(string structure, string detail)
    {
        var e = FsException.Corrupt(Name, structure, detail);
        _log(e.Message);
        return e;
    }

    private void ReadRaw(long offset, Span<byte> buffer)
    {
        try { _dev.Read(offset, buffer); }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            _log($"{Name}: read of {buffer.Length} bytes at {offset} failed: {e.Message}");
            throw new FsException(Errno.EIO, $"{Name}: read at {offset} failed", e);
        }
    }

    private void WriteRaw(long offset, ReadOnlySpan<byte> data)
    {
        _unsynced = true;
        try { _dev.Write(offset, data); }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            _log($"{Name}: write of {data.Length} bytes at {offset} failed: {e.Message}");
            throw new FsException(Errno.EIO, $"{Name}: write at {offset} failed", e);
        }
    }

    /// <summary>Reads any byte range, going through whole sectors at the edges.</summary>
    public void ReadBytes(long offset, Span<byte> buffer)
    {
        int ss = _dev.SectorSize;
        if (offset % ss == 0 && buffer.Length % ss == 0) { ReadRaw(offset, buffer); return; }
        long start = offset / ss * ss;
        long end = (offset + buffer.Length + ss - 1) / ss * ss;
        var tmp = new byte[end - start];
        ReadRaw(start, tmp);
        tmp.AsSpan((int)(offset - start), buffer.Length).CopyTo(buffer);
    }

    /// <summary>Writes any byte range, reading back the partial sectors at its edges.</summary>
    /// <param name="tailFree">The bytes after the range in its last sector hold nothing worth keeping (they lie past
    /// the end of the file): they become zeros instead of being read back.</param>
    public void WriteBytes(long offset, ReadOnlySpan<byte> data, bool tailFree = false)
    {
        if (data.IsEmpty) return;
        int ss = _dev.SectorSize;
        if (offset % ss == 0 && data.Length % ss == 0) { WriteRaw(offset, data); return; }
        long start = offset / ss * ss;
        long end = (offset + data.Length + ss - 1) / ss * ss;
        long alignedStart = (offset + ss - 1) / ss * ss;
        long alignedEnd = (offset + data.Length) / ss * ss;
        if (alignedEnd - alignedStart >= SplitWriteBytes)
        {
            // Large unaligned write: only the two edge sectors need read-modify-write.
            WriteBytes(offset, data[..(int)(alignedStart - offset)]);
            WriteRaw(alignedStart, data.Slice((int)(alignedStart - offset), (int)(alignedEnd - alignedStart)));
            WriteBytes(alignedEnd, data[(int)(alignedEnd - offset)..], tailFree);
            return;
        }
        // Smaller ones go out in one device write through a bounce buffer: a small file's last WRITE (whole sectors
        // and a partial one) costs one system call instead of two, for a copy of at most SplitWriteBytes.
        int length = (int)(end - start), dataStart = (int)(offset - start), dataEnd = dataStart + data.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var tmp = rented.AsSpan(0, length);
            bool headPartial = dataStart != 0, tailPartial = dataEnd != length, single = length == ss;
            bool readHead = headPartial || (single && tailPartial && !tailFree);
            bool readTail = !single && tailPartial && !tailFree;
            if (readHead) ReadRaw(start, tmp[..ss]);
            if (readTail) ReadRaw(end - ss, tmp[^ss..]);
            // What follows the data in its last sector was not read back: zeros, never a stale pool buffer's bytes.
            if (tailPartial && !readTail && !(single && readHead)) tmp[dataEnd..].Clear();
            data.CopyTo(tmp[dataStart..]);
            WriteRaw(start, tmp);
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>Unaligned writes whose whole sectors reach this size are written in place, with only their edge sectors
    /// copied; smaller ones are copied whole into one sector-aligned write.</summary>
    private const int SplitWriteBytes = 64 * 1024;

    /// <summary>The clusters of a chain, as (first cluster, count) runs of neighbours.</summary>
    public static IEnumerable<(int Index, uint Cluster, int Count)> Runs(List<uint> chain, int from, int to)
    {
        int i = from;
        while (i < to)
        {
            int j = i + 1;
            while (j < to && chain[j] == chain[j - 1] + 1) j++;
            yield return (i, chain[i], j - i);
            i = j;
        }
    }

    public List<uint> WalkChain(uint first, long maxClusters, string owner) =>
        Wrap(() => ClusterChain.Walk(Fat, first, maxClusters, Name, owner));

    private T Wrap<T>(Func<T> f)
    {
        try { return f(); }
        catch (FsException e) when (e.Errno == Errno.EUCLEAN) { _log(e.Message); throw; }
    }

    public long MaxDirectoryClusters => (long)DirectoryImage.MaxEntries * 32 / ClusterBytes;

    public DirectoryImage LoadDirectory(FatNode dir)
    {
        if (dir.IsRoot && Geometry.Type != FatType.Fat32)
        {
            var data = new byte[Geometry.RootDirSectors * Geometry.BytesPerSector];
            ReadBytes(Geometry.RootDirOffset, data);
            return new DirectoryImage(data, [], Geometry.BytesPerSector, fixedRegion: true);
        }
        uint first = dir.IsRoot ? Geometry.Bpb.RootCluster : dir.FirstCluster;
        if (first == 0) throw Corrupt("directory", $"'{dir.Name}' has no clusters");
        var chain = dir.Chain ??= WalkChain(first, MaxDirectoryClusters, $"directory '{dir.Name}'");
        var bytes = new byte[(long)chain.Count * ClusterBytes];
        foreach (var (index, cluster, count) in Runs(chain, 0, chain.Count))
            ReadBytes(Geometry.ClusterOffset(cluster), bytes.AsSpan(index * ClusterBytes, count * ClusterBytes));
        return new DirectoryImage(bytes, chain, Geometry.BytesPerSector, fixedRegion: false);
    }

    public void MarkDirectoryDirty(FatNode dir) => _dirtyDirectories.Add(dir);

    public void ForgetDirectory(FatNode dir) => _dirtyDirectories.Remove(dir);

    /// <summary>File data is written as it comes; this orders the metadata behind it: data, then the FATs and
    /// FSInfo, then directory entries, each made durable before the next (a crash leaves at worst lost clusters).</summary>
    public void Flush()
    {
        if (ReadOnly) return;
        Sync();
        ForgetPendingWriteBack();
        if (WriteFat()) Sync();
        if (_dirtyDirectories.Count > 0)
        {
            foreach (var dir in _dirtyDirectories) WriteDirectory(dir);
            _dirtyDirectories.Clear();
            Sync();
        }
    }

    private void Sync()
    {
        if (!_unsynced) return;
        Device(() => _dev.Flush());
        _unsynced = false;
    }

    /// <summary>Writes the changed FAT sectors to every copy, and FSInfo; false when nothing changed.</summary>
    private bool WriteFat()
    {
        var sectors = Fat.TakeDirtySectors();
        if (sectors.Count == 0) return false;
        int bps = Geometry.BytesPerSector;
        // One write per run of adjacent dirty sectors: a large file dirties hundreds of them in a row.
        for (int copy = 0; copy < Geometry.Bpb.NumberOfFats; copy++)
            for (int i = 0; i < sectors.Count;)
            {
                int j = i + 1;
                while (j < sectors.Count && sectors[j] == sectors[j - 1] + 1) j++;
                int s = sectors[i], count = j - i;
                WriteRaw(Geometry.FatOffset(copy) + (long)s * bps, Fat.Raw.Slice(s * bps, count * bps));
                i = j;
            }
        WriteFsInfo();
        return true;
    }

    private void WriteDirectory(FatNode dir)
    {
        var image = dir.Image;
        if (image == null) return;
        int bps = Geometry.BytesPerSector;
        var sectors = image.TakeDirtySectors();
        // One write per run of adjacent dirty sectors that are also adjacent on disk.
        for (int i = 0; i < sectors.Count;)
        {
            long offset = DirectorySectorOffset(image, sectors[i]);
            int j = i + 1;
            while (j < sectors.Count && sectors[j] == sectors[j - 1] + 1
                   && DirectorySectorOffset(image, sectors[j]) == offset + (long)(j - i) * bps) j++;
            WriteRaw(offset, image.Data.Slice(sectors[i] * bps, (j - i) * bps));
            i = j;
        }
    }

    private long DirectorySectorOffset(DirectoryImage image, int sector)
    {
        long byteOffset = (long)sector * Geometry.BytesPerSector;
        if (image.FixedRegion) return Geometry.RootDirOffset + byteOffset;
        uint cluster = image.Clusters[(int)(byteOffset / ClusterBytes)];
        return Geometry.ClusterOffset(cluster) + byteOffset % ClusterBytes;
    }

    private void WriteFsInfo()
    {
        var b = Geometry.Bpb;
        if (Geometry.Type != FatType.Fat32 || b.FsInfoSector == 0 || b.FsInfoSector >= b.ReservedSectors) return;
        long offset = (long)b.FsInfoSector * Geometry.BytesPerSector;
        if (_fsInfoSector == null)
        {
            _fsInfoSector = new byte[Geometry.BytesPerSector];
            ReadRaw(offset, _fsInfoSector);
        }
        // Keep the FSInfo sector's other bytes (boot signature at 510) as they are.
        var info = new FsInfo(Fat.FreeCount, Fat.NextFreeHint);
        var saved = _fsInfoSector[510..512];
        info.WriteTo(_fsInfoSector);
        saved.CopyTo(_fsInfoSector, 510);
        WriteRaw(offset, _fsInfoSector);
    }

    /// <summary>Sets or clears the "not cleanly unmounted" marks: BPB Reserved1 bit 0 and, on FAT16/32, the
    /// clean-shutdown bit of FAT[1].</summary>
    public void SetDirty(bool dirty)
    {
        if (ReadOnly) return;
        int flagOffset = Geometry.Bpb.TailOffset + 1;
        byte old = _bootSector[flagOffset];
        _bootSector[flagOffset] = (byte)(dirty ? old | 0x01 : old & ~0x01);
        if (_bootSector[flagOffset] != old) WriteRaw(0, _bootSector);
        uint cleanBit = Geometry.Type switch { FatType.Fat16 => 0x8000u, FatType.Fat32 => 0x08000000u, _ => 0u };
        if (cleanBit != 0)
        {
            uint v = Fat.Get(1);
            Fat.SetRaw(1, dirty ? v & ~cleanBit : v | cleanBit);
        }
        // Both marks in one device flush: when clearing, everything else is already durable (Flush ran first);
        // when setting, nothing else has been written yet.
        WriteFat();
        Sync();
    }

    /// <summary>Records file data just written at <paramref name="offset"/>, for <see cref="TakeWriteBack"/>.</summary>
    public void NoteDataWritten(long offset, long length)
    {
        _pendingBytes += length;
        _pendingStart = Math.Min(_pendingStart, offset);
        _pendingEnd = Math.Max(_pendingEnd, offset + length);
    }

    /// <summary>The device range around the file data written since the last call, once there is at least
    /// <see cref="WriteBackBytes"/> of it (a large write, or a run of small files, which lie close together as clusters
    /// are handed out in order); the caller passes it to <see cref="StartWriteBack"/>. The range may cover other dirty
    /// data too, which is written a little earlier than it would be anyway.</summary>
    public bool TakeWriteBack(out long offset, out long length)
    {
        offset = _pendingStart;
        length = _pendingEnd - _pendingStart;
        if (_pendingBytes < WriteBackBytes) return false;
        ForgetPendingWriteBack();
        return true;
    }

    private void ForgetPendingWriteBack()
    {
        _pendingBytes = 0;
        _pendingStart = long.MaxValue;
        _pendingEnd = 0;
    }

    /// <summary>Has the device start writing a range of file data now, without waiting (where it can: an image file or
    /// block device), so that the next <see cref="Flush"/> finds most of it on its way already instead of writing it all
    /// while the caller waits. Advisory: durability still comes from <see cref="Flush"/> alone.</summary>
    public void StartWriteBack(long offset, long length)
    {
        if (_dev is not FileBlockDevice file || ReadOnly) return;
        int ss = _dev.SectorSize;
        long start = offset / ss * ss, end = Math.Min(_dev.Length, (offset + length + ss - 1) / ss * ss);
        if (end > start) file.StartWriteBack(start, end - start);
    }

    public void Discard(long offset, long length)
    {
        _unsynced = true;
        try { _dev.Discard(offset, length); } catch (Exception) { /* discarding is advisory */ }
    }

    private void Device(Action a)
    {
        try { a(); }
        catch (IOException e)
        {
            _log($"{Name}: device flush failed: {e.Message}");
            throw new FsException(Errno.EIO, $"{Name}: flush failed", e);
        }
    }

    public void DisposeDevice() => _dev.Dispose();
}
