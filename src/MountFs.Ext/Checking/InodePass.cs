using System.Buffers.Binary;

namespace MountFs.Ext.Checking;

/// <summary>
/// Pass 1: every inode in every inode table. An inode is in use when its link count is non-zero (as e2fsck decides;
/// the bitmap is only compared in pass 5). Checks mode, flags, sizes, i_blocks, symlinks, devices, the extended
/// attribute block and every block pointer; builds the map of used blocks (metadata first), notes blocks claimed
/// twice for <see cref="DuplicateBlockPass"/>, and records each directory's blocks for pass 2.
/// </summary>
internal static class InodePass
{
    private const int MaxIllegalBlocks = 12;
    private const uint ExtAttrMagic = 0xEA020000;

    public static void Run(CheckSession s)
    {
        s.Say("Pass 1: Checking inodes, blocks, and sizes");
        MarkMetadata(s);
        var walker = new BlockTreeWalker(s.Disk, s.Geo.FirstDataBlock);
        var xattrRefs = new Dictionary<uint, int>();
        var pointers = new PointerCollector(s, walker);
        var geo = s.Geo;
        // One buffer for every group's table: a whole table per read, without a fresh large array per group.
        byte[] table = new byte[(long)geo.InodeTableBlocks * geo.BlockSize];
        // Tables (and the bitmaps pass 5 reads) are announced to the disk a window ahead of the scan; the window
        // is bounded so a large volume's tables do not push each other out of the page cache before their turn.
        int window = (int)Math.Clamp(TableWindowBytes / table.Length, 1, geo.GroupCount);
        int announced = 0;
        var prefetch = new List<uint>();
        for (int g = 0; g < geo.GroupCount; g++)
        {
            for (; announced < Math.Min(geo.GroupCount, g + window); announced++)
            {
                var d = s.Groups[announced];
                s.Disk.Prefetch(d.InodeTable, geo.InodeTableBlocks);
                s.Disk.Prefetch(d.BlockBitmap, 1);
                s.Disk.Prefetch(d.InodeBitmap, 1);
            }
            s.Disk.ReadRange(s.Groups[g].InodeTable, geo.InodeTableBlocks, table);
            PrefetchPointedBlocks(s, g, table, prefetch);
            for (int i = 0; i < geo.InodesPerGroup; i++)
            {
                uint ino = (uint)g * geo.InodesPerGroup + (uint)i + 1;
                var raw = table.AsSpan(i * geo.InodeSize, geo.InodeSize);
                if (ino >= s.Sb.FirstInode && IsPlainlyFree(raw)) continue;
                var inode = Inode.Read(raw);
                s.LinksStored[ino] = inode.LinksCount;
                CheckInode(s, ino, inode, walker, xattrRefs, pointers);
            }
        }
        ResizeInode.Check(s);
        CheckAttributeRefcounts(s, xattrRefs);
    }

    private const int TableWindowBytes = 16 << 20;
    private const int BlockPointersOffset = 40;

    /// <summary>
    /// Announces the blocks the scan of group <paramref name="g"/> is about to read one at a time: every indirect
    /// block an inode points at directly, and directories' direct blocks (read again by pass 2). Pointers are
    /// taken raw from the table, before any check; a garbage one costs at most a wasted read-ahead.
    /// </summary>
    private static void PrefetchPointedBlocks(CheckSession s, int g, byte[] table, List<uint> prefetch)
    {
        var geo = s.Geo;
        prefetch.Clear();
        for (int i = 0; i < geo.InodesPerGroup; i++)
        {
            var raw = table.AsSpan(i * geo.InodeSize, geo.InodeSize);
            if (BinaryPrimitives.ReadUInt16LittleEndian(raw[26..]) == 0) continue;
            uint type = BinaryPrimitives.ReadUInt16LittleEndian(raw) & 0xF000u;
            if (type is not (0x4000 or 0x8000)) continue;
            var pointers = raw.Slice(BlockPointersOffset, Inode.BlockPointers * 4);
            for (int p = type == 0x4000 ? 0 : Inode.SingleIndirect; p < Inode.BlockPointers; p++)
            {
                uint block = BinaryPrimitives.ReadUInt32LittleEndian(pointers[(p * 4)..]);
                if (block != 0) prefetch.Add(block);
            }
        }
        s.Disk.Prefetch(prefetch);
    }

