using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>
/// mkfs for FAT with mkfs.fat's defaults for the size: floppy geometries, cluster sizes tried from 2 KiB up
/// for FAT12/16, FAT32 from 512 MiB (cluster size by Microsoft's table), 32 reserved sectors on FAT32, two FATs,
/// media 0xF8, 512 root entries, and metadata aligned to clusters beyond 4 MiB.
/// </summary>
public sealed class FatFormatter : IFileSystemFormatter
{
    private const uint MaxClusters12 = 4084;
    private const uint MaxClusters16 = 65524;
    private const uint MaxClusters32 = 268435446;

    /// <summary>Volume id to write; null derives one from the clock as mkfs.fat does.</summary>
    public uint? VolumeId { get; init; }

    /// <summary>The parameters <see cref="Format"/> would write, without writing.</summary>
    public static BiosParameterBlock Plan(long deviceLength, FormatOptions options, uint volumeId = 0)
    {
        const int sectorSize = 512;
        int? sizeFat = options.Variant?.ToLowerInvariant() switch
        {
            null or "fat" or "vfat" or "msdos" => null,
            "fat12" or "12" => 12,
            "fat16" or "16" => 16,
            "fat32" or "32" => 32,
            var v => throw new FsException(Errno.EINVAL, $"unknown FAT variant '{v}' (fat12, fat16 or fat32)"),
        };
        if (options.BlockSize != null || options.InodeCount != null || options.ReservedPercent != null)
            throw new FsException(Errno.EINVAL, "FAT takes no block size, inode count or reserved percentage (use -c for the cluster size)");
        int? userCluster = options.SectorsPerCluster;
        if (userCluster is int uc && (uc < 1 || uc > 128 || (uc & (uc - 1)) != 0))
            throw new FsException(Errno.EINVAL, $"sectors per cluster must be a power of two from 1 to 128, not {uc}");
        bool byUser = sizeFat != null;
        long numSectors = Math.Min(deviceLength / sectorSize, uint.MaxValue);
        if (numSectors < 64) throw new FsException(Errno.EINVAL, $"{deviceLength} bytes is too small for a FAT file system");

        ushort spt = 63, heads = 255;
        byte media = 0xF8;
        int clusterSize = 4;
        int rootEntries = 512;
        if (deviceLength < 512L << 20) { spt = 32; heads = 64; }
        // mkfs.fat takes a track geometry for image files too (32 sectors per track up to 256 MiB, then 63)
        // and uses whole tracks only.
        if (numSectors > 524288) spt = 63;
        switch (deviceLength / 1024)
        {
            case 360: spt = 9; heads = 2; media = 0xFD; clusterSize = 2; rootEntries = 112; break;
            case 720: spt = 9; heads = 2; media = 0xF9; clusterSize = 2; rootEntries = 112; break;
            case 1200: spt = 15; heads = 2; media = 0xF9; clusterSize = 1; rootEntries = 224; break;
            case 1440: spt = 18; heads = 2; media = 0xF0; clusterSize = 1; rootEntries = 224; break;
            case 2880: spt = 36; heads = 2; media = 0xF0; clusterSize = 2; rootEntries = 224; break;
        }
        bool floppy = deviceLength / 1024 is 360 or 720 or 1200 or 1440 or 2880;
        if (!floppy) numSectors = numSectors / spt * spt;
        if (sizeFat == null && deviceLength >= 512L << 20) sizeFat = 32;
        if (sizeFat == 32)
        {
            long mb = deviceLength >> 20;
            clusterSize = mb > 32 * 1024 ? 64 : mb > 16 * 1024 ? 32 : mb > 8 * 1024 ? 16 : mb > 260 ? 8 : 1;
        }
        int reserved = sizeFat == 32 ? 32 : 1;
        const int nrFats = 2;
        int maxClusterSize = 128;
        if (userCluster is int c) { clusterSize = maxClusterSize = c; }
        bool align = numSectors > 8192;
        long Align(long sectors, int cs) => align ? (sectors + cs - 1) & ~(long)(cs - 1) : sectors;
        long rootDirSectors = (rootEntries * 32 + sectorSize - 1) / sectorSize;

        long clust12 = 0, clust16 = 0, clust32 = 0, fatLength12 = 0, fatLength16 = 0, fatLength32 = 0;
        while (true)
        {
            long fatdata32 = numSectors - Align(reserved, clusterSize);
            long fatdata1216 = fatdata32 - Align(rootDirSectors, clusterSize);

            clust12 = 2 * (fatdata1216 * sectorSize + nrFats * 3) / (2 * clusterSize * sectorSize + nrFats * 3);
            fatLength12 = Align((((clust12 + 2) * 3 + 1) / 2 + sectorSize - 1) / sectorSize, clusterSize);
            clust12 = (fatdata1216 - nrFats * fatLength12) / clusterSize;
            long maxClust12 = Math.Min(fatLength12 * 2 * sectorSize / 3, MaxClusters12);
            if (clust12 > maxClust12 - 2) clust12 = 0;

            clust16 = (fatdata1216 * sectorSize + nrFats * 4) / (clusterSize * sectorSize + nrFats * 2);
            fatLength16 = Align(((clust16 + 2) * 2 + sectorSize - 1) / sectorSize, clusterSize);
            clust16 = (fatdata1216 - nrFats * fatLength16) / clusterSize;
            long maxClust16 = Math.Min(fatLength16 * sectorSize / 2, MaxClusters16);
            if (clust16 > maxClust16 - 2) clust16 = 0;
            if (clust16 < FatGeometry.Fat12Limit) clust16 = 0;

            clust32 = (fatdata32 * sectorSize + nrFats * 8) / (clusterSize * sectorSize + nrFats * 4);
            fatLength32 = Align(((clust32 + 2) * 4 + sectorSize - 1) / sectorSize, clusterSize);
            clust32 = (fatdata32 - nrFats * fatLength32) / clusterSize;
            long maxClust32 = Math.Min(fatLength32 * sectorSize / 4, MaxClusters32);
            // Unlike mkfs.fat we never write a FAT32 that the cluster-count rule would call FAT16.
            if (clust32 < FatGeometry.Fat16Limit) clust32 = 0;
            if (clust32 > maxClust32) clust32 = 0;

            if ((clust12 > 0 && (sizeFat == null || sizeFat == 12)) || (clust16 > 0 && (sizeFat == null || sizeFat == 16))
                || (clust32 > 0 && sizeFat == 32))
                break;
            clusterSize <<= 1;
            if (clusterSize > maxClusterSize)
            {
                string what = sizeFat == null ? "FAT" : $"FAT{sizeFat}";
                string hint = sizeFat switch
                {
                    12 => "FAT12 holds at most 4084 clusters: use a smaller image, larger clusters (-c) or FAT16/FAT32",
                    16 => "FAT16 needs 4085..65524 clusters: use FAT12 for small images, FAT32 for large ones, or another -c",
                    32 => "FAT32 needs at least 65525 clusters (about 33 MiB with 512-byte clusters): use a larger image, a smaller -c, or FAT12/16",
                    _ => userCluster == null ? "the device is too small" : "try another cluster size (-c)",
                };
                throw new FsException(Errno.EINVAL, $"{what} cannot be made on {deviceLength} bytes{(userCluster != null ? $" with {userCluster} sectors per cluster" : "")}: {hint}");
            }
        }
        sizeFat ??= clust16 > clust12 ? 16 : 12;
        long clusters = sizeFat switch { 12 => clust12, 16 => clust16, _ => clust32 };
        long fatLength = sizeFat switch { 12 => fatLength12, 16 => fatLength16, _ => fatLength32 };
        if (sizeFat == 32) rootEntries = 0;
        reserved = (int)Align(reserved, clusterSize);
        if (align) rootEntries = (int)(Align(rootDirSectors, clusterSize) * (sectorSize / 32));
        if (sizeFat == 32) rootEntries = 0;
        long dataStart = reserved + nrFats * fatLength + rootEntries * 32 / sectorSize;
        if (numSectors < dataStart + 64)
            throw new FsException(Errno.EINVAL, $"{deviceLength} bytes is too small for a FAT file system");
        _ = clusters;

        bool fat32 = sizeFat == 32;
        return new BiosParameterBlock
        {
            JumpBoot = fat32 ? [0xEB, 0x58, 0x90] : [0xEB, 0x3C, 0x90],
            OemName = "mkfs.fat",
            BytesPerSector = sectorSize,
            SectorsPerCluster = (byte)clusterSize,
            ReservedSectors = (ushort)reserved,
            NumberOfFats = nrFats,
            RootEntryCount = (ushort)rootEntries,
            TotalSectors16 = numSectors < 65536 ? (ushort)numSectors : (ushort)0,
            TotalSectors32 = numSectors < 65536 ? 0 : (uint)numSectors,
            Media = media,
            FatSize16 = fat32 ? (ushort)0 : (ushort)fatLength,
            FatSize32 = fat32 ? (uint)fatLength : 0,
            SectorsPerTrack = spt,
            NumberOfHeads = heads,
            RootCluster = fat32 ? 2u : 0,
            FsInfoSector = fat32 ? (ushort)1 : (ushort)0,
            BackupBootSector = fat32 ? (ushort)6 : (ushort)0,
            DriveNumber = media == 0xF8 ? (byte)0x80 : (byte)0,
            VolumeId = volumeId,
            VolumeLabel = LabelBytes(options.Label),
            FileSystemType = $"FAT{sizeFat}   ",
        };
    }

