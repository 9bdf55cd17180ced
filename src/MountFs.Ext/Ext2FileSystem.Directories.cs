using System.Text;
using MountFs.Vfs;

namespace MountFs.Ext;

// Linear directories (ext2_dir_entry_2 records) with an in-memory hash index per directory, so lookups and
// inserts in a 50,000-entry directory cost one hash probe plus one block parse instead of a scan.
public sealed partial class Ext2FileSystem
{
    private readonly record struct Slot(uint FileBlock, ushort Offset, uint Inode, byte Type);

    /// <summary>Name → record position of one directory, plus the largest insertable record per block.</summary>
    /// <remarks><see cref="Free"/> never underestimates (a block with room is never skipped). When
    /// <see cref="Best"/> is not -1 it is exact and <see cref="Best"/> is the offset of a record with that much slack,
    /// so an insert goes straight there instead of parsing the block; <see cref="Second"/> bounds the slack of every
    /// other record. Appending to a block keeps the split record the largest, so a run of creates never walks;
    /// otherwise Best becomes -1 and the next insert walks the block once.</remarks>
    private sealed class DirIndex
    {
        public readonly Dictionary<string, Slot> Names = new(StringComparer.Ordinal);
        public readonly List<int> Free = [];
        public readonly List<int> Best = [];
        public readonly List<int> Second = [];
        public int FirstFreeHint;

        public void Add((int Largest, int Offset, int Second) free)
        {
            Free.Add(free.Largest);
            Best.Add(free.Offset);
            Second.Add(free.Second);
        }

        public void Set(int fb, (int Largest, int Offset, int Second) free)
        {
            Free[fb] = free.Largest;
            Best[fb] = free.Offset;
            Second[fb] = free.Second;
        }

        /// <summary>A removal merged the record at <paramref name="gone"/> into the one at <paramref name="keeper"/>
        /// (the same offset when a block's first record was only cleared), whose slack is now <paramref name="slack"/>:
        /// updates the block's free-space facts without parsing it again. The kept slack is at least the removed
        /// record's whole length, so it is never below what either record had.</summary>
        public void SlackGrew(int fb, int keeper, int gone, int slack)
        {
            if (Best[fb] < 0) Free[fb] = Math.Max(Free[fb], slack);
            else if (Best[fb] == keeper || Best[fb] == gone) { Free[fb] = slack; Best[fb] = keeper; }
            else if (slack >= Free[fb]) { Second[fb] = Free[fb]; Free[fb] = slack; Best[fb] = keeper; }
            else Second[fb] = Math.Max(Second[fb], slack);
        }
    }

    private readonly Dictionary<uint, DirIndex> _dirIndexes = [];

    /// <summary>Directory records parsed so far: lets tests show that lookups and inserts do not scan directories.</summary>
    internal long DirectoryRecordsParsed { get; private set; }
    private long _indexedEntries;
    private const long MaxIndexedEntries = 2_000_000;

    /// <summary>Names are byte strings on disk; Latin-1 maps each byte to one char, so keys compare bytes exactly.</summary>
    private static string Key(ReadOnlySpan<byte> name) => Encoding.Latin1.GetString(name);