    /// <summary>i_size with all 64 bits (the record's Size drops bit 63, which garbage may set).</summary>
    private static ulong RawSize(Inode inode) => (ulong)inode.SizeHigh << 32 | inode.SizeLow;

    /// <summary>No links, and either never used (mode 0) or deleted with a real dtime: nothing for pass 1 to look at.
    /// Tested on the raw bytes so the common case of a mostly empty inode table allocates nothing.</summary>
    private static bool IsPlainlyFree(ReadOnlySpan<byte> raw)
    {
        if (BinaryPrimitives.ReadUInt16LittleEndian(raw[26..]) != 0) return false;
        ushort mode = BinaryPrimitives.ReadUInt16LittleEndian(raw);
        uint dtime = BinaryPrimitives.ReadUInt32LittleEndian(raw[20..]);
        return mode == 0 ? dtime == 0 : dtime >= 1u << 28;
    }

    /// <summary>Superblock copies, descriptor tables, reserved GDT blocks, bitmaps and inode tables.</summary>
    private static void MarkMetadata(CheckSession s)
    {
        var geo = s.Geo;
        void Mark(uint b)
        {
            if (b >= geo.BlocksCount) return;
            s.Metadata[(int)b] = true;
            s.BlockUsed[(int)b] = true;
        }
        for (int g = 0; g < geo.GroupCount; g++)
        {
            uint first = geo.GroupFirstBlock(g);
            for (int i = 0; i < geo.SuperBlockOverhead(g); i++) Mark(first + (uint)i);
            var d = s.Groups[g];
            Mark(d.BlockBitmap);
            Mark(d.InodeBitmap);
            for (int i = 0; i < geo.InodeTableBlocks; i++) Mark(d.InodeTable + (uint)i);
        }
    }

    /// <summary>Marks a block used; a second claim on it is recorded for pass 1B.</summary>
    private static void Claim(CheckSession s, uint block)
    {
        if (!s.BlockUsed[(int)block])
        {
            s.BlockUsed[(int)block] = true;
            return;
        }
        s.DuplicateClaims[block] = s.DuplicateClaims.TryGetValue(block, out int n) ? n + 1 : 2;
    }

    /// <summary>
    /// Pass 1's visitor of one inode's block pointers: validates each pointer and collects the claims, the highest
    /// logical block and a directory's block list. One instance (and one delegate) serves every inode, so the scan
    /// allocates nothing per inode for it.
    /// </summary>
    private sealed class PointerCollector
    {
        private readonly CheckSession _s;
        private readonly BlockTreeWalker _walker;
        private readonly long _maxDirBlocks;
        private readonly HashSet<uint> _seenIndirect = [];
        private uint _ino, _type;
        private bool _isDir;

        public PointerCollector(CheckSession s, BlockTreeWalker walker)
        {
            _s = s;
            _walker = walker;
            _maxDirBlocks = 1L << (21 - (int)s.Sb.LogBlockSize);
            Visit = VisitPointer;
        }

        public Func<BlockPointer, uint> Visit { get; }
        public List<uint> Claims { get; } = [];
        /// <summary>Physical block per logical block of a directory (0: hole); the walk meets data blocks in logical order.</summary>
        public List<uint> DirBlocks { get; } = [];
        public int DataCount { get; private set; }
        public int Illegal { get; private set; }
        public long LastLogical { get; private set; }

        public void Begin(uint ino, uint type, bool isDir)
        {
            _ino = ino;
            _type = type;
            _isDir = isDir;
            Claims.Clear();
            DirBlocks.Clear();
            _seenIndirect.Clear();
            DataCount = 0;
            Illegal = 0;
            LastLogical = -1;
        }