    /// <summary>The 11-byte label: upper case, space padded, "NO NAME" when none is given.</summary>
    public static byte[] LabelBytes(string? label)
    {
        if (string.IsNullOrEmpty(label)) return "NO NAME    "u8.ToArray();
        if (label.Length > 11) throw new FsException(Errno.EINVAL, "a FAT label has at most 11 characters");
        if (label[0] == ' ') throw new FsException(Errno.EINVAL, "a FAT label cannot start with a space");
        foreach (char ch in label)
            if (ch < 0x20 || ch > 0x7E || "*?.,;:/\\|+=<>[]\"".Contains(ch))
                throw new FsException(Errno.EINVAL, $"a FAT label cannot contain '{ch}' (use printable ASCII without *?.,;:/\\|+=<>[]\")");
        return ShortNameGenerator.Pack(label.ToUpperInvariant().PadRight(11)[..8], label.ToUpperInvariant().PadRight(11)[8..]);
    }

    public void Format(IBlockDevice device, FormatOptions options)
    {
        if (device.IsReadOnly) throw new FsException(Errno.EROFS, $"{device.Name} is read-only");
        if (512 % device.SectorSize != 0 && device.SectorSize % 512 != 0)
            throw new FsException(Errno.EINVAL, $"sector size {device.SectorSize} is not supported");
        if (device.SectorSize > 512) throw new FsException(Errno.EINVAL, "FAT formatting needs a device with 512-byte sectors");
        uint volumeId = VolumeId ?? (uint)(DateTime.UtcNow.Ticks / TimeSpan.TicksPerMillisecond * 0x9E3779B1);
        var bpb = Plan(device.Length, options, volumeId);
        var g = FatGeometry.TryCreate(bpb, device.Length, out string? problem)
                ?? throw new InvalidOperationException($"planned an invalid geometry: {problem}");
        int bps = bpb.BytesPerSector;
        try
        {
            var zero = new byte[Math.Max(bps, 64 * 1024)];
            WriteZeros(device, 0, bpb.ReservedSectors * (long)bps, zero);
            var boot = new byte[bps];
            bpb.WriteTo(boot);
            // Boot code: a message-less halt loop, so a BIOS booting it stops instead of running garbage.
            boot[bpb.JumpBoot[1] + 2] = 0xF4;
            boot[bpb.JumpBoot[1] + 3] = 0xEB;
            boot[bpb.JumpBoot[1] + 4] = 0xFD;
            device.Write(0, boot);
            var fat = new byte[g.FatSectors * bps];
            var table = new FileAllocationTable(g.Type, g.ClusterCount, fat, bps);
            table.SetRaw(0, g.Type switch { FatType.Fat12 => 0xF00u, FatType.Fat16 => 0xFF00u, _ => 0x0FFFFF00u } | bpb.Media);
            table.SetRaw(1, table.EndOfChain);
            if (g.Type == FatType.Fat32)
            {
                table.SetRaw(2, table.EndOfChain);
                var info = new byte[bps];
                new FsInfo(g.ClusterCount - 1, 2).WriteTo(info);
                info[510] = 0x55; info[511] = 0xAA;
                device.Write(bps * (long)bpb.FsInfoSector, info);
                device.Write(bps * (long)bpb.BackupBootSector, boot);
            }
            for (int copy = 0; copy < bpb.NumberOfFats; copy++) device.Write(g.FatOffset(copy), fat);
            long rootOffset = g.Type == FatType.Fat32 ? g.ClusterOffset(2) : g.RootDirOffset;
            long rootLength = g.Type == FatType.Fat32 ? g.BytesPerCluster : g.RootDirSectors * (long)bps;
            WriteZeros(device, rootOffset, rootLength, zero);
            if (!bpb.VolumeLabel.AsSpan().SequenceEqual("NO NAME    "u8))
            {
                var now = FatDateTime.Clamp(DateTime.UtcNow);
                var label = new ShortDirectoryEntry
                {
                    Name = bpb.VolumeLabel, Attributes = FatAttributes.VolumeId,
                    WriteDate = FatDateTime.EncodeDate(now), WriteTime = FatDateTime.EncodeTime(now),
                    CreationDate = FatDateTime.EncodeDate(now), CreationTime = FatDateTime.EncodeTime(now),
                    AccessDate = FatDateTime.EncodeDate(now),
                };
                var sector = new byte[bps];
                label.WriteTo(sector);
                device.Write(rootOffset, sector);
            }
            options.Progress?.Report(1.0);
            device.Flush();
        }
        catch (IOException e)
        {
            throw new FsException(Errno.EIO, $"{device.Name}: write failed while formatting: {e.Message}", e);
        }
    }

    private static void WriteZeros(IBlockDevice device, long offset, long length, byte[] zero)
    {
        while (length > 0)
        {
            int n = (int)Math.Min(length, zero.Length);
            device.Write(offset, zero.AsSpan(0, n));
            offset += n;
            length -= n;
        }
    }
}
