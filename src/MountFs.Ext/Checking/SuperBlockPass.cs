using System.Buffers.Binary;

namespace MountFs.Ext.Checking;

/// <summary>
/// Pass 0: finds a usable superblock and group descriptor table (the primary, else a backup, as e2fsck falls back
/// to group 1's copy), refuses features this checker does not understand, shrinks a file system that claims more
/// blocks than a truncated device holds, and checks the resize inode's fixed layout.
/// </summary>
internal static class SuperBlockPass
{
    public static void Run(CheckSession s)
    {
        var device = s.Device;
        SuperBlock? sb = null;
        GroupDescriptor[]? groups = null;
        string? primaryProblem = null;
        if (device.Length >= SuperBlock.PrimaryOffset + SuperBlock.Size)
        {
            var primary = ReadSuperBlock(s, SuperBlock.PrimaryOffset);
            primaryProblem = Problem(primary);
            if (primaryProblem == null)
            {
                var geo = Geometry.From(primary);
                groups = ReadDescriptors(s, geo, 0, out string? gdtProblem);
                if (groups != null) sb = primary;
                else primaryProblem = gdtProblem;
                if (sb == null) (sb, groups) = FindBackup(s, geo);
            }
        }
        else
        {
            primaryProblem = "device too small for a superblock";
        }
        if (sb == null) (sb, groups) = FindBackupAnySize(s);
        if (sb == null || groups == null)
            throw new CheckAbortedException($"no valid ext2 superblock found ({primaryProblem}); not an ext2 file system?");
        if (primaryProblem != null)
        {
            s.Fix($"Primary superblock or group descriptors are corrupt ({primaryProblem}); using the backup in group {sb.BlockGroupNumber} and rewriting the primary.", preenSafe: true);
            s.RewriteBackups = true;
            sb.State = (ushort)(sb.State & ~SuperBlock.StateValid);
        }
        s.Sb = sb;

        var unsupportedIncompat = sb.FeatureIncompat & ~SuperBlock.SupportedIncompat;
        if (unsupportedIncompat != 0)
            throw new CheckAbortedException($"unsupported incompatible features: {FeatureNames.Describe(unsupportedIncompat)}");
        var unsupportedCompat = sb.FeatureCompat & ~(SuperBlock.SupportedCompat | CompatFeatures.HasJournal);
        if (unsupportedCompat != 0)
            throw new CheckAbortedException($"unsupported compatible features: {FeatureNames.Describe(unsupportedCompat)}");
        var unsupportedRo = sb.FeatureRoCompat & ~SuperBlock.SupportedRoCompat;
        if (unsupportedRo != 0)
            throw new CheckAbortedException($"unsupported read-only-compatible features: {FeatureNames.Describe(unsupportedRo)}");

        s.Geo = Geometry.From(sb);
        s.Groups = groups;
        s.Disk = new CheckDisk(device, sb.BlockSize, sb.BlocksCount);
        long deviceBlocks = device.Length / sb.BlockSize;
        if (sb.BlocksCount > deviceBlocks) ShrinkToDevice(s, (uint)deviceBlocks);
        if (sb.ReservedBlocksCount > sb.BlocksCount / 2)
        {
            s.Fix($"Reserved blocks count {sb.ReservedBlocksCount} exceeds half the file system after shrinking.", preenSafe: true);
            sb.ReservedBlocksCount = sb.BlocksCount / 20;
        }
        CheckJournalFields(s);
        CheckQuotaInodes(s);
        CheckUninitFlags(s);
        CheckResizeFeature(s);
    }

    // s_usr_quota_inum, s_grp_quota_inum, s_prj_quota_inum: ext4 fields the SuperBlock record does not name.
    private static readonly int[] QuotaInodeOffsets = [0x240, 0x244, 0x26C];

