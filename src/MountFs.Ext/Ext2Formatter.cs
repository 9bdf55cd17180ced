using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext;

/// <summary>
/// mkfs for ext2 revision 1, with mke2fs's defaults: 1 KiB blocks and one inode per 4 KiB below 512 MiB (one per
/// 8 KiB below 3 MiB), else 4 KiB blocks and one inode per 16 KiB; 256-byte inodes; 5% reserved; features
/// filetype, sparse_super, large_file and ext_attr (no resize_inode or dir_index: nothing here maintains them).
/// Writes superblock and GDT backups, bitmaps, the root directory and /lost+found; the inode tables are discarded
/// (so they read as zeros) rather than written.
/// </summary>
public sealed class Ext2Formatter : IFileSystemFormatter
{
    private const int InodeSize = 256;
    private const uint LostAndFoundInode = 11;

    /// <summary>Builds the superblock this formatter would write, without touching a device (also computes geometry).</summary>
    public static (SuperBlock Sb, Geometry Geo) Plan(long deviceBytes, FormatOptions options)
    {
        int bs = options.BlockSize ?? (deviceBytes < 512L << 20 ? 1024 : 4096);
        if (bs is not (1024 or 2048 or 4096)) throw new FsException(Errno.EINVAL, $"block size {bs} is not 1024, 2048 or 4096");
        long inodeRatio = deviceBytes < 3L << 20 ? 8192 : deviceBytes < 512L << 20 ? 4096 : 16384;
        double reservedPercent = options.ReservedPercent ?? 5.0;
        if (reservedPercent is < 0 or > 50) throw new FsException(Errno.EINVAL, $"reserved blocks percentage {reservedPercent} is not in 0..50");
        if (options.Label is { } label && System.Text.Encoding.UTF8.GetByteCount(label) > 16)
            throw new FsException(Errno.EINVAL, $"label '{label}' is longer than 16 bytes");
        if (options.SectorsPerCluster != null) throw new FsException(Errno.EINVAL, "ext2 has no sectors-per-cluster option");
        if (options.Variant is { } v && v != "ext2") throw new FsException(Errno.EINVAL, $"ext2 has no variant '{v}'");

        long blocks = Math.Min(deviceBytes / bs, uint.MaxValue);
        uint first = bs == 1024 ? 1u : 0u;
        uint bpg = (uint)(8 * bs);
        int inodesPerBlock = bs / InodeSize;
        int ipgUnit = Math.Max(8, inodesPerBlock);
        long minimum = MinimumBlocks(bs, ipgUnit);
        if (blocks < minimum)
            throw new FsException(Errno.EINVAL, $"device of {deviceBytes} bytes is too small for ext2 with {bs}-byte blocks: the minimum is {minimum * bs} bytes");

        for (int attempt = 0; ; attempt++)
        {
            int groups = (int)((blocks - first + bpg - 1) / bpg);
            long inodes = options.InodeCount ?? Math.Max(deviceBytes / inodeRatio, 16);
            if (inodes < 16) throw new FsException(Errno.EINVAL, $"{inodes} inodes are too few (at least 16)");
            long ipg = (inodes + groups - 1) / groups;
            ipg = (ipg + ipgUnit - 1) / ipgUnit * ipgUnit;
            ipg = Math.Min(ipg, 8L * bs); // the inode bitmap is one block
            var geo = new Geometry((uint)blocks, first, bs, bpg, (uint)ipg, InodeSize, sparseSuper: true, reservedGdtBlocks: 0);
            // A last group too small for its own metadata (plus a little data) is dropped, as mke2fs does.
            uint lastBlocks = geo.GroupBlockCount(groups - 1);
            if (groups > 1 && lastBlocks < geo.GroupOverhead(groups - 1) + 50 && attempt < 2)
            {
                blocks -= lastBlocks;
                continue;
            }
            if (geo.GroupOverhead(0) + 2 + LostAndFoundBlocks(bs) > geo.GroupBlockCount(0) || lastBlocks < geo.GroupOverhead(groups - 1))
                throw new FsException(Errno.EINVAL, $"device of {deviceBytes} bytes cannot hold {ipg * groups} inodes with {bs}-byte blocks (the inode tables do not fit); use fewer inodes (-N)");
            if ((long)ipg * groups > uint.MaxValue) throw new FsException(Errno.EINVAL, "too many inodes");
            var sb = new SuperBlock
            {
                InodesCount = (uint)(ipg * groups),
                BlocksCount = (uint)blocks,
                ReservedBlocksCount = (uint)(blocks * reservedPercent / 100),
                FirstDataBlock = first,
                LogBlockSize = (uint)(bs == 1024 ? 0 : bs == 2048 ? 1 : 2),
                BlocksPerGroup = bpg,
                InodesPerGroup = (uint)ipg,
                Magic = SuperBlock.MagicValue,
                State = SuperBlock.StateValid,
                Errors = 1,
                MaxMountCount = -1,
                RevLevel = SuperBlock.DynamicRevision,
                FirstInode = 11,
                InodeSize = InodeSize,
                FeatureCompat = CompatFeatures.ExtAttr,
                FeatureIncompat = IncompatFeatures.FileType,
                FeatureRoCompat = RoCompatFeatures.SparseSuper | RoCompatFeatures.LargeFile,
                Uuid = Guid.NewGuid(),
                VolumeName = options.Label ?? "",
                DefaultHashVersion = 1,
                MinExtraInodeSize = 32,
                WantExtraInodeSize = 32,
            };
            sb.LogClusterSize = sb.LogBlockSize;
            sb.ClustersPerGroup = bpg;
            Guid.NewGuid().TryWriteBytes(sb.HashSeed);
            return (sb, geo);
        }
    }

