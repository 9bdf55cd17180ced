using MountFs.Blocks;
using UnixFileMode = MountFs.Vfs.UnixFileMode;
using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>
/// FAT12/16/32 with VFAT long names behind the POSIX-shaped <see cref="IFileSystem"/>. One lock serialises
/// every operation. Node ids are ours (FAT has no inode numbers): each loaded entry gets an id that follows
/// it through renames and stays valid until <see cref="Forget"/> after unlink.
/// </summary>
public sealed class FatFileSystem : IFileSystem
{
    public const long MaxFileSize = uint.MaxValue;
    public const ulong RootId = 1;

    private readonly object _lock = new();
    /// <summary>Held shared by device reads running outside <see cref="_lock"/>; taken exclusively (under the lock) before
    /// clusters are freed or the device is closed.</summary>
    private readonly ReaderWriterLockSlim _readers = new(LockRecursionPolicy.NoRecursion);
    private readonly FatVolume _vol;
    private readonly MountOptions _options;
    private readonly Dictionary<ulong, FatNode> _nodes = [];
    private readonly FatNode _root;
    private readonly Action<string> _log;
    private ulong _nextId = RootId + 1;
    private bool _disposed;

    public FatFileSystem(IBlockDevice device, MountOptions options, TextWriter? log = null)
    {
        var writer = log ?? Console.Error;
        _log = line => { lock (writer) writer.WriteLine(line); };
        _options = options;
        bool readOnly = options.ReadOnly || device.IsReadOnly;
        try
        {
            _vol = new FatVolume(device, readOnly, _log);
        }
        catch
        {
            device.Dispose();
            throw;
        }
        _root = new FatNode
        {
            Id = RootId,
            Name = "/",
            Entry = new ShortDirectoryEntry
            {
                Attributes = FatAttributes.Directory,
                FirstCluster = _vol.Geometry.Type == FatType.Fat32 ? _vol.Geometry.Bpb.RootCluster : 0,
            },
        };
        _nodes[RootId] = _root;
        Capabilities = new FileSystemCapabilities
        {
            HardLinks = false, Symlinks = false, Permissions = false, SpecialFiles = false, ExtendedAttributes = false,
            SparseFiles = false, CaseInsensitive = true, MaxFileSize = MaxFileSize,
            MaxNameLength = FatNameRules.MaxLongNameLength, TimeGranularity = TimeSpan.FromSeconds(2), ReadOnly = readOnly,
        };
        if (!readOnly) _vol.SetDirty(true);
    }

    public FileSystemCapabilities Capabilities { get; }
    public ulong RootNode => RootId;
    public FatType Type => _vol.Geometry.Type;
    internal FatVolume Volume => _vol;

    private uint Uid => _options.Uid ?? 0;
    private uint Gid => _options.Gid ?? 0;
    private uint FileMask => _options.FileMask ?? _options.Umask;
    private uint DirectoryMask => _options.DirectoryMask ?? _options.Umask;

    // ---- plumbing ------------------------------------------------------------------------------

    private T Locked<T>(Func<T> f)
    {
        lock (_lock)
        {
            if (_disposed) throw new FsException(Errno.EIO, "file system is unmounted");
            return f();
        }
    }

    private void Locked(Action f) => Locked(() => { f(); return 0; });

    private FatNode Node(ulong id) =>
        _nodes.TryGetValue(id, out var n) ? n : throw new FsException(Errno.ESTALE, $"unknown node {id}");

    private FatNode Directory(ulong id)
    {
        var n = Node(id);
        if (!n.IsDirectory) throw new FsException(Errno.ENOTDIR);
        if (n.Unlinked) throw new FsException(Errno.ENOENT, "directory was removed");
        EnsureLoaded(n);
        return n;
    }

    private void Writable()
    {
        if (_vol.ReadOnly) throw new FsException(Errno.EROFS);
    }

