using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext;

/// <summary>
/// ext2 revision 1 as an <see cref="IFileSystem"/>: reads and writes images that e2fsprogs and the Linux kernel
/// accept (block sizes 1-4 KiB, 128/256-byte inodes, block maps with up to triple indirection, large_file,
/// filetype directories, fast/slow symlinks, special files, the orphan list, extended attributes).
/// </summary>
/// <remarks>
/// <para><b>Threading.</b> One lock (<see cref="_gate"/>) per mounted file system serialises every operation,
/// including cache and allocator access. Directory listings are produced a block at a time under the lock and
/// handed to the visitor outside it.</para>
/// <para><b>Transactions.</b> Every mutating operation runs inside one <see cref="Transaction"/> (<see cref="Begin"/>):
/// blocks are changed only through it, so a failure midway rolls back in memory, and the journal can later log
/// exactly these block sets. Ordering on disk is the <see cref="BlockCache"/>'s write-back phases; fsync and sync
/// run a full ordered write-back, so nothing acknowledged by fsync is lost. Whole data blocks that are not cached
/// are the exception: a write sends them to the device at once (a contiguous run per request, straight from the
/// caller's buffer), which still puts them ahead of every metadata block that points at them, and keeps a large
/// copy from filling the cache.</para>
/// <para><b>Corrupt images.</b> Every block number read from disk is checked against the file system before use;
/// failures are <see cref="FsException"/> EUCLEAN with a log line naming the image, structure and block.</para>
/// </remarks>
public sealed partial class Ext2FileSystem : IFileSystem
{
    private readonly Lock _gate = new();
    private readonly IBlockDevice _device;
    private readonly string _image;
    private readonly BlockCache _cache;
    private readonly Geometry _geo;
    private readonly GroupDescriptor[] _groups;
    private readonly bool _readOnly;
    private readonly TextWriter _log;
    private SuperBlock _sb;
    private bool _groupsDirty;
    private bool _superDirty;
    private bool _disposed;
    private ushort _mountState;
    private long _bytesAccounted;

    /// <summary>Where log lines (corruption, refused features) go; stderr unless a caller redirects it.</summary>
    public static TextWriter DefaultLog { get; set; } = Console.Error;

    private Ext2FileSystem(IBlockDevice device, SuperBlock sb, Geometry geo, GroupDescriptor[] groups, bool readOnly, long cacheBytes, TextWriter log)
    {
        _device = device;
        _image = device.Name;
        _sb = sb;
        _geo = geo;
        _groups = groups;
        _readOnly = readOnly;
        _log = log;
        _cache = new BlockCache(device, geo.BlockSize, sb.BlocksCount, cacheBytes);
        long maxBlocks = Math.Min(geo.MaxFileBlocks, (long)uint.MaxValue * 512 / geo.BlockSize - geo.MaxFileBlocks / geo.PointersPerBlock - 3);
        Capabilities = new FileSystemCapabilities
        {
            ExtendedAttributes = true,
            MaxFileSize = Math.Min(maxBlocks * geo.BlockSize, long.MaxValue),
            MaxNameLength = 255,
            TimeGranularity = geo.InodeSize > 128 ? TimeSpan.FromTicks(1) : TimeSpan.FromSeconds(1),
            ReadOnly = readOnly,
        };
    }

    public FileSystemCapabilities Capabilities { get; }
    public ulong RootNode => RootInode;
    public const uint RootInode = 2;
    public const uint ResizeInode = 7;
    private const int LinkMax = 32000;

    /// <summary>Human-readable reasons the mount came out read-only (unknown ro_compat feature, backup superblock...).</summary>
    public IReadOnlyList<string> MountNotes => _mountNotes;
    private readonly List<string> _mountNotes = [];

    /// <summary>The superblock as mounted (a copy).</summary>
    public SuperBlock SuperBlock { get { lock (_gate) return _sb.Clone(); } }