        private uint VisitPointer(BlockPointer p)
        {
            var s = _s;
            string? why = null;
            if (p.Block < s.Geo.FirstDataBlock || p.Block >= s.Geo.BlocksCount) why = "outside the file system";
            else if (s.Metadata[(int)p.Block]) why = "inside file-system metadata";
            else if (p.Level != PointerLevel.Data && !_seenIndirect.Add(p.Block)) why = "an indirect block used twice by the inode";
            else if (p.Level == PointerLevel.Data && _isDir && p.Logical >= _maxDirBlocks) why = "past the largest directory size";
            else if (_type == 0xA000 && p.Logical > 0) why = "past a symlink's only block";
            if (why != null)
            {
                if (++Illegal > MaxIllegalBlocks)
                {
                    _walker.Stop = true;
                    return p.Block;
                }
                s.Fix($"Illegal block #{p.Logical} ({p.Block}, {p.Level}) in inode {_ino}: {why}; cleared.");
                return 0;
            }
            Claims.Add(p.Block);
            if (p.Level == PointerLevel.Data)
            {
                DataCount++;
                LastLogical = Math.Max(LastLogical, p.Logical);
                if (_isDir)
                {
                    // Bounded by the directory size limit above.
                    while (DirBlocks.Count <= p.Logical) DirBlocks.Add(0);
                    DirBlocks[(int)p.Logical] = p.Block;
                }
            }
            return p.Block;
        }
    }