    private void EnsureLoaded(FatNode dir)
    {
        if (dir.Children != null) return;
        var image = _vol.LoadDirectory(dir);
        var children = new Dictionary<string, FatNode>();
        var shortNames = new HashSet<string>();
        string[]? parts = null;
        int pendingStart = -1, expected = 0;
        byte checksum = 0;
        int deleted = 0, subdirectories = 0;
        for (int i = 0; i < image.EndSlot; i++)
        {
            var s = image.Slot(i);
            if (DirectoryImage.IsFreeSlot(s[0])) { deleted++; parts = null; continue; }
            if (ShortDirectoryEntry.IsLongNameSlot(s))
            {
                var l = LongNameEntry.Parse(s);
                if (l.IsLast && l.Sequence is >= 1 and <= 20)
                {
                    parts = new string[l.Sequence];
                    parts[l.Sequence - 1] = l.Text();
                    expected = l.Sequence - 1;
                    checksum = l.Checksum;
                    pendingStart = i;
                }
                else if (parts != null && !l.IsLast && l.Sequence == expected && expected > 0 && l.Checksum == checksum)
                {
                    parts[expected - 1] = l.Text();
                    expected--;
                }
                else parts = null;
                continue;
            }
            var e = ShortDirectoryEntry.Parse(s);
            var longParts = parts;
            parts = null;
            if ((e.Attributes & FatAttributes.VolumeId) != 0) continue;
            if (e.Name[0] == (byte)'.' && (e.Name.AsSpan(1, 10).SequenceEqual("          "u8) || e.Name.AsSpan(1, 10).SequenceEqual(".         "u8)))
                continue;
            shortNames.Add(ShortKey(e.Name));
            int first = i;
            string name;
            if (longParts != null && expected == 0 && LongNameChecksum.Compute(e.Name) == checksum)
            {
                name = string.Concat(longParts);
                first = pendingStart;
            }
            else name = e.DisplayName();
            if (name.Length == 0 || name.Contains('/') || name.Contains('\0') || name is "." or "..")
            {
                _log($"{_vol.Name}: directory '{dir.Name}' slot {i}: unusable name skipped");
                continue;
            }
            string key = FatNameRules.Key(name);
            if (children.ContainsKey(key))
            {
                _log($"{_vol.Name}: directory '{dir.Name}' slot {i}: duplicate name '{name}' skipped");
                continue;
            }
            var node = new FatNode { Id = _nextId++, Parent = dir, Name = name, Entry = e, Slot = i, FirstSlot = first };
            _nodes[node.Id] = node;
            children[key] = node;
            if (node.IsDirectory) subdirectories++;
        }
        image.DeletedSlots = deleted;
        dir.Image = image;
        dir.ShortNames = shortNames;
        dir.Children = children;
        dir.SubdirectoryCount = subdirectories;
        dir.Listing = null;
        if (!dir.IsRoot || _vol.Geometry.Type == FatType.Fat32) dir.Chain = image.Clusters;
    }

    private static string ShortKey(ReadOnlySpan<byte> name11) => Convert.ToHexString(name11);

    private NodeAttributes Attributes(FatNode n)
    {
        uint mode;
        long size;
        long allocated;
        uint links = 1;
        int cs = _vol.ClusterBytes;
        if (n.IsDirectory)
        {
            mode = UnixFileMode.Directory | 0x1FF & ~DirectoryMask;
            long clusters = n.IsRoot && Type != FatType.Fat32
                ? (_vol.Geometry.RootDirSectors * (long)_vol.Geometry.BytesPerSector + cs - 1) / cs
                : n.Chain?.Count ?? 1;
            size = n.IsRoot && Type != FatType.Fat32 ? _vol.Geometry.RootDirSectors * (long)_vol.Geometry.BytesPerSector : clusters * cs;
            allocated = size;
            links = 2;
            if (n.Children != null) links += (uint)n.SubdirectoryCount;
        }
        else
        {
            mode = UnixFileMode.Regular | 0x1FF & ~FileMask;
            size = n.Entry.FileSize;
            allocated = (size + cs - 1) / cs * cs;
        }
        if ((n.Entry.Attributes & FatAttributes.ReadOnly) != 0) mode &= ~0x92u;
        Timestamp mtime = default, atime = default;
        if (!n.IsRoot)
        {
            mtime = Timestamp.FromDateTime(FatDateTime.Decode(n.Entry.WriteDate, n.Entry.WriteTime));
            atime = n.Entry.AccessDate == 0 ? mtime : Timestamp.FromDateTime(FatDateTime.Decode(n.Entry.AccessDate, 0));
        }
        return new NodeAttributes(n.Id, mode, n.Unlinked ? 0 : links, Uid, Gid, size, allocated / 512, atime, mtime, mtime,
            BlockSize: Math.Max(4096, cs));
    }

    /// <summary>Stores a changed short entry back into its slot.</summary>
    private void Store(FatNode n)
    {
        if (n.IsRoot || n.Unlinked || n.Parent?.Image == null) return;
        n.Entry.WriteTo(n.Parent.Image.Slot(n.Slot));
        n.Parent.Image.MarkDirty(n.Slot);
        _vol.MarkDirectoryDirty(n.Parent);
    }

    private static ShortDirectoryEntry Touch(ShortDirectoryEntry e, DateTime now, bool modified)
    {
        now = FatDateTime.Clamp(now);
        return modified
            ? e with { WriteDate = FatDateTime.EncodeDate(now), WriteTime = FatDateTime.EncodeTime(now), AccessDate = FatDateTime.EncodeDate(now) }
            : e with { AccessDate = FatDateTime.EncodeDate(now) };
    }

    private void TouchDirectory(FatNode dir)
    {
        if (dir.IsRoot) return;
        dir.Entry = Touch(dir.Entry, DateTime.UtcNow, modified: true);
        Store(dir);
    }