    /// <summary>Opens an ext2 image. Refuses unknown incompat features; mounts read-only for unknown ro_compat ones.</summary>
    public static Ext2FileSystem Mount(IBlockDevice device, MountOptions options, TextWriter? log = null)
    {
        log ??= DefaultLog;
        var notes = new List<string>();
        var (sb, sbOffset) = ReadSuperBlock(device, log, notes);
        bool readOnly = options.ReadOnly || device.IsReadOnly;
        if (sbOffset != SuperBlock.PrimaryOffset && !readOnly)
        {
            readOnly = true;
            notes.Add($"primary superblock is damaged; mounted read-only from the backup at byte {sbOffset} (run fsck to repair)");
        }
        var unknownIncompat = sb.FeatureIncompat & ~SuperBlock.SupportedIncompat;
        if (unknownIncompat != 0)
            throw new FsException(Errno.EINVAL, $"{device.Name}: cannot mount: unsupported incompatible feature(s): {FeatureNames.Describe(unknownIncompat)}");
        if (sb.HasCompat(CompatFeatures.HasJournal) && !readOnly)
            throw new FsException(Errno.EINVAL, $"{device.Name}: has_journal (ext3) is not supported read-write by the ext2 layout; mount read-only");
        var unknownRo = sb.FeatureRoCompat & ~SuperBlock.SupportedRoCompat;
        if (unknownRo != 0 && !readOnly)
        {
            readOnly = true;
            notes.Add($"unsupported read-only-compatible feature(s) {FeatureNames.Describe(unknownRo)}: mounted read-only");
        }
        var unknownCompat = sb.FeatureCompat & ~SuperBlock.SupportedCompat & ~CompatFeatures.HasJournal;
        if (unknownCompat != 0 && !readOnly)
        {
            readOnly = true;
            notes.Add($"unknown compatible feature(s) {FeatureNames.Describe(unknownCompat)}: mounted read-only");
        }
        var geo = Geometry.From(sb);
        var groups = ReadGroupDescriptors(device, sb, geo, sbOffset, log);
        var fs = new Ext2FileSystem(device, sb, geo, groups, readOnly, options.CacheBytes, log);
        fs._mountNotes.AddRange(notes);
        var root = fs.ReadInode(RootInode);
        if (!root.IsDirectory || root.LinksCount < 2)
            throw fs.Corrupt("root inode", $"inode 2 is not a directory (mode 0{Convert.ToString(root.Mode, 8)}, {root.LinksCount} links)");
        foreach (var n in notes) log.WriteLine($"{device.Name}: ext2: {n}");
        if (!readOnly) fs.StartReadWrite();
        return fs;
    }

    private static (SuperBlock Sb, long Offset) ReadSuperBlock(IBlockDevice device, TextWriter log, List<string> notes)
    {
        var buf = new byte[SuperBlock.Size];
        string? primaryProblem;
        if (device.Length < SuperBlock.PrimaryOffset + SuperBlock.Size)
            throw new FsException(Errno.EINVAL, $"{device.Name}: too small ({device.Length} bytes) to hold an ext2 file system");
        device.Read(SuperBlock.PrimaryOffset, buf);
        var sb = SuperBlock.Read(buf);
        primaryProblem = sb.Validate(device.Length);
        if (primaryProblem == null) return (sb, SuperBlock.PrimaryOffset);
        if (sb.Magic != SuperBlock.MagicValue && !LooksLikeBackupWorthTrying(device))
            throw new FsException(Errno.EINVAL, $"{device.Name}: not an ext2 file system (no superblock magic)");
        log.WriteLine($"{device.Name}: ext2: corrupt superblock at byte 1024: {primaryProblem}; trying backups");
        // Backups sit at the start of groups 1, 3, 5, 7, 9 (sparse_super); blocks per group is 8 x block size by default.
        foreach (int bs in new[] { 1024, 2048, 4096 })
        {
            long first = bs == 1024 ? 1 : 0;
            foreach (int group in new[] { 1, 3, 5, 7, 9 })
            {
                long offset = (first + (long)group * 8 * bs) * bs;
                if (offset + SuperBlock.Size > device.Length) break;
                device.Read(offset, buf);
                var backup = SuperBlock.Read(buf);
                if (backup.Validate(device.Length) == null && backup.BlockSize == bs && backup.BlockGroupNumber == group)
                {
                    notes.Add($"primary superblock invalid ({primaryProblem}); using the backup in group {group}");
                    return (backup, offset);
                }
            }
        }
        throw new FsException(Errno.EUCLEAN, $"{device.Name}: corrupt superblock: {primaryProblem} (no usable backup)");
    }

    private static bool LooksLikeBackupWorthTrying(IBlockDevice device) => device.Length >= 8L * 1024 * 1024 / 8;