    private static int LostAndFoundBlocks(int bs) => Math.Min(Inode.DirectBlocks, Math.Max(2, 16384 / bs));

    private static long MinimumBlocks(int bs, int ipgUnit)
    {
        int itable = (ipgUnit * InodeSize + bs - 1) / bs;
        return (bs == 1024 ? 1 : 0) + 1 + 1 + 2 + itable + 1 + LostAndFoundBlocks(bs) + 50;
    }

    public void Format(IBlockDevice device, FormatOptions options)
    {
        if (device.IsReadOnly) throw new FsException(Errno.EROFS, $"{device.Name}: device is read-only");
        var (sb, geo) = Plan(device.Length, options);
        int bs = geo.BlockSize;
        uint now = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        sb.WriteTime = now;
        sb.LastCheck = now;
        sb.MkfsTime = now;
        var progress = options.Progress;

        var groups = new GroupDescriptor[geo.GroupCount];
        uint ipg = geo.InodesPerGroup;
        // Root and lost+found data blocks follow group 0's inode table.
        uint rootBlock = geo.StandardMetadata(0).InodeTable + (uint)geo.InodeTableBlocks;
        int lpfBlocks = LostAndFoundBlocks(bs);
        uint lpfFirst = rootBlock + 1;
        long totalItable = (long)geo.GroupCount * geo.InodeTableBlocks, itableDone = 0;

        // Both bitmaps of a group in one request when they are neighbours (they always are in this layout).
        var bitmaps = new byte[2 * bs];
        for (int g = 0; g < geo.GroupCount; g++)
        {
            var (bb, ib, it) = geo.StandardMetadata(g);
            uint groupBlocks = geo.GroupBlockCount(g);
            int used = geo.GroupOverhead(g);
            if (g == 0) used += 1 + lpfBlocks;
            Array.Clear(bitmaps);
            var blockBitmap = bitmaps.AsSpan(0, bs);
            var inodeBitmap = bitmaps.AsSpan(bs, bs);
            SetBits(blockBitmap, 0, used);
            SetBits(blockBitmap, groupBlocks, 8L * bs); // padding past the group's end
            int usedInodes = g == 0 ? (int)LostAndFoundInode : 0;
            SetBits(inodeBitmap, 0, usedInodes);
            SetBits(inodeBitmap, ipg, 8L * bs); // padding past ipg
            if (ib == bb + 1)
            {
                device.Write((long)bb * bs, bitmaps);
            }
            else
            {
                device.Write((long)bb * bs, blockBitmap);
                device.Write((long)ib * bs, inodeBitmap);
            }

            // The inode tables must read as zeros. Discard promises exactly that, and costs nothing on an image
            // file (a hole, as mke2fs leaves) or little on a block device (BLKZEROOUT), where writing the
            // zeros would move the whole table through the page cache.
            device.Discard((long)it * bs, (long)geo.InodeTableBlocks * bs);
            itableDone += geo.InodeTableBlocks;
            progress?.Report(0.95 * itableDone / totalItable);

            groups[g] = new GroupDescriptor
            {
                BlockBitmap = bb, InodeBitmap = ib, InodeTable = it,
                FreeBlocksCount = (ushort)(groupBlocks - used),
                FreeInodesCount = (ushort)(ipg - usedInodes),
                UsedDirsCount = (ushort)(g == 0 ? 2 : 0),
            };
        }
        long freeBlocks = 0, freeInodes = 0;
        foreach (var gd in groups) { freeBlocks += gd.FreeBlocksCount; freeInodes += gd.FreeInodesCount; }
        sb.FreeBlocksCount = (uint)freeBlocks;
        sb.FreeInodesCount = (uint)freeInodes;

        // Root (inode 2) and lost+found (inode 11): their blocks are neighbours, written in one request.
        var dirBlocks = new byte[(1 + lpfBlocks) * bs];
        new DirectoryEntry(2, 12, "."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(dirBlocks, 0);
        new DirectoryEntry(2, 12, ".."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(dirBlocks, 12);
        new DirectoryEntry(LostAndFoundInode, (ushort)(bs - 24), "lost+found"u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(dirBlocks, 24);
        new DirectoryEntry(LostAndFoundInode, 12, "."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(dirBlocks, bs);
        new DirectoryEntry(2, (ushort)(bs - 12), ".."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(dirBlocks, bs + 12);
        for (int i = 1; i < lpfBlocks; i++) new DirectoryEntry(0, (ushort)bs, [], 0).WriteTo(dirBlocks, (1 + i) * bs);
        device.Write((long)rootBlock * bs, dirBlocks);

        var root = DirectoryInode(0x41ED, 3, now, bs);
        root.SetBlock(0, rootBlock);
        root.Blocks512 = (uint)(bs / 512);
        var lpf = DirectoryInode(0x41C0, 2, now, lpfBlocks * bs);
        for (int i = 0; i < lpfBlocks; i++) lpf.SetBlock(i, lpfFirst + (uint)i);
        lpf.Blocks512 = (uint)(lpfBlocks * bs / 512);
        WriteInodeInto(geo, groups, device, 2, root);
        WriteInodeInto(geo, groups, device, LostAndFoundInode, lpf);

        // Superblock and GDT copies: primary at byte 1024, backups at the start of each sparse group.
        var gdt = new byte[geo.GdtBlocks * bs];
        for (int g = 0; g < groups.Length; g++) groups[g].WriteTo(gdt.AsSpan(g * GroupDescriptor.Size));
        var sbBytes = new byte[bs];
        for (int g = 0; g < geo.GroupCount; g++)
        {
            if (!geo.HasSuperBlock(g)) continue;
            sb.BlockGroupNumber = (ushort)g;
            Array.Clear(sbBytes);
            if (g == 0)
            {
                var head = new byte[SuperBlock.Size];
                sb.WriteTo(head);
                device.Write(0, new byte[1024]); // boot area: clear any stale signature
                device.Write(SuperBlock.PrimaryOffset, head);
                device.Write((long)geo.GdtStart(0) * bs, gdt);
            }
            else
            {
                sb.WriteTo(sbBytes);
                device.Write((long)geo.GroupFirstBlock(g) * bs, sbBytes);
                device.Write((long)geo.GdtStart(g) * bs, gdt);
            }
        }
        device.Flush();
        progress?.Report(1.0);
    }

    /// <summary>Sets bits [<paramref name="from"/>, <paramref name="to"/>) of a bitmap, whole bytes at a time where it can
    /// (a 4 KiB-block group's padding is 24,576 bits).</summary>
    internal static void SetBits(Span<byte> bitmap, long from, long to)
    {
        for (; from < to && (from & 7) != 0; from++) bitmap[(int)(from >> 3)] |= (byte)(1 << (int)(from & 7));
        long wholeBytes = (to - from) >> 3;
        if (wholeBytes > 0)
        {
            bitmap.Slice((int)(from >> 3), (int)wholeBytes).Fill(0xFF);
            from += wholeBytes << 3;
        }
        for (; from < to; from++) bitmap[(int)(from >> 3)] |= (byte)(1 << (int)(from & 7));
    }

    private static Inode DirectoryInode(ushort mode, ushort links, uint now, int size)
    {
        var inode = new Inode(InodeSize) { Mode = mode, LinksCount = links, SizeLow = (uint)size, ExtraSize = 32 };
        inode.AtimeSeconds = inode.CtimeSeconds = inode.MtimeSeconds = now;
        inode.CrtimeSeconds = now;
        return inode;
    }

    private static void WriteInodeInto(Geometry geo, GroupDescriptor[] groups, IBlockDevice device, uint ino, Inode inode)
    {
        var (g, blockInTable, offset) = geo.LocateInode(ino);
        long at = (long)(groups[g].InodeTable + blockInTable) * geo.BlockSize;
        var block = new byte[geo.BlockSize];
        device.Read(at, block);
        inode.WriteTo(block.AsSpan(offset, geo.InodeSize));
        device.Write(at, block);
    }
}