    private static void CheckInode(CheckSession s, uint ino, Inode inode, BlockTreeWalker walker, Dictionary<uint, int> xattrRefs, PointerCollector pointers)
    {
        var sb = s.Sb;
        // A dtime below the inode count looks like an orphan-list link the orphan pass never reached.
        bool lowDtimeCheck = !(sb.MkfsTime != 0 && sb.MkfsTime < sb.InodesCount);
        if (inode.Dtime != 0 && lowDtimeCheck && inode.Dtime < sb.InodesCount)
        {
            s.Fix($"Inode {ino} was part of the orphaned inode list.", preenSafe: true);
            inode.Dtime = inode.LinksCount != 0 ? 0 : s.Now;
            s.WriteInode(ino, inode);
        }
        if (ino < sb.FirstInode && ino != 2)
        {
            CheckReservedInode(s, ino, inode, walker, xattrRefs);
            return;
        }
        if (inode.LinksCount == 0)
        {
            if (inode.Dtime == 0 && inode.Mode != 0 && ino >= sb.FirstInode)
            {
                s.Fix($"Deleted inode {ino} has zero dtime.", preenSafe: true);
                inode.Dtime = s.Now;
                s.WriteInode(ino, inode);
            }
            return;
        }
        bool dirty = false;
        if (ino == 2 && !inode.IsDirectory)
        {
            s.Fix($"Root inode is not a directory (mode 0{Convert.ToString(inode.Mode, 8)}); clearing it.");
            s.ClearInode(ino, inode);
            return;
        }
        if (inode.Dtime != 0)
        {
            s.Fix($"Inode {ino} is in use, but has dtime set.", preenSafe: true);
            inode.Dtime = 0;
            dirty = true;
        }
        if ((inode.Flags & (Inode.ExtentsFlag | Inode.InlineDataFlag)) != 0)
        {
            s.Fix($"Inode {ino} has the extents or inline-data flag set on a file system without those features; clearing the inode.");
            s.ClearInode(ino, inode);
            return;
        }
        if ((inode.Flags & Inode.IndexFlag) != 0 && (!inode.IsDirectory || !sb.HasCompat(CompatFeatures.DirIndex)))
        {
            s.Fix($"Inode {ino} has INDEX_FL set but is not an indexed directory; clearing the flag.", preenSafe: true);
            inode.Flags &= ~Inode.IndexFlag;
            dirty = true;
        }
        dirty |= CheckCommonFields(s, ino, inode);
        if (inode.FileAclHigh != 0)
        {
            s.Fix($"i_file_acl_hi for inode {ino} is {inode.FileAclHigh}, should be zero.", preenSafe: true);
            inode.FileAclHigh = 0;
            dirty = true;
        }
        if (inode.FragmentAddress != 0)
        {
            s.Fix($"i_faddr for inode {ino} is {inode.FragmentAddress}, should be zero.", preenSafe: true);
            inode.FragmentAddress = 0;
            dirty = true;
        }
        if (inode.IsDirectory && inode.SizeHigh != 0)
        {
            s.Fix($"i_size_high for directory inode {ino} is {inode.SizeHigh}, should be zero.", preenSafe: true);
            inode.SizeHigh = 0;
            dirty = true;
        }

        uint type = inode.FileType;
        bool isSpecial = type is 0x2000 or 0x6000 or 0x1000 or 0xC000;
        bool walk;
        if (type is 0x4000 or 0x8000) walk = true;
        else if (type == 0xA000)
        {
            string? why = SymlinkProblem(s, inode);
            if (why != null)
            {
                s.Fix($"Symlink inode {ino} is invalid ({why}); clearing it.");
                s.ClearInode(ino, inode);
                return;
            }
            walk = inode.Size >= Inode.FastSymlinkMax;
        }
        else if (isSpecial)
        {
            for (int i = 4; i < Inode.BlockPointers; i++)
            {
                if (inode.Block(i) == 0) continue;
                s.Fix($"Special file inode {ino} has block pointers set; clearing the inode.");
                s.ClearInode(ino, inode);
                return;
            }
            if (RawSize(inode) != 0)
            {
                s.Fix($"Special (device/socket/fifo) inode {ino} has non-zero size {RawSize(inode)}.", preenSafe: true);
                inode.Size = 0;
                dirty = true;
            }
            walk = false;
        }
        else
        {
            s.Fix($"Inode {ino} has an invalid mode (0{Convert.ToString(inode.Mode, 8)}); clearing it.");
            s.ClearInode(ino, inode);
            return;
        }
        if ((isSpecial || type == 0xA000) && (inode.Flags & (Inode.ImmutableFlag | Inode.AppendFlag)) != 0)
        {
            s.Fix($"Special inode {ino} has the immutable or append-only flag set.", preenSafe: true);
            inode.Flags &= ~(Inode.ImmutableFlag | Inode.AppendFlag);
            dirty = true;
        }

        // Block pointers: collected first, committed to the used map only if the inode survives.
        bool isDir = inode.IsDirectory;
        pointers.Begin(ino, type, isDir);
        if (walk) walker.Walk(inode, pointers.Visit);
        var claims = pointers.Claims;
        var dirBlocks = pointers.DirBlocks;
        int dataCount = pointers.DataCount;
        long lastLogical = pointers.LastLogical;
        if (walk)
        {
            if (pointers.Illegal > MaxIllegalBlocks)
            {
                s.Fix($"Too many illegal blocks in inode {ino}; clearing the inode.");
                s.ClearInode(ino, inode);
                return;
            }
            dirty |= walker.InodeChanged;
        }
        if (isDir && dataCount == 0)
        {
            s.Fix($"Directory inode {ino} has no data blocks; clearing it.");
            s.ClearInode(ino, inode);
            return;
        }
        foreach (uint b in claims) Claim(s, b);
        long counted = claims.Count;

        if (inode.FileAcl != 0)
        {
            if (CheckAttributeBlock(s, ino, inode, xattrRefs)) counted++;
            else dirty = true;
        }

        int bs = s.BlockSize;
        long size = inode.Size;
        bool badSize = false;
        if (isDir)
        {
            long nblock = size / bs;
            if (size % bs != 0) badSize = true;
            else if (nblock > lastLogical + 1) badSize = true;
            else if (nblock < lastLogical + 1 && lastLogical + 1 - nblock > sb.PreallocDirBlocks) badSize = true;
        }
        else if (type == 0x8000)
        {
            if (lastLogical >= 0 && size < lastLogical * bs) badSize = true;
            else if (RawSize(inode) > (ulong)(s.Geo.MaxFileBlocks * bs)) badSize = true;
        }
        if (badSize)
        {
            long fixedSize = (lastLogical + 1) * bs;
            s.Fix($"Inode {ino}, i_size is {size}, should be {fixedSize}.", preenSafe: true);
            inode.Size = fixedSize;
            dirty = true;
        }
        if (type == 0x8000 && inode.Size >= 1L << 31 && !sb.HasRoCompat(RoCompatFeatures.LargeFile))
        {
            s.Fix("File system has large files but the large_file feature is not set.", preenSafe: true);
            sb.FeatureRoCompat |= RoCompatFeatures.LargeFile;
            s.RewriteBackups = true;
        }
        ulong expectedBlocks = (ulong)counted * (ulong)(bs / 512);
        if (inode.Blocks512 != expectedBlocks)
        {
            s.Fix($"Inode {ino}, i_blocks is {inode.Blocks512}, should be {expectedBlocks}.", preenSafe: true);
            inode.Blocks512 = expectedBlocks;
            dirty = true;
        }
        if (dirty) s.WriteInode(ino, inode);

        s.InodeUsed[(int)ino] = true;
        s.InodeType[ino] = DirectoryEntry.FileTypeOf(inode.Mode);
        if (isDir)
        {
            var info = new CheckedDirectory(ino);
            long blocks = Math.Max(lastLogical + 1, inode.Size / bs);
            for (long l = 0; l < blocks; l++) info.Blocks.Add(l < dirBlocks.Count ? dirBlocks[(int)l] : 0);
            s.Directories[ino] = info;
            if ((inode.Flags & Inode.IndexFlag) != 0 && HtreeCheck.Problem(s, info) is { } htree)
            {
                s.Fix($"HTREE directory inode {ino} has an invalid index ({htree}); clearing the index flag.", preenSafe: true);
                inode.Flags &= ~Inode.IndexFlag;
                s.WriteInode(ino, inode);
            }
        }
    }

