using MountFs.Vfs;

namespace MountFs.Ext;

// Open handles, file contents (read/write through the block map) and setattr (chmod/chown/truncate/utimens).
public sealed partial class Ext2FileSystem
{
    private readonly Dictionary<ulong, uint> _handles = [];
    private readonly Dictionary<uint, int> _openCounts = [];
    private ulong _nextHandle = 1;
    /// <summary>Blocks written per transaction by a large write: bounds dirty data held by one transaction.</summary>
    private const int BlocksPerWriteTransaction = 256;
    /// <summary>Largest device request of an uncached data read or direct data write (1 MiB of 4 KiB blocks).</summary>
    private const int MaxDirectRunBlocks = 256;

    private ulong OpenHandle(uint ino)
    {
        ulong h = _nextHandle++;
        _handles[h] = ino;
        _openCounts[ino] = _openCounts.GetValueOrDefault(ino) + 1;
        return h;
    }

    public ulong Open(ulong node, OpenFlags flags)
    {
        lock (_gate)
        {
            var inode = LiveInode(node);
            if ((flags & OpenFlags.AccessMask) != OpenFlags.ReadOnly)
            {
                if (_readOnly) throw new FsException(Errno.EROFS);
                if (inode.IsDirectory) throw new FsException(Errno.EISDIR);
            }
            return OpenHandle((uint)node);
        }
    }

    public void Flush(ulong node, ulong handle) { }

    public void Release(ulong node, ulong handle)
    {
        lock (_gate)
        {
            if (!_handles.Remove(handle, out uint ino)) return;
            int left = _openCounts.GetValueOrDefault(ino) - 1;
            if (left > 0) { _openCounts[ino] = left; return; }
            _openCounts.Remove(ino);
            if (!_referenced.Contains(ino)) FreeIfUnlinked(ino);
        }
    }

    public void Fsync(ulong node, ulong handle, bool dataOnly) => SyncFileSystem();

    public int Read(ulong node, ulong handle, long offset, Span<byte> buffer)
    {
        lock (_gate)
        {
            uint ino = (uint)node;
            var inode = LiveInode(node);
            if (inode.IsDirectory) throw new FsException(Errno.EISDIR);
            if (!inode.IsRegular && !inode.IsSymlink) throw new FsException(Errno.EINVAL);
            if (offset < 0) throw new FsException(Errno.EINVAL);
            long size = inode.Size;
            if (offset >= size || buffer.Length == 0) return 0;
            int total = (int)Math.Min(buffer.Length, size - offset);
            int bs = _geo.BlockSize;
            byte[]? scratch = null;
            // The kernel's read-ahead turns a sequential reader's requests into large ones; a small one is a
            // random reader, whose misses fetch their neighbours (TryReadAround).
            bool small = total <= SmallReadBytes;
            int done = 0;
            while (done < total)
            {
                long pos = offset + done;
                long fb = pos / bs;
                int within = (int)(pos % bs);
                int n = Math.Min(bs - within, total - done);
                uint pb = MapBlock(ino, inode, fb);
                var dest = buffer.Slice(done, n);
                if (pb == 0) dest.Clear();
                else if (_cache.TryPeek(pb, out var cached)) cached.AsSpan(within, n).CopyTo(dest);
                else if (within == 0 && n == bs)
                {
                    // Sequential reads: gather the run of physically contiguous, uncached, fully covered blocks
                    // that follow and read them with one device request.
                    int run = 1;
                    while (run < MaxDirectRunBlocks && done + (run + 1) * bs <= total)
                    {
                        uint next = MapBlock(ino, inode, fb + run);
                        if (next != pb + run || _cache.Contains(next)) break;
                        run++;
                    }
                    var runBytes = buffer.Slice(done, run * bs);
                    if (!small || !TryReadAround(inode, fb, pb, run, runBytes)) _cache.ReadRunUncached(pb, run, runBytes);
                    n = run * bs;
                }
                else
                {
                    scratch ??= new byte[bs];
                    if (!small || !TryReadAround(inode, fb, pb, 1, scratch)) _cache.ReadUncached(pb, scratch);
                    scratch.AsSpan(within, n).CopyTo(dest);
                }
                done += n;
            }
            return total;
        }
    }