    /// <summary>Quota inode numbers without the quota feature (refused in pass 0) make e2fsck count those inodes as used; they go.</summary>
    private static void CheckQuotaInodes(CheckSession s)
    {
        var raw = new byte[SuperBlock.Size];
        s.Sb.WriteTo(raw);
        bool any = false;
        foreach (int offset in QuotaInodeOffsets) any |= BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(offset)) != 0;
        if (!any) return;
        s.Fix("Superblock names quota inodes without the quota feature; clearing them.", preenSafe: true);
        foreach (int offset in QuotaInodeOffsets) BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(offset), 0);
        s.Sb = SuperBlock.Read(raw);
        s.RewriteBackups = true;
    }

    /// <summary>Without uninit_bg/metadata_csum a group may not be marked uninitialised nor claim unused inode-table space.</summary>
    private static void CheckUninitFlags(CheckSession s)
    {
        if (s.Sb.HasRoCompat(RoCompatFeatures.GdtCsum) || s.Sb.HasRoCompat(RoCompatFeatures.MetadataCsum)) return;
        for (int g = 0; g < s.Groups.Length; g++)
        {
            var d = s.Groups[g];
            // INODE_UNINIT (1) and BLOCK_UNINIT (2) only; ITABLE_ZEROED (4) is set by mke2fs and harmless.
            if ((d.Flags & 3) == 0 && d.InodeTableUnused == 0) continue;
            s.Fix($"Group descriptor {g} marked uninitialized without feature set.", preenSafe: true);
            d.Flags &= unchecked((ushort)~3);
            d.InodeTableUnused = 0;
            s.Groups[g] = d;
        }
    }

    private const uint JournalMagic = 0xC03B3998;

    /// <summary>
    /// ext2 has no journal. Journal fields left without has_journal make e2fsck look for a journal (and fail), so
    /// they are cleared; has_journal naming no valid journal is dropped, as e2fsck clears an invalid journal; a real
    /// journal means an ext3 volume, which this checker does not handle.
    /// </summary>
    private static void CheckJournalFields(CheckSession s)
    {
        var sb = s.Sb;
        bool fields = sb.JournalInode != 0 || sb.JournalDevice != 0 || sb.JournalUuid != Guid.Empty;
        if (!sb.HasCompat(CompatFeatures.HasJournal))
        {
            if (!fields) return;
            s.Fix("Superblock has journal fields set but no journal feature; clearing them.", preenSafe: true);
            ClearJournalFields(sb);
            s.RewriteBackups = true;
            return;
        }
        uint ino = sb.JournalInode;
        if (sb.JournalDevice == 0 && sb.JournalUuid == Guid.Empty && ino >= 1 && ino < sb.FirstInode)
        {
            var inode = s.ReadInode(ino);
            uint first = inode.Block(0);
            if (inode.IsRegular && inode.LinksCount != 0 && first >= s.Geo.FirstDataBlock && s.Disk.InRange(first) &&
                BinaryPrimitives.ReadUInt32BigEndian(s.Disk.Read(first)) == JournalMagic)
                throw new CheckAbortedException("the file system has a journal (ext3); this checker handles ext2 only");
        }
        s.Fix($"Superblock has an invalid journal (inode {ino}); clearing the journal feature.");
        sb.FeatureCompat &= ~CompatFeatures.HasJournal;
        ClearJournalFields(sb);
        s.RewriteBackups = true;
    }

    private static void ClearJournalFields(SuperBlock sb)
    {
        sb.JournalInode = 0;
        sb.JournalDevice = 0;
        sb.JournalUuid = Guid.Empty;
        for (int i = 0; i < 17; i++) sb.SetJournalBlock(i, 0);
        sb.JournalBackupType = 0;
    }

    /// <summary>
    /// The record's own checks plus the value ranges e2fsck refuses to work with (cluster size without bigalloc,
    /// over half the blocks reserved, more reserved GDT blocks than one block can map); null when usable.
    /// </summary>
    private static string? Problem(SuperBlock sb)
    {
        string? basic = sb.Validate(long.MaxValue);
        if (basic != null) return basic;
        if (sb.LogClusterSize != sb.LogBlockSize) return $"s_log_cluster_size {sb.LogClusterSize} differs from the block size";
        if (sb.ClustersPerGroup != sb.BlocksPerGroup) return $"s_clusters_per_group {sb.ClustersPerGroup} differs from s_blocks_per_group";
        if (sb.ReservedBlocksCount > sb.BlocksCount / 2) return $"s_r_blocks_count {sb.ReservedBlocksCount} is over half the blocks";
        if (sb.ReservedGdtBlocks > sb.BlockSize / 4) return $"s_reserved_gdt_blocks {sb.ReservedGdtBlocks} too large";
        if (sb.InodesPerGroup < sb.BlockSize / sb.InodeSize) return $"s_inodes_per_group {sb.InodesPerGroup} below one block of inodes";
        return null;
    }

    private static SuperBlock ReadSuperBlock(CheckSession s, long offset)
    {
        var buf = new byte[SuperBlock.Size];
        ReadBytes(s, offset, buf);
        return SuperBlock.Read(buf);
    }

    /// <summary>Sector-aligned read of an arbitrary byte range inside the device.</summary>
    private static void ReadBytes(CheckSession s, long offset, Span<byte> buffer)
    {
        int sector = s.Device.SectorSize;
        long start = offset / sector * sector;
        long end = (offset + buffer.Length + sector - 1) / sector * sector;
        var tmp = new byte[end - start];
        s.Device.Read(start, tmp);
        tmp.AsSpan((int)(offset - start), buffer.Length).CopyTo(buffer);
    }

    /// <summary>The descriptor copy stored after group <paramref name="copyGroup"/>'s superblock, or null (with why) when it is unusable.</summary>
    private static GroupDescriptor[]? ReadDescriptors(CheckSession s, Geometry geo, int copyGroup, out string? problem)
    {
        problem = null;
        long start = (long)geo.GdtStart(copyGroup) * geo.BlockSize;
        long bytes = (long)geo.GroupCount * GroupDescriptor.Size;
        if (start + bytes > s.Device.Length)
        {
            problem = "group descriptors lie past the device end";
            return null;
        }
        var raw = new byte[bytes];
        ReadBytes(s, start, raw);
        var groups = new GroupDescriptor[geo.GroupCount];
        for (int g = 0; g < groups.Length; g++)
        {
            groups[g] = GroupDescriptor.Read(raw.AsSpan(g * GroupDescriptor.Size));
            problem = DescriptorProblem(geo, g, groups[g]);
            if (problem != null) return null;
        }
        return groups;
    }

    /// <summary>Without flex_bg each group's bitmaps and inode table must lie inside the group, past its backup area.</summary>
    private static string? DescriptorProblem(Geometry geo, int g, GroupDescriptor d)
    {
        uint first = geo.GroupFirstBlock(g) + (uint)geo.SuperBlockOverhead(g);
        uint last = geo.GroupFirstBlock(g) + geo.GroupBlockCount(g) - 1;
        bool Inside(uint b) => b >= first && b <= last;
        if (!Inside(d.BlockBitmap)) return $"group {g} block bitmap at {d.BlockBitmap} is not in the group";
        if (!Inside(d.InodeBitmap)) return $"group {g} inode bitmap at {d.InodeBitmap} is not in the group";
        uint tableEnd = d.InodeTable + (uint)geo.InodeTableBlocks - 1;
        if (!Inside(d.InodeTable) || !Inside(tableEnd) || tableEnd < d.InodeTable) return $"group {g} inode table at {d.InodeTable} is not in the group";
        if (d.BlockBitmap == d.InodeBitmap) return $"group {g} bitmaps share block {d.BlockBitmap}";
        if (d.BlockBitmap >= d.InodeTable && d.BlockBitmap <= tableEnd) return $"group {g} block bitmap overlaps the inode table";
        if (d.InodeBitmap >= d.InodeTable && d.InodeBitmap <= tableEnd) return $"group {g} inode bitmap overlaps the inode table";
        return null;
    }

    /// <summary>Backups described by a primary whose geometry is sane but whose descriptors are not.</summary>
    private static (SuperBlock?, GroupDescriptor[]?) FindBackup(CheckSession s, Geometry geo)
    {
        for (int g = 1; g < geo.GroupCount; g++)
        {
            if (!geo.HasSuperBlock(g)) continue;
            long offset = (long)geo.GroupFirstBlock(g) * geo.BlockSize;
            if (offset + SuperBlock.Size > s.Device.Length) break;
            var candidate = ReadSuperBlock(s, offset);
            if (Problem(candidate) != null) continue;
            var cgeo = Geometry.From(candidate);
            var groups = ReadDescriptors(s, cgeo, g, out _);
            if (groups != null) return (candidate, groups);
        }
        return (null, null);
    }

    /// <summary>
    /// With no usable primary the geometry is unknown: try group 1's copy for every block size, first where mke2fs's
    /// default of 8 x block-size blocks per group puts it (where e2fsck looks), then at every other group size a
    /// block bitmap allows. A candidate must name itself group 1 and agree with where it was found.
    /// </summary>
    private static (SuperBlock?, GroupDescriptor[]?) FindBackupAnySize(CheckSession s)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            for (int bs = 1024; bs <= 65536; bs *= 2)
            {
                uint firstData = bs == 1024 ? 1u : 0u;
                for (uint bpg = pass == 0 ? 8u * (uint)bs : 8; bpg <= 8u * (uint)bs; bpg += 8)
                {
                    if (pass == 1 && bpg == 8u * (uint)bs) break;
                    long block = firstData + bpg;
                    long offset = block * bs;
                    if (offset + SuperBlock.Size > s.Device.Length) break;
                    var candidate = ReadSuperBlock(s, offset);
                    if (candidate.Magic != SuperBlock.MagicValue || candidate.BlockGroupNumber != 1) continue;
                    if (Problem(candidate) != null || candidate.BlockSize != bs || candidate.BlocksPerGroup != bpg) continue;
                    var geo = Geometry.From(candidate);
                    if (geo.GroupCount < 2 || geo.GroupFirstBlock(1) != block) continue;
                    var groups = ReadDescriptors(s, geo, 1, out _);
                    if (groups != null) return (candidate, groups);
                    if (pass == 0) break;
                }
            }
        }
        return (null, null);
    }

    /// <summary>
    /// A truncated image: the blocks past the device end are gone, so the file system is cut to the device, dropping
    /// trailing groups whose bitmaps or inode table were lost. Pointers into the lost area are cleared by pass 1.
    /// </summary>
    private static void ShrinkToDevice(CheckSession s, uint deviceBlocks)
    {
        var sb = s.Sb;
        uint oldBlocks = sb.BlocksCount;
        uint newBlocks = deviceBlocks;
        var geo = s.Geo;
        int groups = geo.GroupCount;
        while (groups > 0)
        {
            int last = groups - 1;
            var d = s.Groups[last];
            uint metaEnd = Math.Max(Math.Max(d.BlockBitmap, d.InodeBitmap), d.InodeTable + (uint)geo.InodeTableBlocks - 1);
            uint groupFirst = geo.GroupFirstBlock(last);
            if (metaEnd < newBlocks && newBlocks > groupFirst + (uint)geo.GroupOverhead(last)) break;
            newBlocks = groupFirst;
            groups--;
        }
        if (groups == 0 || newBlocks <= sb.FirstDataBlock)
        {
            s.Unfixable($"The file system claims {oldBlocks} blocks but the device holds only {deviceBlocks}; too little is left to repair.");
            throw new CheckAbortedException("device too short for the file system");
        }
        var newGeo = new Geometry(newBlocks, geo.FirstDataBlock, geo.BlockSize, geo.BlocksPerGroup, geo.InodesPerGroup,
            geo.InodeSize, geo.SparseSuper, geo.ReservedGdtBlocks);
        if (newGeo.GdtBlocks != geo.GdtBlocks)
        {
            s.Unfixable($"The file system claims {oldBlocks} blocks but the device holds only {deviceBlocks}; shrinking would move the group descriptor table.");
            throw new CheckAbortedException("device too short for the file system");
        }
        s.Fix($"The file system size (according to the superblock) is {oldBlocks} blocks but the device holds only {deviceBlocks}; shrinking the file system to {newBlocks} blocks (data past the device end is lost).");
        int droppedBackups = 0;
        for (int g = groups; g < geo.GroupCount; g++) if (geo.HasSuperBlock(g)) droppedBackups++;
        sb.BlocksCount = newBlocks;
        sb.InodesCount = (uint)groups * sb.InodesPerGroup;
        s.Groups = s.Groups[..groups];
        s.Geo = newGeo;
        s.Disk.BlocksCount = newBlocks;
        s.RewriteBackups = true;
        if (droppedBackups > 0) DropResizeBackups(s, newGeo);
    }

    /// <summary>The resize inode lists each reserved GDT block's copy in every backup group; copies in dropped groups go.</summary>
    private static void DropResizeBackups(CheckSession s, Geometry geo)
    {
        if (!s.Sb.HasCompat(CompatFeatures.ResizeInode) || geo.ReservedGdtBlocks == 0) return;
        var inode = s.ReadInode(7);
        uint dind = inode.Block(Inode.DoubleIndirect);
        if (dind == 0 || !s.Disk.InRange(dind)) return;
        int backups = 0;
        for (int g = 1; g < geo.GroupCount; g++) if (geo.HasSuperBlock(g)) backups++;
        uint firstReserved = geo.FirstDataBlock + 1 + (uint)geo.GdtBlocks;
        long removed = 0;
        for (int i = 0; i < geo.ReservedGdtBlocks; i++)
        {
            uint pblk = firstReserved + (uint)i;
            var block = s.Disk.Modify(pblk);
            for (int j = backups; j < geo.PointersPerBlock; j++)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(j * 4)) == 0) continue;
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(j * 4), 0);
                removed++;
            }
        }
        inode.Blocks512 = inode.Blocks512 - Math.Min(inode.Blocks512, (ulong)(removed * (geo.BlockSize / 512)));
        s.WriteInode(7, inode);
    }

    /// <summary>Without resize_inode there are no reserved GDT blocks and inode 7 must be empty.</summary>
    private static void CheckResizeFeature(CheckSession s)
    {
        var sb = s.Sb;
        if (sb.HasCompat(CompatFeatures.ResizeInode)) return;
        if (sb.ReservedGdtBlocks != 0)
        {
            s.Fix($"Reserved GDT blocks count is {sb.ReservedGdtBlocks} without resize_inode.", preenSafe: true);
            sb.ReservedGdtBlocks = 0;
            s.RewriteBackups = true;
        }
        var inode = s.ReadInode(7);
        bool any = false;
        for (int i = 0; i < Inode.BlockPointers; i++) any |= inode.Block(i) != 0;
        if (!any) return;
        s.Fix("Resize inode (inode 7) is not clear without resize_inode.", preenSafe: true);
        s.WriteInode(7, new Inode(s.Geo.InodeSize));
    }
}