    private static GroupDescriptor[] ReadGroupDescriptors(IBlockDevice device, SuperBlock sb, Geometry geo, long sbOffset, TextWriter log)
    {
        int bs = geo.BlockSize;
        long gdtStart = sbOffset == SuperBlock.PrimaryOffset
            ? (long)(sb.FirstDataBlock + 1) * bs
            : sbOffset + bs; // a backup superblock fills its own block (block size >= 1024)
        var raw = new byte[geo.GdtBlocks * bs];
        if (gdtStart + raw.Length > device.Length)
            throw new FsException(Errno.EUCLEAN, $"{device.Name}: corrupt group descriptor table: runs past the device end");
        device.Read(gdtStart, raw);
        var groups = new GroupDescriptor[geo.GroupCount];
        for (int g = 0; g < groups.Length; g++)
        {
            var gd = GroupDescriptor.Read(raw.AsSpan(g * GroupDescriptor.Size));
            uint first = geo.GroupFirstBlock(g), end = first + geo.GroupBlockCount(g);
            bool Inside(uint b, int count) => b >= first && (long)b + count <= end;
            if (!Inside(gd.BlockBitmap, 1) || !Inside(gd.InodeBitmap, 1) || !Inside(gd.InodeTable, geo.InodeTableBlocks))
            {
                string msg = $"group {g}: block bitmap {gd.BlockBitmap}, inode bitmap {gd.InodeBitmap}, inode table {gd.InodeTable} not inside the group [{first}, {end})";
                log.WriteLine($"{device.Name}: ext2: corrupt group descriptor: {msg}");
                throw FsException.Corrupt(device.Name, "group descriptor", msg);
            }
            groups[g] = gd;
        }
        return groups;
    }

    private void StartReadWrite()
    {
        lock (_gate)
        {
            if ((_sb.State & SuperBlock.StateValid) == 0)
                _log.WriteLine($"{_image}: ext2: warning: mounting a file system that was not cleanly unmounted; running fsck is recommended");
            if ((_sb.State & SuperBlock.StateErrors) != 0)
                _log.WriteLine($"{_image}: ext2: warning: mounting a file system with errors; running fsck is recommended");
            _mountState = _sb.State;
            ProcessOrphanList();
            _sb.State = (ushort)(_sb.State & ~SuperBlock.StateValid);
            _sb.MountCount++;
            _sb.MountTime = NowSeconds();
            _superDirty = true;
            FlushAll();
        }
    }