    private List<uint> Chain(FatNode n)
    {
        if (n.Chain != null) return n.Chain;
        if (n.IsDirectory) { EnsureLoaded(n); return n.Chain!; }
        long needed = (n.Entry.FileSize + (long)_vol.ClusterBytes - 1) / _vol.ClusterBytes;
        if (n.FirstCluster == 0)
        {
            if (needed > 0) throw _vol.Corrupt("directory entry", $"'{n.Name}' has {n.Entry.FileSize} bytes but no clusters");
            return n.Chain = [];
        }
        var chain = _vol.WalkChain(n.FirstCluster, Math.Max(1, needed), $"file '{n.Name}'");
        if (chain.Count < needed)
            throw _vol.Corrupt("cluster chain", $"file '{n.Name}' has {n.Entry.FileSize} bytes but only {chain.Count} clusters");
        return n.Chain = chain;
    }

    /// <summary>Writes a new set of entries (long-name slots and the short entry) for <paramref name="name"/>.</summary>
    private void AddEntry(FatNode dir, FatNode node, string name, ShortDirectoryEntry template)
    {
        var image = dir.Image!;
        var gen = ShortNameGenerator.Generate(name, sn => dir.ShortNames!.Contains(ShortKey(sn)));
        var entry = template with { Name = gen.ShortName, CaseFlags = gen.CaseFlags };
        var longSlots = gen.NeedsLongName ? LongNameEntry.Build(name, LongNameChecksum.Compute(gen.ShortName)) : [];
        int count = longSlots.Length + 1;
        int start;
        while ((start = image.FindFreeRun(count)) < 0) GrowDirectory(dir);
        for (int i = 0; i < count; i++)
            if (start + i < image.EndSlot && DirectoryImage.IsFreeSlot(image.Slot(start + i)[0])) image.DeletedSlots--;
        for (int i = 0; i < longSlots.Length; i++) { longSlots[i].WriteTo(image.Slot(start + i)); image.MarkDirty(start + i); }
        entry.WriteTo(image.Slot(start + count - 1));
        image.MarkDirty(start + count - 1);
        _vol.MarkDirectoryDirty(dir);
        dir.ShortNames!.Add(ShortKey(gen.ShortName));
        node.Parent = dir;
        node.Name = name;
        node.Entry = entry;
        node.FirstSlot = start;
        node.Slot = start + count - 1;
        dir.Children![FatNameRules.Key(name)] = node;
        if (node.IsDirectory) dir.SubdirectoryCount++;
        dir.Listing = null;
    }

    private void RemoveEntry(FatNode node)
    {
        var dir = node.Parent!;
        var image = dir.Image!;
        for (int i = node.FirstSlot; i <= node.Slot; i++)
        {
            image.Slot(i)[0] = ShortDirectoryEntry.DeletedMarker;
            image.MarkDirty(i);
            image.DeletedSlots++;
        }
        _vol.MarkDirectoryDirty(dir);
        dir.ShortNames!.Remove(ShortKey(node.Entry.Name));
        if (dir.Children!.Remove(FatNameRules.Key(node.Name)) && node.IsDirectory) dir.SubdirectoryCount--;
        dir.Listing = null;
    }

    private void GrowDirectory(FatNode dir)
    {
        var image = dir.Image!;
        if (image.FixedRegion) throw new FsException(Errno.ENOSPC, "the FAT12/16 root directory is full");
        if (image.SlotCount + _vol.ClusterBytes / 32 > DirectoryImage.MaxEntries)
            throw new FsException(Errno.ENOSPC, "a FAT directory holds at most 65536 entries");
        if (_vol.Fat.FreeCount < 1) throw new FsException(Errno.ENOSPC);
        uint last = image.Clusters.Count > 0 ? image.Clusters[^1] : 0;
        uint c = _vol.Fat.Allocate(1, last)[0];
        var zero = new byte[_vol.ClusterBytes];
        _vol.WriteBytes(_vol.Geometry.ClusterOffset(c), zero);
        image.Append(zero, c);
        _vol.MarkDirectoryDirty(dir);
    }

    private void FreeChain(FatNode n)
    {
        if (n.FirstCluster == 0) return;
        List<uint> chain;
        try { chain = n.Chain ?? _vol.WalkChain(n.FirstCluster, _vol.Fat.ClusterCount, $"'{n.Name}'"); }
        catch (FsException) { return; } // A corrupt chain is left for fsck rather than freeing clusters others may own.
        FreeClusters(chain);
        n.Chain = [];
    }

    private FatNode? Find(FatNode dir, string name)
    {
        // Path walks refuse over-long components before looking anything up, as Linux does.
        if (name.Length > FatNameRules.MaxLongNameLength) throw new FsException(Errno.ENAMETOOLONG);
        return dir.Children!.TryGetValue(FatNameRules.Key(name), out var n) ? n : null;
    }