    /// <summary>ext4 flags meaningless without their features (encrypt, verity, ea_inode, casefold): e2fsck clears them.</summary>
    private const uint FeatureOnlyFlags = 0x800 | 0x100000 | 0x200000 | 0x40000000;

    /// <summary>Fields e2fsck checks on every inode it looks at: feature-only flags and i_extra_isize.</summary>
    private static bool CheckCommonFields(CheckSession s, uint ino, Inode inode)
    {
        bool dirty = false;
        if ((inode.Flags & FeatureOnlyFlags) != 0)
        {
            s.Fix($"Inode {ino} has flags 0x{inode.Flags & FeatureOnlyFlags:X} of features this file system lacks; clearing them.", preenSafe: true);
            inode.Flags &= ~FeatureOnlyFlags;
            dirty = true;
        }
        int max = s.Geo.InodeSize - Inode.GoodOldSize;
        int extra = inode.ExtraSize;
        if (max > 0 && extra != 0 && (extra < 4 || extra > max || extra % 4 != 0))
        {
            int fixedSize = extra < 4 || extra > max ? Math.Min(Math.Max((int)s.Sb.WantExtraInodeSize, 4) & ~3, max) : (extra + 3) & ~3;
            s.Fix($"Inode {ino} has an invalid extra size ({extra}); setting it to {fixedSize}.", preenSafe: true);
            inode.ExtraSize = (ushort)fixedSize;
            dirty = true;
        }
        return dirty;
    }