    private static uint NowSeconds() => (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Starts a transaction; the caller holds <see cref="_gate"/>.</summary>
    internal Transaction Begin()
    {
        if (_readOnly) throw new FsException(Errno.EROFS, $"{_image}: mounted read-only");
        if (_disposed) throw new ObjectDisposedException(nameof(Ext2FileSystem));
        if (_spareTransaction is { IsFinished: true } spare)
        {
            spare.Reuse();
            return spare;
        }
        var tx = new Transaction(_cache, AbortTransaction);
        // A transaction begun while another runs (none today) gets its own object and is not kept.
        _spareTransaction ??= tx;
        return tx;
    }

    private Transaction? _spareTransaction;

    private void AbortTransaction(Transaction tx)
    {
        foreach (var (g, before) in tx.GroupsBefore) _groups[g] = before;
        if (tx.SuperBlockBefore != null) _sb = tx.SuperBlockBefore;
        // In-memory directory indexes may describe entries the rollback removed; the orphan map, links it undid.
        _dirIndexes.Clear();
        _orphanPrevious = null;
    }

    /// <summary>Descriptor change inside a transaction.</summary>
    private ref GroupDescriptor Group(Transaction tx, int g)
    {
        tx.TouchGroup(g, _groups[g]);
        _groupsDirty = true;
        return ref _groups[g];
    }

    private SuperBlock SuperForWrite(Transaction tx)
    {
        tx.TouchSuperBlock(_sb);
        _superDirty = true;
        return _sb;
    }

    /// <summary>After each committed operation: keep dirty data bounded by writing back when half the cache is dirty.</summary>
    /// <remarks>Dirty file data goes first and without a flush (data may reach the device any time before the
    /// metadata that points at it, which stays dirty): untarring many small files then costs sorted device writes,
    /// not an ordered four-flush write-back, with the lock held, every few thousand blocks.</remarks>
    private void AfterCommit()
    {
        if (_cache.DirtyCount <= _cache.CapacityBlocks / 2) return;
        _cache.SpillData();
        if (_cache.DirtyCount > _cache.CapacityBlocks / 4) FlushAll();
    }

    /// <summary>Ordered write-back of everything: blocks by phase, then group descriptors' table and the superblock.</summary>
    private void FlushAll()
    {
        if (_readOnly) return;
        if (_groupsDirty)
        {
            int bs = _geo.BlockSize;
            for (int b = 0; b < _geo.GdtBlocks; b++)
            {
                var buf = _cache.GetForWrite(_sb.FirstDataBlock + 1 + (uint)b, BlockKind.Descriptor, fresh: false);
                for (int i = 0; i < _geo.DescriptorsPerBlock; i++)
                {
                    int g = b * _geo.DescriptorsPerBlock + i;
                    if (g >= _groups.Length) break;
                    _groups[g].WriteTo(buf.AsSpan(i * GroupDescriptor.Size, GroupDescriptor.Size));
                }
            }
            _groupsDirty = false;
            _superDirty = true;
        }
        bool writeSuper = _superDirty;
        _cache.WriteBack(beforeFinalFlush: writeSuper ? WriteSuperBlock : null);
        _superDirty = false;
    }

    private void WriteSuperBlock()
    {
        long freeBlocks = 0, freeInodes = 0;
        foreach (var g in _groups) { freeBlocks += g.FreeBlocksCount; freeInodes += g.FreeInodesCount; }
        _sb.FreeBlocksCount = (uint)freeBlocks;
        _sb.FreeInodesCount = (uint)freeInodes;
        _sb.WriteTime = NowSeconds();
        long written = _cache.BytesWritten;
        _sb.KilobytesWritten += (ulong)((written - _bytesAccounted) / 1024);
        _bytesAccounted = written - (written - _bytesAccounted) % 1024;
        var buf = new byte[SuperBlock.Size];
        _sb.WriteTo(buf);
        _cache.WriteRaw(SuperBlock.PrimaryOffset, buf);
    }

    /// <summary>Logs and builds the EUCLEAN error for corrupt metadata.</summary>
    private FsException Corrupt(string structure, string detail)
    {
        _log.WriteLine($"{_image}: ext2: corrupt {structure}: {detail}");
        // As the kernel's ext2_error: remember that the volume has errors, so the next boot-time fsck checks it.
        if (!_readOnly && (_mountState & SuperBlock.StateErrors) == 0)
        {
            _mountState |= SuperBlock.StateErrors;
            _sb.State |= SuperBlock.StateErrors;
            _superDirty = true;
        }
        return FsException.Corrupt(_image, structure, detail);
    }

    /// <summary>Throws EUCLEAN unless <paramref name="block"/> is a valid data-area block number.</summary>
    private void CheckBlock(uint block, string structure, uint inode)
    {
        if (block < _sb.FirstDataBlock || block >= _sb.BlocksCount)
            throw Corrupt(structure, $"inode {inode} points at block {block}, outside [{_sb.FirstDataBlock}, {_sb.BlocksCount})");
    }

    public void SyncFileSystem()
    {
        lock (_gate)
        {
            if (_disposed || _readOnly) return;
            FlushAll();
        }
    }

    public FileSystemStatistics GetStatistics()
    {
        lock (_gate)
        {
            long freeBlocks = 0, freeInodes = 0;
            foreach (var g in _groups) { freeBlocks += g.FreeBlocksCount; freeInodes += g.FreeInodesCount; }
            long overhead = 0;
            for (int g = 0; g < _geo.GroupCount; g++) overhead += _geo.GroupOverhead(g);
            long avail = Math.Max(0, freeBlocks - _sb.ReservedBlocksCount);
            return new FileSystemStatistics(_geo.BlockSize, _sb.BlocksCount - overhead - _sb.FirstDataBlock, freeBlocks, avail,
                _sb.InodesCount, freeInodes, 255);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                if (!_readOnly)
                {
                    ReleaseAllOrphans();
                    FlushAll();
                    // As the kernel: the state found at mount comes back, so an unchecked volume stays marked unchecked.
                    _sb.State = _mountState;
                    _superDirty = true;
                    FlushAll();
                }
            }
            finally
            {
                _disposed = true;
                _device.Dispose();
            }
        }
    }
}