    private ShortDirectoryEntry NewEntry(FatAttributes attributes, uint firstCluster)
    {
        var now = FatDateTime.Clamp(DateTime.UtcNow);
        return new ShortDirectoryEntry
        {
            Attributes = attributes, FirstCluster = firstCluster,
            CreationDate = FatDateTime.EncodeDate(now), CreationTime = FatDateTime.EncodeTime(now), CreationTimeTenth = FatDateTime.EncodeTenth(now),
            WriteDate = FatDateTime.EncodeDate(now), WriteTime = FatDateTime.EncodeTime(now), AccessDate = FatDateTime.EncodeDate(now),
        };
    }

    private FatNode CreateNode(FatNode dir, string name, FatAttributes attributes, uint firstCluster)
    {
        var node = new FatNode { Id = _nextId++ };
        AddEntry(dir, node, name, NewEntry(attributes, firstCluster));
        _nodes[node.Id] = node;
        TouchDirectory(dir);
        return node;
    }

    private void PrepareCreate(FatNode dir, string name)
    {
        Writable();
        FatNameRules.Validate(name);
        if (Find(dir, name) != null) throw new FsException(Errno.EEXIST);
    }

    // ---- IFileSystem --------------------------------------------------------------------------

    public NodeAttributes? Lookup(ulong parent, string name) => Locked(() =>
    {
        var dir = Directory(parent);
        if (name == ".") return Attributes(dir);
        if (name == "..") return Attributes(dir.Parent ?? dir);
        var n = Find(dir, name);
        if (n == null) return null;
        if (n.IsDirectory) EnsureLoaded(n);
        return Attributes(n);
    });

    public void Forget(ulong node) => Locked(() =>
    {
        if (node == RootId || !_nodes.TryGetValue(node, out var n)) return;
        if (n.Unlinked && n.OpenCount == 0) _nodes.Remove(node);
    });

    public NodeAttributes GetAttributes(ulong node) => Locked(() =>
    {
        var n = Node(node);
        if (n.IsDirectory && !n.Unlinked) EnsureLoaded(n);
        return Attributes(n);
    });

