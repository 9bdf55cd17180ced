using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MountFs.Blocks.Partitions;

namespace MountFs.Blocks.Tests;

public sealed class PartitionRecordTests
{
    [Property(MaxTest = 200)]
    public void Mbr_entry_round_trips(byte status, byte type, uint firstLba, uint count, ushort chsLow, byte chsHigh)
    {
        uint chs = (uint)(chsLow | chsHigh << 16);
        var entry = new MbrPartitionEntry(status, chs, type, chs ^ 0xABCDEF, firstLba, count);
        var bytes = new byte[MbrPartitionEntry.Size + 4];
        entry.Write(bytes.AsSpan(2));
        Assert.Equal(entry, MbrPartitionEntry.Read(bytes.AsSpan(2)));
        Assert.Equal(type, bytes[2 + 4]);
        Assert.Equal(firstLba, BitConverter.ToUInt32(bytes, 2 + 8));
        Assert.Equal(count, BitConverter.ToUInt32(bytes, 2 + 12));
        Assert.Equal([0, 0], bytes[..2]);
        Assert.Equal([0, 0], bytes[^2..]);
    }

    [Fact]
    public void Chs_follows_the_255_head_63_sector_translation()
    {
        Assert.Equal(0x00_02_00u, MbrPartitionEntry.ChsFor(1));             // head 0, sector 2, cylinder 0
        Assert.Equal(0x00_21_20u, MbrPartitionEntry.ChsFor(2048));          // head 32, sector 33, cylinder 0
        Assert.Equal(0xFF_FF_FEu, MbrPartitionEntry.ChsFor(1024L * 255 * 63));
        uint c1023 = MbrPartitionEntry.ChsFor(1023L * 255 * 63);
        Assert.Equal(0xFFu, c1023 >> 16);                                   // low 8 bits of cylinder 1023
        Assert.Equal(0xC1u, c1023 >> 8 & 0xFF);                             // high 2 bits + sector 1
    }

    [Fact]
    public void Mbr_write_keeps_the_boot_code_and_sets_the_signature()
    {
        var sector = DeviceModelCheck.Pattern(512, 77, 0);
        var mbr = new MasterBootRecord(0xDEADBEEF, [new MbrPartitionEntry(0x80, 0x2100, 0x83, 0xFFFFFE, 2048, 4096)]);
        var bootCode = sector[..440];
        mbr.Write(sector);
        Assert.Equal(bootCode, sector[..440]);
        Assert.True(MasterBootRecord.HasBootSignature(sector));
        var back = MasterBootRecord.Read(sector);
        Assert.Equal(0xDEADBEEFu, back.DiskSignature);
        Assert.Equal(mbr.Entries[0], back.Entries[0]);
        Assert.True(back.Entries.Skip(1).All(e => e.IsEmpty));
    }

    public static Arbitrary<GptHeader> Headers() =>
        (from lbas in Gen.ArrayOf(ArbMap.Default.GeneratorFor<ulong>(), 6)
         from numbers in Gen.ArrayOf(ArbMap.Default.GeneratorFor<uint>(), 3)
         from guid in ArbMap.Default.GeneratorFor<Guid>()
         select new GptHeader
         {
             MyLba = lbas[0], AlternateLba = lbas[1], FirstUsableLba = lbas[2], LastUsableLba = lbas[3], PartitionEntryLba = lbas[4],
             DiskGuid = guid, NumberOfPartitionEntries = numbers[0], SizeOfPartitionEntry = numbers[1], PartitionEntryArrayCrc32 = numbers[2],
         }).ToArbitrary();

    [Property(Arbitrary = [typeof(PartitionRecordTests)], MaxTest = 200)]
    public void Gpt_header_round_trips_with_a_valid_crc(GptHeader header)
    {
        var sealedHeader = header.WithCrc();
        var sector = new byte[512];
        sealedHeader.Write(sector);
        Assert.True(GptHeader.HasSignature(sector));
        Assert.Equal(sealedHeader, GptHeader.Read(sector));
        // The UEFI rule, computed here independently: CRC32 of the 92-byte header with its CRC field zeroed.
        var zeroedCrcField = sector.AsSpan(0, GptHeader.Size).ToArray();
        zeroedCrcField.AsSpan(16, 4).Clear();
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(zeroedCrcField), sealedHeader.HeaderCrc32);
        Assert.Equal(header.DiskGuid, new Guid(sector.AsSpan(56, 16)));
        Assert.Equal(header.PartitionEntryLba, BitConverter.ToUInt64(sector, 72));
        DeviceModelCheck.AssertZero(sector.AsSpan(GptHeader.Size));
    }

    public static Arbitrary<GptPartitionEntry> Entries() =>
        (from guids in Gen.ArrayOf(ArbMap.Default.GeneratorFor<Guid>(), 2)
         from lbas in Gen.ArrayOf(ArbMap.Default.GeneratorFor<ulong>(), 3)
         from nameLength in Gen.Choose(0, GptPartitionEntry.NameUnits)
         from name in Gen.ArrayOf(Gen.Choose(1, 0xD7FF).Select(c => (char)c), nameLength)
         select new GptPartitionEntry(guids[0], guids[1], lbas[0], lbas[1], lbas[2], new string(name))).ToArbitrary();

    [Property(Arbitrary = [typeof(PartitionRecordTests)], MaxTest = 200)]
    public void Gpt_entry_round_trips(GptPartitionEntry entry)
    {
        var bytes = new byte[GptPartitionEntry.Size];
        entry.Write(bytes);
        Assert.Equal(entry, GptPartitionEntry.Read(bytes));
        Assert.Equal(entry.FirstLba, BitConverter.ToUInt64(bytes, 32));
        Assert.Equal(entry.LastLba, BitConverter.ToUInt64(bytes, 40));
    }

    [Fact]
    public void Gpt_entry_refuses_names_longer_than_36_units()
    {
        var entry = new GptPartitionEntry(GptPartitionEntry.LinuxFileSystem, Guid.NewGuid(), 34, 100, 0, new string('x', 37));
        Assert.Throws<ArgumentException>(() => entry.Write(new byte[GptPartitionEntry.Size]));
    }

    [Fact]
    public void Well_known_type_guids_have_the_on_disk_byte_order()
    {
        // 0FC63DAF-8483-4772-8E79-3D69D8477DE4 is stored AF 3D C6 0F 83 84 72 47 8E 79 3D 69 D8 47 7D E4.
        Assert.Equal(Convert.FromHexString("AF3DC60F838472478E793D69D8477DE4"), GptPartitionEntry.LinuxFileSystem.ToByteArray());
    }
}
