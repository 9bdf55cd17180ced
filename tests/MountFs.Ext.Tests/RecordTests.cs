using System.Text;

namespace MountFs.Ext.Tests;

public class RecordTests
{
    [Fact]
    public void SuperBlock_fields_round_trip_at_their_offsets()
    {
        var sb = new SuperBlock
        {
            InodesCount = 7 * 2048, BlocksCount = 56789, ReservedBlocksCount = 111, FreeBlocksCount = 4321, FreeInodesCount = 99,
            FirstDataBlock = 1, LogBlockSize = 0, LogClusterSize = 0, BlocksPerGroup = 8192, ClustersPerGroup = 8192,
            InodesPerGroup = 2048, MountTime = 0x11223344, WriteTime = 0x55667788, MountCount = 7, MaxMountCount = -1,
            Magic = SuperBlock.MagicValue, State = SuperBlock.StateValid, Errors = 1, RevLevel = 1, FirstInode = 11,
            InodeSize = 256, BlockGroupNumber = 3, FeatureCompat = CompatFeatures.ExtAttr | CompatFeatures.ResizeInode,
            FeatureIncompat = IncompatFeatures.FileType, FeatureRoCompat = RoCompatFeatures.SparseSuper | RoCompatFeatures.LargeFile,
            Uuid = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), VolumeName = "label", ReservedGdtBlocks = 255,
            LastOrphan = 42, DefaultHashVersion = 1, MkfsTime = 77, MinExtraInodeSize = 32, WantExtraInodeSize = 32,
        };
        sb.HashSeed[0] = 0xAB;
        var bytes = new byte[SuperBlock.Size];
        sb.WriteTo(bytes);
        Assert.Equal(0xEF53, BitConverter.ToUInt16(bytes, 0x38));
        Assert.Equal(255, BitConverter.ToUInt16(bytes, 0xCE));
        Assert.Equal(42u, BitConverter.ToUInt32(bytes, 0xE8));
        Assert.Equal(0x00, bytes[0x68]); Assert.Equal(0x11, bytes[0x69]); Assert.Equal(0xFF, bytes[0x77]); // RFC 4122 order
        Assert.Equal("label", Encoding.ASCII.GetString(bytes, 0x78, 5));
        Assert.Equal(0xAB, bytes[0xEC]);
        var back = SuperBlock.Read(bytes);
        Assert.Equal(bytes, back.Raw.ToArray());
        Assert.Equal(sb.Uuid, back.Uuid);
        Assert.Equal("label", back.VolumeName);
        Assert.Equal(-1, back.MaxMountCount);
        Assert.Equal(1024, back.BlockSize);
        Assert.Null(back.Validate(56789L * 1024));
        Assert.NotNull(back.Validate(1000)); // blocks beyond the device
    }

    [SkippableFact]
    public void SuperBlock_parses_what_mke2fs_writes()
    {
        Skip.IfNot(ExternalTool.Exists("mke2fs"), "mke2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 64 << 20, "-b", "1024", "-L", "mylabel");
        var bytes = File.ReadAllBytes(img);
        var sb = SuperBlock.Read(bytes.AsSpan(1024, 1024));
        Assert.Null(sb.Validate(bytes.Length));
        string dump = ExternalTool.Run("dumpe2fs", "-h", img).Out;
        string Field(string name) => dump.Split('\n').First(l => l.StartsWith(name + ":")).Split(':', 2)[1].Trim();
        Assert.Equal(uint.Parse(Field("Block count")), sb.BlocksCount);
        Assert.Equal(uint.Parse(Field("Inode count")), sb.InodesCount);
        Assert.Equal(uint.Parse(Field("Free blocks")), sb.FreeBlocksCount);
        Assert.Equal(uint.Parse(Field("Reserved GDT blocks")), sb.ReservedGdtBlocks);
        Assert.Equal(int.Parse(Field("Inode size")), sb.InodeSize);
        Assert.Equal(Guid.Parse(Field("Filesystem UUID")), sb.Uuid);
        Assert.Equal("mylabel", sb.VolumeName);
        var ours = new[] { FeatureNames.Describe(sb.FeatureCompat), FeatureNames.Describe(sb.FeatureIncompat), FeatureNames.Describe(sb.FeatureRoCompat) }
            .SelectMany(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries)).OrderBy(x => x, StringComparer.Ordinal);
        var theirs = Field("Filesystem features").Split(' ', StringSplitOptions.RemoveEmptyEntries).OrderBy(x => x, StringComparer.Ordinal);
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void GroupDescriptor_round_trips()
    {
        var gd = new GroupDescriptor { BlockBitmap = 3, InodeBitmap = 4, InodeTable = 5, FreeBlocksCount = 100, FreeInodesCount = 200, UsedDirsCount = 7, Flags = 0, Checksum = 0x1234 };
        var b = new byte[GroupDescriptor.Size];
        gd.WriteTo(b);
        Assert.Equal(5u, BitConverter.ToUInt32(b, 8));
        Assert.Equal(200, BitConverter.ToUInt16(b, 14));
        Assert.Equal(7, BitConverter.ToUInt16(b, 16));
        Assert.Equal(gd, GroupDescriptor.Read(b));
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void Inode_round_trips(int size)
    {
        var ino = new Inode(size) { Mode = 0x81A4, Uid = 0x12345678, Gid = 0x9ABCDEF0, Size = 5L << 32 | 17, LinksCount = 3, Flags = Inode.IndexFlag, FileAcl = 99, Generation = 5 };
        if (size > 128) ino.ExtraSize = 32;
        ino.Blocks512 = 88;
        for (int i = 0; i < 15; i++) ino.SetBlock(i, (uint)(1000 + i));
        var (s, e) = Inode.EncodeTime(0x1_2345_6789, 123_456_789);
        ino.MtimeSeconds = s; ino.MtimeExtra = e;
        var b = new byte[size];
        ino.WriteTo(b);
        Assert.Equal(0x5678, BitConverter.ToUInt16(b, 2));
        Assert.Equal(0x1234, BitConverter.ToUInt16(b, 120));
        Assert.Equal(17u, BitConverter.ToUInt32(b, 4));
        Assert.Equal(5u, BitConverter.ToUInt32(b, 108));
        Assert.Equal(1014u, BitConverter.ToUInt32(b, 40 + 14 * 4));
        Assert.Equal(99u, BitConverter.ToUInt32(b, 104));
        var back = Inode.Read(b);
        Assert.Equal(b, back.Raw.ToArray());
        Assert.Equal(0x12345678u, back.Uid);
        Assert.Equal(0x9ABCDEF0u, back.Gid);
        Assert.Equal(5L << 32 | 17, back.Size);
        var (sec, ns) = Inode.DecodeTime(back.MtimeSeconds, back.MtimeExtra, back.HasTimeExtra);
        if (size > 128) { Assert.Equal(0x1_2345_6789, sec); Assert.Equal(123_456_789u, ns); Assert.Equal(32, BitConverter.ToUInt16(b, 128)); }
        else Assert.Equal(0x2345_6789, sec);
    }

    [Theory]
    [InlineData(0x0103u)] // 1:3, old encoding
    [InlineData(0x0010_0A03u)] // minor past 255
    public void Inode_device_numbers_round_trip(uint dev)
    {
        var ino = new Inode(128) { DeviceNumber = dev };
        Assert.Equal(dev, ino.DeviceNumber);
        Assert.Equal(dev < 0x10000 ? dev : 0, ino.Block(0));
    }

    [Fact]
    public void DirectoryEntry_round_trips_and_rejects_bad_rec_len()
    {
        var block = new byte[1024];
        var e = new DirectoryEntry(12, 20, "hello.txt"u8.ToArray(), DirectoryEntry.TypeRegular);
        e.WriteTo(block, 0);
        new DirectoryEntry(0, 1004, [], 0).WriteTo(block, 20);
        var back = DirectoryEntry.TryRead(block, 0, out var err);
        Assert.Null(err);
        Assert.Equal(12u, back!.Value.Inode);
        Assert.Equal("hello.txt", Encoding.UTF8.GetString(back.Value.Name));
        Assert.Equal(20, back.Value.RecordLength);
        Assert.Equal(DirectoryEntry.TypeRegular, back.Value.FileType);
        Assert.Equal(20, DirectoryEntry.MinimumRecordLength(9));
        Assert.Equal(12, DirectoryEntry.MinimumRecordLength(1));
        DirectoryEntry.WriteRecordLength(block, 0, 2000); // crosses the block
        Assert.Null(DirectoryEntry.TryRead(block, 0, out err));
        Assert.NotNull(err);
        DirectoryEntry.WriteRecordLength(block, 0, 10); // not a multiple of 4
        Assert.Null(DirectoryEntry.TryRead(block, 0, out _));
        DirectoryEntry.WriteRecordLength(block, 0, 12); // name does not fit
        Assert.Null(DirectoryEntry.TryRead(block, 0, out _));
        Assert.Null(DirectoryEntry.TryRead(block, 1020, out _));
    }

    [Fact]
    public void Geometry_places_sparse_backups_in_0_1_and_powers_of_3_5_7()
    {
        var g = new Geometry(blocksCount: 400 * 8192 + 1, firstDataBlock: 1, blockSize: 1024, blocksPerGroup: 8192, inodesPerGroup: 2048,
            inodeSize: 256, sparseSuper: true, reservedGdtBlocks: 256);
        Assert.Equal(400, g.GroupCount);
        var with = Enumerable.Range(0, 400).Where(g.HasSuperBlock).ToArray();
        Assert.Equal(new[] { 0, 1, 3, 5, 7, 9, 25, 27, 49, 81, 125, 243, 343 }, with);
        Assert.Equal(13, g.GdtBlocks); // 400 groups / 32 per block
        Assert.Equal(512, g.InodeTableBlocks);
        Assert.Equal(1 + 13 + 256, g.SuperBlockOverhead(1));
        Assert.Equal(0, g.SuperBlockOverhead(2));
        Assert.Equal((1u + 8192 * 2, 2u + 8192 * 2, 3u + 8192 * 2), g.StandardMetadata(2));
        Assert.Equal((0, 0u, 256), g.LocateInode(2));
        Assert.Equal((1, 1u, 256), g.LocateInode(2048 + 6));
        var nonSparse = new Geometry(10 * 8192, 0, 4096, 8192, 1024, 128, false, 0);
        Assert.True(Enumerable.Range(0, 10).All(nonSparse.HasSuperBlock));
        Assert.Equal(8192u, nonSparse.GroupBlockCount(9));
    }

    [SkippableFact]
    public void Geometry_matches_dumpe2fs_for_a_mke2fs_image()
    {
        Skip.IfNot(ExternalTool.Exists("dumpe2fs"), "dumpe2fs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 300L << 20, "-b", "1024");
        var sb = SuperBlock.Read(File.ReadAllBytes(img).AsSpan(1024, 1024));
        var g = Geometry.From(sb);
        string dump = ExternalTool.Run("dumpe2fs", img).Out;
        var lines = dump.Split('\n');
        int groupsSeen = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("Group ")) continue;
            int group = int.Parse(lines[i].Split(' ', ':')[1]);
            groupsSeen++;
            bool hasBackup = lines[i + 1].Contains("superblock at");
            Assert.Equal(hasBackup, g.HasSuperBlock(group));
            var (bb, ib, it) = g.StandardMetadata(group);
            string block = lines.Skip(i + 1).First(l => l.Contains("Block bitmap at"));
            Assert.Contains($"Block bitmap at {bb} ", block);
            Assert.Contains($"Inode bitmap at {ib} ", lines.Skip(i + 1).First(l => l.Contains("Inode bitmap at")));
            Assert.Contains($"Inode table at {it}-{it + g.InodeTableBlocks - 1}", lines.Skip(i + 1).First(l => l.Contains("Inode table at")));
        }
        Assert.Equal(g.GroupCount, groupsSeen);
    }
}