    public NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null) => Locked(() =>
    {
        var n = Node(node);
        Writable();
        if (changes.Uid is uint uid && uid != Uid) throw new FsException(Errno.EPERM, "FAT stores no owner");
        if (changes.Gid is uint gid && gid != Gid) throw new FsException(Errno.EPERM, "FAT stores no group");
        if (n.IsRoot)
        {
            if (changes.Size != null) throw new FsException(Errno.EISDIR);
            return Attributes(n);
        }
        var e = n.Entry;
        if (changes.Mode is uint mode)
        {
            // Only the write bits map onto FAT: all of them clear is the read-only attribute.
            e = (mode & 0x92) == 0 ? e with { Attributes = e.Attributes | FatAttributes.ReadOnly }
                                   : e with { Attributes = e.Attributes & ~FatAttributes.ReadOnly };
        }
        n.Entry = e;
        if (changes.Size is long size)
        {
            if (n.IsDirectory) throw new FsException(Errno.EISDIR);
            Resize(n, size);
            n.Entry = Touch(n.Entry, DateTime.UtcNow, modified: true) with { Attributes = n.Entry.Attributes | FatAttributes.Archive };
        }
        if (changes.Mtime is TimeChange mt)
        {
            var t = FatDateTime.Clamp(mt.Resolve().ToDateTime());
            n.Entry = n.Entry with { WriteDate = FatDateTime.EncodeDate(t), WriteTime = FatDateTime.EncodeTime(t) };
        }
        if (changes.Atime is TimeChange at)
        {
            var t = FatDateTime.Clamp(at.Resolve().ToDateTime());
            n.Entry = n.Entry with { AccessDate = FatDateTime.EncodeDate(t) };
        }
        Store(n);
        return Attributes(n);
    });

    private void Resize(FatNode n, long size)
    {
        if (size < 0) throw new FsException(Errno.EINVAL);
        if (size > MaxFileSize) throw new FsException(Errno.EFBIG);
        long old = n.Entry.FileSize;
        if (size == old) return;
        var chain = Chain(n);
        int cs = _vol.ClusterBytes;
        int needed = (int)((size + cs - 1) / cs);
        if (size > old)
        {
            EnsureClusters(n, needed);
            ZeroRange(n, old, size - old);
        }
        else if (needed < chain.Count)
        {
            var tail = chain.GetRange(needed, chain.Count - needed);
            if (needed == 0) n.Entry = n.Entry with { FirstCluster = 0 };
            else _vol.Fat.Set(chain[needed - 1], _vol.Fat.EndOfChain);
            FreeClusters(tail);
            chain.RemoveRange(needed, chain.Count - needed);
        }
        n.Entry = n.Entry with { FileSize = (uint)size };
    }

    private void EnsureClusters(FatNode n, int needed)
    {
        var chain = Chain(n);
        int missing = needed - chain.Count;
        if (missing <= 0) return;
        if (missing > _vol.Fat.FreeCount) throw new FsException(Errno.ENOSPC);
        uint last = chain.Count > 0 ? chain[^1] : 0;
        var added = _vol.Fat.Allocate(missing, last);
        if (chain.Count == 0) n.Entry = n.Entry with { FirstCluster = added[0] };
        chain.AddRange(added);
    }

    private void ZeroRange(FatNode n, long offset, long length)
    {
        var zeros = new byte[Math.Min(length, 1 << 20)];
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, zeros.Length);
            // Zeroing always extends the file (growth or the gap before a write past the end): nothing after it is data.
            WriteData(n, offset, zeros.AsSpan(0, chunk), pastEnd: true);
            offset += chunk;
            length -= chunk;
        }
    }

    /// <param name="pastEnd">True when nothing after the range is file data (the write reaches the end of the file),
    /// so the rest of its last sector need not be read back first.</param>
    private void WriteData(FatNode n, long offset, ReadOnlySpan<byte> data, bool pastEnd)
    {
        var extents = Extents(n.Chain!, offset, data.Length, stackalloc Extent[StackExtents]);
        for (int i = 0; i < extents.Length; i++)
        {
            _vol.WriteBytes(extents[i].DeviceOffset, data.Slice(extents[i].BufferOffset, extents[i].Length),
                tailFree: pastEnd && i == extents.Length - 1);
            _vol.NoteDataWritten(extents[i].DeviceOffset, extents[i].Length);
        }
    }

    public string ReadLink(ulong node) => throw new FsException(Errno.EINVAL, "FAT has no symbolic links");

    public NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner) =>
        throw new FsException(Errno.EPERM, "FAT cannot store symbolic links");

    public NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner)
    {
        uint type = UnixFileMode.TypeOf(mode);
        if (type != UnixFileMode.Regular && type != 0) throw new FsException(Errno.EPERM, "FAT cannot store device nodes, FIFOs or sockets");
        return Locked(() =>
        {
            var dir = Directory(parent);
            PrepareCreate(dir, name);
            var n = CreateNode(dir, name, FatAttributes.Archive | ((mode & 0x92) == 0 ? FatAttributes.ReadOnly : 0), 0);
            n.Chain = [];
            return Attributes(n);
        });
    }

    public NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner) => Locked(() =>
    {
        var dir = Directory(parent);
        PrepareCreate(dir, name);
        if (_vol.Fat.FreeCount < 1) throw new FsException(Errno.ENOSPC);
        uint c = _vol.Fat.Allocate(1, 0)[0];
        var dot = NewEntry(FatAttributes.Directory, c) with { Name = ShortNameGenerator.Pack(".", "") };
        var dotdot = dot with { Name = ShortNameGenerator.Pack("..", ""), FirstCluster = dir.IsRoot ? 0 : dir.FirstCluster };
        var data = new byte[_vol.ClusterBytes];
        dot.WriteTo(data.AsSpan(0, 32));
        dotdot.WriteTo(data.AsSpan(32, 32));
        // The new directory's cluster goes out with the file data, ahead of the FAT and the parent's entry.
        _vol.WriteBytes(_vol.Geometry.ClusterOffset(c), data);
        FatNode n;
        try { n = CreateNode(dir, name, FatAttributes.Directory, c); }
        catch { _vol.Fat.Free([c]); throw; }
        n.Entry = n.Entry with { CreationDate = dot.CreationDate, CreationTime = dot.CreationTime };
        n.Image = new DirectoryImage(data, [c], _vol.Geometry.BytesPerSector, fixedRegion: false);
        n.Chain = n.Image.Clusters;
        n.Children = [];
        n.ShortNames = [];
        return Attributes(n);
    });

    public void Unlink(ulong parent, string name) => Locked(() =>
    {
        var dir = Directory(parent);
        Writable();
        var n = Find(dir, name) ?? throw new FsException(Errno.ENOENT);
        if (n.IsDirectory) throw new FsException(Errno.EISDIR);
        Detach(n);
        TouchDirectory(dir);
    });

    private void Detach(FatNode n)
    {
        RemoveEntry(n);
        n.Unlinked = true;
        if (n.OpenCount == 0) FreeChain(n);
        if (n.IsDirectory) _vol.ForgetDirectory(n);
    }

    public void RemoveDirectory(ulong parent, string name) => Locked(() =>
    {
        var dir = Directory(parent);
        Writable();
        var n = Find(dir, name) ?? throw new FsException(Errno.ENOENT);
        if (!n.IsDirectory) throw new FsException(Errno.ENOTDIR);
        EnsureLoaded(n);
        if (n.Children!.Count > 0) throw new FsException(Errno.ENOTEMPTY);
        Detach(n);
        TouchDirectory(dir);
    });

    public void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None) => Locked(() =>
    {
        var from = Directory(parent);
        var to = Directory(newParent);
        Writable();
        if ((flags & RenameFlags.Whiteout) != 0) throw new FsException(Errno.EINVAL, "FAT has no whiteouts");
        if (newName.Length > FatNameRules.MaxLongNameLength) throw new FsException(Errno.ENAMETOOLONG);
        var src = Find(from, name) ?? throw new FsException(Errno.ENOENT);
        var dst = Find(to, newName);
        FatNameRules.Validate(newName);
        // The order of the checks is Linux's (do_renameat2): flags against the target first, then ancestry.
        if ((flags & RenameFlags.NoReplace) != 0 && dst != null) throw new FsException(Errno.EEXIST);
        if ((flags & RenameFlags.Exchange) != 0 && dst == null) throw new FsException(Errno.ENOENT);
        if (src.IsDirectory)
            for (var p = to; p != null; p = p.Parent)
                if (p == src) throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        if (dst != null && dst != src && dst.IsDirectory)
            for (var p = from; p != null; p = p.Parent)
                if (p == dst)
                    throw (flags & RenameFlags.Exchange) != 0
                        ? new FsException(Errno.EINVAL, "cannot move a directory into itself")
                        : new FsException(Errno.ENOTEMPTY, "the target is an ancestor of the source");
        if ((flags & RenameFlags.Exchange) != 0)
        {
            if (dst == null) throw new FsException(Errno.ENOENT);
            if (dst == src) return;
            // The names stay where they are (with their stored case); the nodes behind them swap.
            string srcName = src.Name, dstName = dst.Name;
            RemoveEntry(src);
            RemoveEntry(dst);
            AddEntry(to, src, dstName, src.Entry);
            AddEntry(from, dst, srcName, dst.Entry);
            FixDotDot(src, to);
            FixDotDot(dst, from);
            TouchDirectory(from);
            if (to != from) TouchDirectory(to);
            return;
        }
        if (dst != null && dst != src)
        {
            if ((flags & RenameFlags.NoReplace) != 0) throw new FsException(Errno.EEXIST);
            if (src.IsDirectory && !dst.IsDirectory) throw new FsException(Errno.ENOTDIR);
            if (!src.IsDirectory && dst.IsDirectory) throw new FsException(Errno.EISDIR);
            if (dst.IsDirectory)
            {
                EnsureLoaded(dst);
                if (dst.Children!.Count > 0) throw new FsException(Errno.ENOTEMPTY);
            }
        }
        else if (dst == src)
        {
            if ((flags & RenameFlags.NoReplace) != 0) throw new FsException(Errno.EEXIST);
            if (from == to && src.Name == newName) return;
        }
        var entry = src.Entry;
        RemoveEntry(src);
        if (dst != null && dst != src) Detach(dst);
        try { AddEntry(to, src, newName, entry); }
        catch
        {
            AddEntry(from, src, src.Name, entry);
            throw;
        }
        FixDotDot(src, to);
        TouchDirectory(from);
        if (to != from) TouchDirectory(to);
    });

    private void FixDotDot(FatNode n, FatNode newParent)
    {
        if (!n.IsDirectory) return;
        EnsureLoaded(n);
        var image = n.Image!;
        if (image.SlotCount < 2) return;
        var slot = image.Slot(1);
        if (slot[0] != (byte)'.' || slot[1] != (byte)'.') return;
        var e = ShortDirectoryEntry.Parse(slot) with { FirstCluster = newParent.IsRoot ? 0 : newParent.FirstCluster };
        e.WriteTo(slot);
        image.MarkDirty(1);
        _vol.MarkDirectoryDirty(n);
    }

    public NodeAttributes Link(ulong node, ulong newParent, string newName) =>
        throw new FsException(Errno.EPERM, "FAT cannot store hard links");

    public ulong Open(ulong node, OpenFlags flags) => Locked(() =>
    {
        var n = Node(node);
        if ((flags & OpenFlags.AccessMask) != OpenFlags.ReadOnly)
        {
            Writable();
            if (n.IsDirectory) throw new FsException(Errno.EISDIR);
        }
        n.OpenCount++;
        return n.Id;
    });

    public (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner) => Locked(() =>
    {
        var dir = Directory(parent);
        PrepareCreate(dir, name);
        var n = CreateNode(dir, name, FatAttributes.Archive | ((mode & 0x92) == 0 ? FatAttributes.ReadOnly : 0), 0);
        n.Chain = [];
        n.OpenCount++;
        return (Attributes(n), n.Id);
    });

    public int Read(ulong node, ulong handle, long offset, Span<byte> buffer)
    {
        // The clusters are looked up under the lock; the device reads happen outside it (straight into the caller's
        // buffer), so a read waiting on a cold disk holds up neither other reads nor metadata operations.
        Span<Extent> extents = stackalloc Extent[StackExtents];
        int length;
        lock (_lock)
        {
            if (_disposed) throw new FsException(Errno.EIO, "file system is unmounted");
            var n = Node(node);
            if (n.IsDirectory) throw new FsException(Errno.EISDIR);
            if (offset < 0) throw new FsException(Errno.EINVAL);
            long size = n.Entry.FileSize;
            if (offset >= size || buffer.IsEmpty) return 0;
            length = (int)Math.Min(buffer.Length, size - offset);
            extents = Extents(Chain(n), offset, length, extents);
            _readers.EnterReadLock();
        }
        try
        {
            for (int i = 0; i < extents.Length; i++)
                _vol.ReadBytes(extents[i].DeviceOffset, buffer.Slice(extents[i].BufferOffset, extents[i].Length));
        }
        finally { _readers.ExitReadLock(); }
        return length;
    }

    private const int StackExtents = 16;

    /// <summary>A piece of a read or write: where on the device, and where in the caller's buffer.</summary>
    private readonly record struct Extent(long DeviceOffset, int BufferOffset, int Length);

    /// <summary>Splits a file range into device extents (one per run of adjacent clusters), in
    /// <paramref name="room"/> when they fit.</summary>
    private Span<Extent> Extents(List<uint> chain, long offset, int length, Span<Extent> room)
    {
        int count = MapExtents(chain, offset, length, room);
        if (count >= 0) return room[..count];
        // Too fragmented for the room given: one extent per cluster the range touches is always enough.
        var heap = new Extent[length / _vol.ClusterBytes + 2];
        return heap.AsSpan(0, MapExtents(chain, offset, length, heap));
    }

    /// <summary>Fills <paramref name="extents"/> with the file range's device extents (one per run of adjacent
    /// clusters); -1 when there are more than it holds.</summary>
    private int MapExtents(List<uint> chain, long offset, int length, Span<Extent> extents)
    {
        int cs = _vol.ClusterBytes;
        int firstIndex = (int)(offset / cs), lastIndex = (int)((offset + length - 1) / cs);
        int done = 0, count = 0;
        foreach (var (index, cluster, run) in FatVolume.Runs(chain, firstIndex, lastIndex + 1))
        {
            if (count == extents.Length) return -1;
            long runStart = (long)index * cs;
            long from = Math.Max(offset + done, runStart);
            long to = Math.Min(offset + length, runStart + (long)run * cs);
            extents[count++] = new Extent(_vol.Geometry.ClusterOffset(cluster) + (from - runStart), done, (int)(to - from));
            done += (int)(to - from);
        }
        return count;
    }

    /// <summary>Waits (holding the lock, so no new read can start) until no device read runs outside the lock:
    /// clusters freed now may be handed to another file, and a read still in flight must not return its data.</summary>
    private void WaitForReads()
    {
        _readers.EnterWriteLock();
        _readers.ExitWriteLock();
    }

    private void FreeClusters(IEnumerable<uint> clusters)
    {
        WaitForReads();
        _vol.Fat.Free(clusters);
    }

    public int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data)
    {
        // An explicit lock rather than Locked(...): a lambda cannot capture the span, and copying it out costs a
        // large-object allocation per 1 MiB request.
        long writeBackOffset, writeBackLength;
        lock (_lock)
        {
            if (_disposed) throw new FsException(Errno.EIO, "file system is unmounted");
            var n = Node(node);
            Writable();
            if (n.IsDirectory) throw new FsException(Errno.EISDIR);
            if (offset < 0) throw new FsException(Errno.EINVAL);
            if (data.Length == 0) return 0;
            long end = offset + data.Length;
            if (end > MaxFileSize) throw new FsException(Errno.EFBIG, "FAT files end at 4 GiB - 1");
            long old = n.Entry.FileSize;
            int cs = _vol.ClusterBytes;
            EnsureClusters(n, (int)((end + cs - 1) / cs));
            if (offset > old) ZeroRange(n, old, offset - old);
            WriteData(n, offset, data, pastEnd: end >= old);
            var now = DateTime.UtcNow;
            n.Entry = Touch(n.Entry, now, modified: true) with
            {
                FileSize = (uint)Math.Max(old, end),
                Attributes = n.Entry.Attributes | FatAttributes.Archive,
            };
            Store(n);
            if (!_vol.TakeWriteBack(out writeBackOffset, out writeBackLength)) return data.Length;
            _readers.EnterReadLock();
        }
        // Once a few writes' worth of data has piled up (one large write, or a run of small files) it is sent on to the
        // disk, outside the lock: it would otherwise sit in the image's page cache until fsync or unmount and be
        // written then, all of it while the caller waits, instead of alongside the writes still coming.
        try { _vol.StartWriteBack(writeBackOffset, writeBackLength); }
        finally { _readers.ExitReadLock(); }
        return data.Length;
    }

    public void Flush(ulong node, ulong handle) { }

    public void Release(ulong node, ulong handle) => Locked(() =>
    {
        if (!_nodes.TryGetValue(node, out var n)) return;
        if (n.OpenCount > 0) n.OpenCount--;
        if (n.OpenCount == 0 && n.Unlinked && !_vol.ReadOnly) FreeChain(n);
    });

    public void Fsync(ulong node, ulong handle, bool dataOnly) => Locked(() => _vol.Flush());

    public ulong OpenDirectory(ulong node) => Locked(() =>
    {
        var n = Node(node);
        if (!n.IsDirectory) throw new FsException(Errno.ENOTDIR);
        if (!n.Unlinked) EnsureLoaded(n);
        return n.Id;
    });

    public void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor)
    {
        byte dirType = UnixFileMode.DirectoryEntryType(UnixFileMode.Directory);
        DirectoryEntry dot, dotdot;
        DirectoryEntry[] listing;
        lock (_lock)
        {
            if (_disposed) throw new FsException(Errno.EIO, "file system is unmounted");
            var removed = Node(node);
            if (removed.IsDirectory && removed.Unlinked)
            {
                // A removed directory lists only its dots, as Linux shows it through a descriptor kept open.
                dot = new DirectoryEntry(".", removed.Id, dirType, 1);
                dotdot = new DirectoryEntry("..", removed.Id, dirType, 2);
                listing = [];
            }
            else
            {
                var dir = Directory(node);
                dot = new DirectoryEntry(".", dir.Id, dirType, 1);
                dotdot = new DirectoryEntry("..", (dir.Parent ?? dir).Id, dirType, 2);
                listing = dir.Listing ??= BuildListing(dir);
            }
        }
        // Walked outside the lock: the array is a snapshot nobody modifies, and the visitor may take its time.
        if (offset < 1 && !visitor(dot)) return;
        if (offset < 2 && !visitor(dotdot)) return;
        for (int i = FirstListed(listing, offset); i < listing.Length; i++)
            if (!visitor(listing[i])) return;
    }

    private static DirectoryEntry[] BuildListing(FatNode dir)
    {
        // Cookie = slot + 3: slots only move on rename (a new cookie), so a resumed listing neither repeats nor skips.
        var listing = new DirectoryEntry[dir.Children!.Count];
        int i = 0;
        foreach (var c in dir.Children.Values)
            listing[i++] = new DirectoryEntry(c.Name, c.Id,
                UnixFileMode.DirectoryEntryType(c.IsDirectory ? UnixFileMode.Directory : UnixFileMode.Regular), c.Slot + 3);
        Array.Sort(listing, (a, b) => a.NextOffset.CompareTo(b.NextOffset));
        return listing;
    }

    /// <summary>Index of the first entry whose cookie is past <paramref name="offset"/>.</summary>
    private static int FirstListed(DirectoryEntry[] listing, long offset)
    {
        int lo = 0, hi = listing.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (listing[mid].NextOffset > offset) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    public void ReleaseDirectory(ulong node, ulong handle) { }

    public void FsyncDirectory(ulong node, ulong handle, bool dataOnly) => Locked(() => _vol.Flush());

    public FileSystemStatistics GetStatistics() => Locked(() =>
    {
        var fat = _vol.Fat;
        return new FileSystemStatistics(_vol.ClusterBytes, fat.ClusterCount, fat.FreeCount, fat.FreeCount, 0, 0,
            FatNameRules.MaxLongNameLength);
    });

    public void Access(ulong node, AccessMode mode, Credentials who) => Locked(() =>
    {
        var a = Attributes(Node(node));
        if ((mode & AccessMode.Write) != 0 && _vol.ReadOnly) throw new FsException(Errno.EROFS);
        if (who.Uid == 0)
        {
            if ((mode & AccessMode.Execute) != 0 && !a.IsDirectory && (a.Mode & 0x49) == 0) throw new FsException(Errno.EACCES);
            return;
        }
        uint bits = who.Uid == a.Uid ? a.Mode >> 6 & 7 : who.Gid == a.Gid ? a.Mode >> 3 & 7 : a.Mode & 7;
        if (((uint)mode & ~bits & 7) != 0) throw new FsException(Errno.EACCES);
    });

    public void SyncFileSystem() => Locked(() => _vol.Flush());

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            try
            {
                if (!_vol.ReadOnly)
                {
                    foreach (var n in _nodes.Values.Where(n => n.Unlinked && n.OpenCount > 0).ToList()) FreeChain(n);
                    _vol.Flush();
                    _vol.SetDirty(false);
                }
            }
            catch (FsException e)
            {
                _log($"{_vol.Name}: unmount could not write everything back: {e.Message}");
            }
            finally
            {
                _disposed = true;
                WaitForReads();
                _vol.DisposeDevice();
            }
        }
    }
}