    /// <summary>
    /// Inodes below s_first_ino: always counted as in use. Only the bad-blocks inode (1), the boot loader (5), the
    /// journal and the resize inode (7, checked by pass 0) may own blocks; sizes and i_blocks are checked as for files.
    /// </summary>
    private static void CheckReservedInode(CheckSession s, uint ino, Inode inode, BlockTreeWalker walker, Dictionary<uint, int> xattrRefs)
    {
        s.InodeUsed[(int)ino] = true;
        if (ino == 7 && s.Sb.HasCompat(CompatFeatures.ResizeInode)) return; // see ResizeInode, after the scan
        // Journal (8) and quota (3, 4) slots unused on ext2 must hold nothing, as e2fsck insists.
        bool unusedSlot = (ino == 8 && !s.Sb.HasCompat(CompatFeatures.HasJournal)) || ino is 3 or 4;
        if (unusedSlot && (inode.LinksCount != 0 || inode.Blocks512 != 0 || inode.Block(0) != 0))
        {
            s.Fix($"Reserved inode {ino} (journal/quota) is not in use, but contains data; clearing it.", preenSafe: true);
            inode = new Inode(s.Geo.InodeSize);
            s.WriteInode(ino, inode);
        }
        bool dirty = false;
        if ((inode.Flags & (Inode.ExtentsFlag | Inode.InlineDataFlag)) != 0)
        {
            s.Fix($"Reserved inode {ino} has the extents or inline-data flag set on a file system without those features; clearing it.", preenSafe: true);
            inode = new Inode(s.Geo.InodeSize);
            dirty = true;
        }
        if (ino == 1 && (inode.Mode != 0 || inode.Uid != 0 || inode.Gid != 0 || inode.LinksCount != 0 || inode.FileAcl != 0))
        {
            s.Fix("The bad block inode looks invalid; clearing it.", preenSafe: true);
            inode = new Inode(s.Geo.InodeSize);
            dirty = true;
        }
        dirty |= CheckCommonFields(s, ino, inode);
        if (inode.FileAclHigh != 0)
        {
            s.Fix($"i_file_acl_hi for reserved inode {ino} is {inode.FileAclHigh}, should be zero.", preenSafe: true);
            inode.FileAclHigh = 0;
            dirty = true;
        }
        bool journal = ino == s.Sb.JournalInode && s.Sb.HasCompat(CompatFeatures.HasJournal);
        bool badMode = ino switch
        {
            1 => false,
            5 => inode.IsDirectory,
            7 => inode.Mode != 0 && !inode.IsRegular,
            _ => !journal && inode.Mode != 0,
        };
        if (badMode)
        {
            s.Fix($"Reserved inode {ino} has a bad mode (0{Convert.ToString(inode.Mode, 8)}).", preenSafe: true);
            inode.Mode = 0;
            dirty = true;
        }
        var claims = new List<uint>();
        long lastLogical = -1;
        if (ino == 1 || inode.IsRegular || inode.IsDirectory)
        {
            walker.Walk(inode, p =>
            {
                if (p.Block < s.Geo.FirstDataBlock || p.Block >= s.Geo.BlocksCount || s.Metadata[(int)p.Block])
                {
                    s.Fix($"Illegal block {p.Block} in reserved inode {ino}; cleared.");
                    return 0;
                }
                claims.Add(p.Block);
                if (p.Level == PointerLevel.Data) lastLogical = Math.Max(lastLogical, p.Logical);
                return p.Block;
            });
            dirty |= walker.InodeChanged;
        }
        foreach (uint b in claims) Claim(s, b);
        long counted = claims.Count;
        if (inode.FileAcl != 0)
        {
            if (CheckAttributeBlock(s, ino, inode, xattrRefs)) counted++;
            else dirty = true;
        }
        int bs = s.BlockSize;
        if (!inode.IsDirectory && ((lastLogical >= 0 && inode.Size < lastLogical * bs) || RawSize(inode) > (ulong)(s.Geo.MaxFileBlocks * bs)))
        {
            s.Fix($"Reserved inode {ino}, i_size is {inode.Size}, should be {(lastLogical + 1) * bs}.", preenSafe: true);
            inode.Size = (lastLogical + 1) * bs;
            dirty = true;
        }
        ulong expected = (ulong)counted * (ulong)(bs / 512);
        if (inode.Blocks512 != expected)
        {
            s.Fix($"Reserved inode {ino}, i_blocks is {inode.Blocks512}, should be {expected}.", preenSafe: true);
            inode.Blocks512 = expected;
            dirty = true;
        }
        if (dirty) s.WriteInode(ino, inode);
    }