    /// <summary>Bytes fetched around a small uncached read (see <see cref="TryReadAround"/>): the kernel's own
    /// default read-ahead, small enough that a truly random reader pays little for the neighbours it never uses.</summary>
    internal const int ReadAroundBytes = 128 * 1024;
    /// <summary>Requests up to this size read around their misses; larger ones come from sequential readers.</summary>
    internal const int SmallReadBytes = 16 * 1024;
    /// <summary>Windows remembered as fetched; beyond this (8 GiB of 128 KiB windows, under 2 MiB of set) the set starts over.</summary>
    private const int MaxReadAroundWindows = 1 << 16;
    private readonly HashSet<uint> _readAroundWindows = [];
    private byte[]? _readAroundBuffer;

    /// <summary>
    /// A small read that misses the cache (a random reader: the kernel's read-ahead makes sequential reads large)
    /// fetches, once per aligned <see cref="ReadAroundBytes"/> window of the device, the file's physically contiguous
    /// blocks in that window with one request, and hands back only the <paramref name="blocks"/> blocks from
    /// <paramref name="pb"/> (file block <paramref name="fb"/>) that were asked for. The neighbours are not kept
    /// here (the block cache stays bounded and holds metadata); the request leaves them in the host's page cache of
    /// the image, so later misses in the window cost a memory copy instead of a disk read. Returns false (nothing
    /// read) when the window was fetched before or the file has no contiguous neighbour in it; the window stays
    /// unfetched then, for a later miss of a file that has.
    /// </summary>
    /// <remarks>Only the blocks asked for, which the caller found uncached, are used: a neighbour that is dirty in the
    /// cache is newer than the device copy read here, which is thrown away.</remarks>
    private bool TryReadAround(Inode inode, long fb, uint pb, int blocks, Span<byte> destination)
    {
        int bs = _geo.BlockSize;
        uint window = (uint)(ReadAroundBytes / bs);
        uint key = pb / window;
        if ((pb + (uint)blocks - 1) / window != key || _readAroundWindows.Contains(key)) return false;
        uint low = key * window;
        uint high = (uint)Math.Min((ulong)low + window, _sb.BlocksCount);
        long fileBlocks = (inode.Size + bs - 1) / bs;
        uint first = pb, last = pb + (uint)blocks - 1;
        for (long f = fb - 1; first > low && f >= 0 && PeekBlock(inode, f) == first - 1; f--) first--;
        for (long f = fb + blocks; last + 1 < high && f < fileBlocks && PeekBlock(inode, f) == last + 1; f++) last++;
        int count = (int)(last - first + 1);
        if (count == blocks) return false;
        if (_readAroundWindows.Count >= MaxReadAroundWindows) _readAroundWindows.Clear();
        _readAroundWindows.Add(key);
        var buffer = _readAroundBuffer ??= new byte[window * bs];
        // A neighbour's unreadable sector must not fail a read that never asked for it: the caller then reads its
        // own blocks alone (and the window stays marked, so later misses there do not try again).
        try { _cache.ReadRunUncached(first, count, buffer); }
        catch (IOException) { return false; }
        buffer.AsSpan((int)(pb - first) * bs, blocks * bs).CopyTo(destination);
        ReadAroundCount++;
        return true;
    }

    /// <summary>Windows fetched by <see cref="TryReadAround"/>: lets tests see the read-around without timing it.</summary>
    internal long ReadAroundCount { get; private set; }