    private static byte[] NameBytes(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length > DirectoryEntry.MaxNameLength) throw new FsException(Errno.ENAMETOOLONG, $"name of {bytes.Length} bytes");
        if (bytes.Length == 0) throw new FsException(Errno.EINVAL, "empty name");
        return bytes;
    }

    private long DirectoryBlocks(uint ino, Inode dir)
    {
        long size = dir.SizeLow; // ext2 directories use only the low 32 bits (i_dir_acl is not a size)
        if (size % _geo.BlockSize != 0)
            throw Corrupt("directory", $"inode {ino} size {size} is not a multiple of the block size");
        long blocks = size / _geo.BlockSize;
        // Directories have no holes, so a size beyond the blocks owned is corrupt (and would cost a long scan).
        if (blocks > (long)(dir.Blocks512 / (ulong)(_geo.BlockSize / 512)))
            throw Corrupt("directory", $"inode {ino} size {size} exceeds its {dir.Blocks512} allocated sectors");
        return blocks;
    }

    private Inode DirectoryInode(uint ino)
    {
        var inode = LiveInode(ino);
        if (!inode.IsDirectory) throw new FsException(Errno.ENOTDIR, $"{_image}: inode {ino} is not a directory");
        return inode;
    }

    private DirIndex Index(uint ino, Inode dir)
    {
        if (_dirIndexes.TryGetValue(ino, out var idx)) return idx;
        if (_indexedEntries > MaxIndexedEntries) { _dirIndexes.Clear(); _indexedEntries = 0; }
        idx = new DirIndex();
        long blocks = DirectoryBlocks(ino, dir);
        int bs = _geo.BlockSize;
        for (long fb = 0; fb < blocks; fb++)
        {
            uint pb = MapBlock(ino, dir, fb);
            if (pb == 0) throw Corrupt("directory", $"inode {ino} has a hole at block {fb}");
            var data = _cache.Read(pb);
            for (int off = 0; off < bs;)
            {
                if (!DirectoryRecordHeader.TryRead(data, off, out var e, out string? err))
                    throw Corrupt("directory block", $"inode {ino} block {pb}: {err}");
                DirectoryRecordsParsed++;
                if (e.Inode != 0)
                {
                    if (e.Inode > _sb.InodesCount) throw Corrupt("directory entry", $"inode {ino} block {pb} offset {off} names inode {e.Inode}");
                    idx.Names.TryAdd(Key(data.AsSpan(off + DirectoryEntry.HeaderSize, e.NameLength)), new Slot((uint)fb, (ushort)off, e.Inode, e.FileType));
                }
                off += e.RecordLength;
            }
            idx.Add(BlockFree(data));
        }
        _dirIndexes[ino] = idx;
        _indexedEntries += idx.Names.Count;
        return idx;
    }

    private void ForgetIndex(uint ino)
    {
        if (_dirIndexes.Remove(ino, out var idx)) _indexedEntries -= idx.Names.Count;
    }

    private Slot? Find(uint dirIno, Inode dir, byte[] name) =>
        Index(dirIno, dir).Names.TryGetValue(Key(name), out var s) ? s : null;

    /// <summary>The largest record a new name could take in a block, where it is, and the second largest slack.</summary>
    private (int Largest, int Offset, int Second) BlockFree(byte[] data)
    {
        int largest = 0, best = -1, second = 0;
        for (int off = 0; off < _geo.BlockSize;)
        {
            if (!DirectoryRecordHeader.TryRead(data, off, out var e, out _)) return (0, -1, 0);
            DirectoryRecordsParsed++;
            if (e.Slack > largest) { second = largest; largest = e.Slack; best = off; }
            else second = Math.Max(second, e.Slack);
            off += e.RecordLength;
        }
        return (largest, best, second);
    }

    /// <summary>Splits the record at <paramref name="off"/> and writes the new name into its slack; returns the new
    /// record's own slack, or -1 (nothing changed) when the record has too little.</summary>
    private int TryInsertAt(DirIndex idx, int fb, byte[] data, int off, byte[] name, uint ino, byte type)
    {
        if (!DirectoryRecordHeader.TryRead(data, off, out var e, out _)) return -1;
        DirectoryRecordsParsed++;
        int need = DirectoryEntry.MinimumRecordLength(name.Length);
        int used = e.UsedLength;
        if (e.RecordLength - used < need) return -1;
        int at = off + used;
        if (used > 0) DirectoryEntry.WriteRecordLength(data, off, used);
        new DirectoryEntry(ino, (ushort)(e.RecordLength - used), name, type).WriteTo(data, at);
        idx.Names[Key(name)] = new Slot((uint)fb, (ushort)at, ino, type);
        _indexedEntries++;
        int left = e.RecordLength - used - need;
        // The split record kept the rest of the largest slack: still the largest unless another record had more.
        if (left >= idx.Second[fb]) { idx.Free[fb] = left; idx.Best[fb] = at; }
        else { idx.Free[fb] = idx.Second[fb]; idx.Best[fb] = -1; }
        return left;
    }

    /// <summary>Adds a name (which must be absent) to a directory, growing it by a block if no block has room.</summary>
    private void AddEntry(Transaction tx, uint dirIno, byte[] name, uint ino, byte type)
    {
        var dir = DirectoryInode(dirIno);
        var idx = Index(dirIno, dir);
        int need = DirectoryEntry.MinimumRecordLength(name.Length);
        if (!_sb.HasIncompat(IncompatFeatures.FileType)) type = 0;
        int bs = _geo.BlockSize;
        // Blocks too full for the shortest name are skipped for good (until a removal lowers the hint again).
        while (idx.FirstFreeHint < idx.Free.Count && idx.Free[idx.FirstFreeHint] < DirectoryEntry.MinimumRecordLength(1))
            idx.FirstFreeHint++;
        for (int fb = idx.FirstFreeHint; fb < idx.Free.Count; fb++)
        {
            if (idx.Free[fb] < need) continue;
            uint pb = MapBlock(dirIno, dir, fb);
            if (pb == 0) throw Corrupt("directory", $"inode {dirIno} has a hole at block {fb}");
            var data = tx.Modify(pb, BlockKind.Directory);
            if (idx.Best[fb] >= 0 && TryInsertAt(idx, fb, data, idx.Best[fb], name, ino, type) >= 0)
            {
                UpdateDirectoryInode(tx, dirIno, dir);
                return;
            }
            for (int off = 0; off < bs;)
            {
                if (!DirectoryRecordHeader.TryRead(data, off, out var e, out string? err))
                    throw Corrupt("directory block", $"inode {dirIno} block {pb}: {err}");
                DirectoryRecordsParsed++;
                if (e.Slack >= need && TryInsertAt(idx, fb, data, off, name, ino, type) >= 0)
                {
                    idx.Set(fb, BlockFree(data));
                    UpdateDirectoryInode(tx, dirIno, dir);
                    return;
                }
                off += e.RecordLength;
            }
            idx.Set(fb, BlockFree(data)); // the hint was stale
        }
        // No room: append one block holding just this record.
        long newFb = idx.Free.Count;
        uint nb = MapOrAllocate(tx, dirIno, dir, newFb, out _);
        var block = tx.Create(nb, BlockKind.Directory);
        new DirectoryEntry(ino, (ushort)bs, name, type).WriteTo(block, 0);
        idx.Add((bs - need, 0, 0));
        idx.Names[Key(name)] = new Slot((uint)newFb, 0, ino, type);
        _indexedEntries++;
        dir.SizeLow += (uint)bs;
        UpdateDirectoryInode(tx, dirIno, dir);
    }

    /// <summary>Sets mtime/ctime and clears the htree flag (the dx blocks read as valid empty linear blocks; the index
    /// would be stale after our change, and e2fsck accepts an unindexed directory).</summary>
    private void UpdateDirectoryInode(Transaction tx, uint dirIno, Inode dir)
    {
        var now = Timestamp.Now;
        SetTimes(dir, null, now, now);
        dir.Flags &= ~Inode.IndexFlag;
        WriteInode(tx, dirIno, dir);
    }

    /// <summary>Removes a name: merges its record into the previous one, or clears the inode of a block's first record.</summary>
    private void RemoveEntry(Transaction tx, uint dirIno, byte[] name)
    {
        var dir = DirectoryInode(dirIno);
        var idx = Index(dirIno, dir);
        string key = Key(name);
        if (!idx.Names.TryGetValue(key, out var slot)) throw new FsException(Errno.ENOENT);
        uint pb = MapBlock(dirIno, dir, slot.FileBlock);
        if (pb == 0) throw Corrupt("directory", $"inode {dirIno} has a hole at block {slot.FileBlock}");
        var data = tx.Modify(pb, BlockKind.Directory);
        int prev = -1;
        DirectoryRecordHeader previous = default;
        for (int off = 0; off < _geo.BlockSize;)
        {
            if (!DirectoryRecordHeader.TryRead(data, off, out var e, out string? err))
                throw Corrupt("directory block", $"inode {dirIno} block {pb}: {err}");
            DirectoryRecordsParsed++;
            if (off == slot.Offset)
            {
                // Records are contiguous, so the previous one's rec_len is off - prev: no second parse.
                int keeper, slack;
                if (prev >= 0)
                {
                    int merged = off - prev + e.RecordLength;
                    DirectoryEntry.WriteRecordLength(data, prev, merged);
                    (keeper, slack) = (prev, merged - previous.UsedLength);
                }
                else
                {
                    DirectoryEntry.WriteInode(data, off, 0);
                    (keeper, slack) = (off, e.RecordLength);
                }
                idx.Names.Remove(key);
                _indexedEntries--;
                idx.SlackGrew((int)slot.FileBlock, keeper, off, slack);
                idx.FirstFreeHint = Math.Min(idx.FirstFreeHint, (int)slot.FileBlock);
                UpdateDirectoryInode(tx, dirIno, dir);
                return;
            }
            prev = off;
            previous = e;
            off += e.RecordLength;
        }
        throw Corrupt("directory index", $"inode {dirIno}: entry not found at block {slot.FileBlock} offset {slot.Offset}");
    }

    /// <summary>Points an existing name at another inode (rename over an existing target).</summary>
    private void ReplaceEntry(Transaction tx, uint dirIno, byte[] name, uint ino, byte type)
    {
        var dir = DirectoryInode(dirIno);
        var idx = Index(dirIno, dir);
        string key = Key(name);
        if (!idx.Names.TryGetValue(key, out var slot)) throw new FsException(Errno.ENOENT);
        uint pb = MapBlock(dirIno, dir, slot.FileBlock);
        if (pb == 0) throw Corrupt("directory", $"inode {dirIno} has a hole at block {slot.FileBlock}");
        var data = tx.Modify(pb, BlockKind.Directory);
        DirectoryEntry.WriteInode(data, slot.Offset, ino);
        if (_sb.HasIncompat(IncompatFeatures.FileType)) data[slot.Offset + 7] = type;
        idx.Names[key] = slot with { Inode = ino, Type = type };
        UpdateDirectoryInode(tx, dirIno, dir);
    }

    /// <summary>Writes the first block of a new directory: "." and "..".</summary>
    private void InitDirectoryBlock(byte[] block, uint self, uint parent)
    {
        byte type = _sb.HasIncompat(IncompatFeatures.FileType) ? DirectoryEntry.TypeDirectory : (byte)0;
        new DirectoryEntry(self, 12, "."u8.ToArray(), type).WriteTo(block, 0);
        new DirectoryEntry(parent, (ushort)(_geo.BlockSize - 12), ".."u8.ToArray(), type).WriteTo(block, 12);
    }

    /// <summary>The inode ".." names, read from the directory's first block.</summary>
    private uint ParentOf(uint dirIno)
    {
        var dir = DirectoryInode(dirIno);
        var idx = Index(dirIno, dir);
        return idx.Names.TryGetValue("..", out var s) ? s.Inode : throw Corrupt("directory", $"inode {dirIno} has no '..' entry");
    }

    private void SetParent(Transaction tx, uint dirIno, uint parent)
    {
        var dir = DirectoryInode(dirIno);
        var idx = Index(dirIno, dir);
        if (!idx.Names.TryGetValue("..", out var slot)) throw Corrupt("directory", $"inode {dirIno} has no '..' entry");
        uint pb = MapBlock(dirIno, dir, slot.FileBlock);
        if (pb == 0) throw Corrupt("directory", $"inode {dirIno} has a hole at block {slot.FileBlock}");
        DirectoryEntry.WriteInode(tx.Modify(pb, BlockKind.Directory), slot.Offset, parent);
        idx.Names[".."] = slot with { Inode = parent };
    }

    private bool IsEmptyDirectory(uint ino)
    {
        var idx = Index(ino, DirectoryInode(ino));
        foreach (var k in idx.Names.Keys) if (k != "." && k != "..") return false;
        return true;
    }

    public ulong OpenDirectory(ulong node)
    {
        lock (_gate)
        {
            DirectoryInode((uint)node);
            return 0;
        }
    }

    public void ReleaseDirectory(ulong node, ulong handle) { }

    public void FsyncDirectory(ulong node, ulong handle, bool dataOnly) => SyncFileSystem();

    /// <summary>Cookies are byte positions in the directory: the position just past the record returned.</summary>
    public void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor)
    {
        int bs = _geo.BlockSize;
        var batch = new List<Vfs.DirectoryEntry>();
        while (true)
        {
            batch.Clear();
            lock (_gate)
            {
                uint ino = (uint)node;
                var dir = DirectoryInode(ino);
                long blocks = DirectoryBlocks(ino, dir);
                long fb = offset / bs;
                if (offset < 0 || fb >= blocks) return;
                uint pb = MapBlock(ino, dir, fb);
                if (pb == 0) throw Corrupt("directory", $"inode {ino} has a hole at block {fb}");
                var data = _cache.Read(pb);
                bool fileType = _sb.HasIncompat(IncompatFeatures.FileType);
                for (int off = 0; off < bs;)
                {
                    if (!DirectoryRecordHeader.TryRead(data, off, out var e, out string? err))
                        throw Corrupt("directory block", $"inode {ino} block {pb}: {err}");
                    long pos = fb * bs + off;
                    long next = pos + e.RecordLength;
                    if (pos >= offset && e.Inode != 0)
                    {
                        byte type = fileType ? DirectoryTypeFromFileType(e.FileType) : UnixFileMode.DirectoryEntryType(SafeMode(e.Inode));
                        var name = data.AsSpan(off + DirectoryEntry.HeaderSize, e.NameLength);
                        batch.Add(new Vfs.DirectoryEntry(Encoding.UTF8.GetString(name), e.Inode, type, next));
                    }
                    off += e.RecordLength;
                }
                offset = (fb + 1) * bs;
            }
            foreach (var entry in batch)
                if (!visitor(entry)) return;
        }
    }

    /// <summary>ext2 file_type (1 reg ... 7 symlink) → readdir d_type (DT_REG 8 ... DT_LNK 10).</summary>
    private static byte DirectoryTypeFromFileType(byte fileType) => fileType switch
    {
        DirectoryEntry.TypeRegular => 8,
        DirectoryEntry.TypeDirectory => 4,
        DirectoryEntry.TypeCharDevice => 2,
        DirectoryEntry.TypeBlockDevice => 6,
        DirectoryEntry.TypeFifo => 1,
        DirectoryEntry.TypeSocket => 12,
        DirectoryEntry.TypeSymlink => 10,
        _ => 0,
    };

    private uint SafeMode(uint ino)
    {
        try { return ReadInode(ino).Mode; }
        catch (FsException) { return 0; }
    }
}