    /// <summary>e2fsck's rules: fast when shorter than i_block, the target NUL-free and exactly i_size long.</summary>
    private static string? SymlinkProblem(CheckSession s, Inode inode)
    {
        long size = inode.Size;
        if (size == 0 || inode.SizeHigh != 0) return "bad size";
        if ((inode.Flags & Inode.IndexFlag) != 0) return "INDEX_FL set";
        ReadOnlySpan<byte> target;
        if (size < Inode.FastSymlinkMax)
        {
            target = inode.BlockArea;
        }
        else
        {
            for (int i = 1; i < Inode.BlockPointers; i++) if (inode.Block(i) != 0) return "more than one block";
            uint b = inode.Block(0);
            if (b < s.Geo.FirstDataBlock || b >= s.Geo.BlocksCount) return "block out of range";
            target = s.Disk.Read(b);
        }
        int len = target.IndexOf((byte)0);
        if (len < 0) len = target.Length;
        if (len >= target.Length) return "target not terminated";
        if (len != size) return $"target length {len} differs from i_size {size}";
        return null;
    }

    /// <summary>Validates the extended-attribute block; true when kept (counted in i_blocks), false when cleared.</summary>
    private static bool CheckAttributeBlock(CheckSession s, uint ino, Inode inode, Dictionary<uint, int> refs)
    {
        uint b = inode.FileAcl;
        string? why = null;
        if (!s.Sb.HasCompat(CompatFeatures.ExtAttr)) why = "ext_attr feature not set";
        else if (b < s.Geo.FirstDataBlock || b >= s.Geo.BlocksCount || s.Metadata[(int)b]) why = "block out of range";
        else if (!refs.ContainsKey(b)) why = AttributeBlockProblem(s.Disk.Read(b));
        if (why != null)
        {
            s.Fix($"Extended attribute block {b} of inode {ino} is invalid ({why}); clearing i_file_acl.");
            inode.FileAcl = 0;
            return false;
        }
        if (refs.TryGetValue(b, out int n)) refs[b] = n + 1;
        else
        {
            refs[b] = 1;
            Claim(s, b);
        }
        return true;
    }

    private static string? AttributeBlockProblem(ReadOnlySpan<byte> block)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(block) != ExtAttrMagic) return "bad magic";
        if (BinaryPrimitives.ReadUInt32LittleEndian(block[8..]) != 1) return "h_blocks is not 1";
        int offset = 32;
        while (offset + 4 <= block.Length && BinaryPrimitives.ReadUInt32LittleEndian(block[offset..]) != 0)
        {
            if (offset + 16 > block.Length) return "entry past the block end";
            int nameLen = block[offset];
            int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(block[(offset + 2)..]);
            uint valueInode = BinaryPrimitives.ReadUInt32LittleEndian(block[(offset + 4)..]);
            uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(block[(offset + 8)..]);
            int entrySize = (16 + nameLen + 3) & ~3;
            if (offset + entrySize > block.Length) return "entry past the block end";
            if (valueInode != 0) return "value in an inode";
            if (valueSize > 0 && (valueOffset < 32 || valueOffset + valueSize > block.Length)) return "value past the block end";
            offset += entrySize;
        }
        return offset + 4 <= block.Length ? null : "entries not terminated";
    }

    private static void CheckAttributeRefcounts(CheckSession s, Dictionary<uint, int> refs)
    {
        foreach (var (block, count) in refs.OrderBy(kv => kv.Key))
        {
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(s.Disk.Read(block).AsSpan(4));
            if (stored == (uint)count) continue;
            s.Fix($"Extended attribute block {block} has reference count {stored}, should be {count}.", preenSafe: true);
            BinaryPrimitives.WriteUInt32LittleEndian(s.Disk.Modify(block).AsSpan(4), (uint)count);
        }
    }
}