    public int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            uint ino = (uint)node;
            var inode = LiveInode(node);
            if (inode.IsDirectory) throw new FsException(Errno.EISDIR);
            if (!inode.IsRegular) throw new FsException(Errno.EINVAL);
            if (offset < 0) throw new FsException(Errno.EINVAL);
            if (_readOnly) throw new FsException(Errno.EROFS);
            if (data.Length == 0) return 0;
            long end = offset + data.Length;
            if (end > Capabilities.MaxFileSize || end < 0) throw new FsException(Errno.EFBIG);
            CheckSpaceFor(ino, inode, offset, end);
            int bs = _geo.BlockSize;
            int done = 0;
            while (done < data.Length)
            {
                using var tx = Begin();
                inode = ReadInode(ino);
                // Whole blocks that are not cached go to the device straight from the caller's buffer, a run of
                // physically contiguous ones in one request: copying them through the cache would cost a copy, a
                // second write-back copy and, for a large file, most of the cache. Ordering still holds: they reach
                // the device now, before any metadata that points at them (write-back phases 2-4), and write-back's
                // first flush covers them.
                uint runStart = 0;
                int runBlocks = 0, runFrom = 0;
                for (int blocks = 0; blocks < BlocksPerWriteTransaction && done < data.Length; blocks++)
                {
                    long pos = offset + done;
                    long fb = pos / bs;
                    int within = (int)(pos % bs);
                    int n = Math.Min(bs - within, data.Length - done);
                    uint pb = MapOrAllocate(tx, ino, inode, fb, out bool fresh);
                    if (n == bs && !_cache.Contains(pb))
                    {
                        if (runBlocks > 0 && pb == runStart + (uint)runBlocks && runFrom + runBlocks * bs == done && runBlocks < MaxDirectRunBlocks)
                            runBlocks++;
                        else
                        {
                            if (runBlocks > 0) _cache.WriteDirect(runStart, data.Slice(runFrom, runBlocks * bs));
                            runStart = pb;
                            runBlocks = 1;
                            runFrom = done;
                        }
                    }
                    else
                    {
                        var buf = fresh || (within == 0 && n == bs) ? tx.Create(pb, BlockKind.Data) : tx.Modify(pb, BlockKind.Data);
                        data.Slice(done, n).CopyTo(buf.AsSpan(within));
                    }
                    done += n;
                }
                if (runBlocks > 0) _cache.WriteDirect(runStart, data.Slice(runFrom, runBlocks * bs));
                long newEnd = offset + done;
                if (newEnd > inode.Size) SetSize(tx, inode, newEnd);
                var now = Timestamp.Now;
                SetTimes(inode, null, now, now);
                WriteInode(tx, ino, inode);
                tx.Commit();
                AfterCommit();
            }
            return data.Length;
        }
    }

    /// <summary>ENOSPC before anything changes when the write cannot fit (holes to fill plus their indirect blocks).</summary>
    private void CheckSpaceFor(uint ino, Inode inode, long offset, long end)
    {
        long free = 0;
        foreach (var g in _groups) free += g.FreeBlocksCount;
        int bs = _geo.BlockSize;
        long first = offset / bs, last = (end - 1) / bs;
        long span = last - first + 1;
        long worst = span + span / _geo.PointersPerBlock + 3;
        if (worst <= free) return;
        long holes = 0;
        for (long fb = first; fb <= last; fb++) if (MapBlock(ino, inode, fb) == 0) holes++;
        if (holes > 0 && holes + holes / _geo.PointersPerBlock + 3 > free)
            throw new FsException(Errno.ENOSPC, $"{_image}: no space for {holes} more blocks");
    }

    private void SetSize(Transaction tx, Inode inode, long size)
    {
        inode.Size = size;
        if (size > int.MaxValue && !_sb.HasRoCompat(RoCompatFeatures.LargeFile))
        {
            var sb = SuperForWrite(tx);
            sb.FeatureRoCompat |= RoCompatFeatures.LargeFile;
        }
    }

    public NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null)
    {
        lock (_gate)
        {
            uint ino = (uint)node;
            var inode = LiveInode(node);
            using var tx = Begin();
            var now = Timestamp.Now;
            if (changes.Mode is { } mode) inode.Mode = (ushort)(inode.FileType | (mode & UnixFileMode.PermissionMask));
            if (changes.Uid is { } uid) inode.Uid = uid;
            if (changes.Gid is { } gid) inode.Gid = gid;
            if (changes.Size is { } size)
            {
                if (inode.IsDirectory) throw new FsException(Errno.EISDIR);
                if (!inode.IsRegular) throw new FsException(Errno.EINVAL);
                if (size < 0) throw new FsException(Errno.EINVAL);
                if (size > Capabilities.MaxFileSize) throw new FsException(Errno.EFBIG);
                if (size < inode.Size) Shrink(tx, ino, inode, size);
                else if (size > inode.Size) SetSize(tx, inode, size);
                SetTimes(inode, null, now, null);
            }
            if (changes.Atime is { } at) SetTimes(inode, at.Resolve(), null, null);
            if (changes.Mtime is { } mt) SetTimes(inode, null, mt.Resolve(), null);
            SetTimes(inode, null, null, changes.Ctime ?? now);
            WriteInode(tx, ino, inode);
            tx.Commit();
            AfterCommit();
            return Attributes(ino, inode);
        }
    }

    /// <summary>Truncates to <paramref name="size"/>: frees blocks past it and zeroes the tail of the last kept block,
    /// so a later extension reads zeros there.</summary>
    private void Shrink(Transaction tx, uint ino, Inode inode, long size)
    {
        int bs = _geo.BlockSize;
        long keep = (size + bs - 1) / bs;
        TruncateBlocks(tx, ino, inode, keep);
        int tail = (int)(size % bs);
        if (tail != 0)
        {
            uint pb = MapBlock(ino, inode, size / bs);
            if (pb != 0) tx.Modify(pb, BlockKind.Data).AsSpan(tail).Clear();
        }
        inode.Size = size;
    }
}
