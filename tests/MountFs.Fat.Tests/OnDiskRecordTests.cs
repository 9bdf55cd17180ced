using System.Text;

namespace MountFs.Fat.Tests;

public class OnDiskRecordTests
{
    [Fact]
    public void BiosParameterBlock_Fat16_RoundTrips_AtSpecOffsets()
    {
        var bpb = new BiosParameterBlock
        {
            SectorsPerCluster = 4, ReservedSectors = 4, RootEntryCount = 512, TotalSectors16 = 32768, FatSize16 = 32,
            VolumeId = 0x12345678, VolumeLabel = "MYDISK     "u8.ToArray(), FileSystemType = "FAT16   ", Reserved1 = 1,
        };
        var sector = new byte[512];
        bpb.WriteTo(sector);
        Assert.Equal(512, BitConverter.ToUInt16(sector, 11));
        Assert.Equal(4, sector[13]);
        Assert.Equal(512, BitConverter.ToUInt16(sector, 17));
        Assert.Equal(32, BitConverter.ToUInt16(sector, 22));
        Assert.Equal(1, sector[37]);
        Assert.Equal(0x29, sector[38]);
        Assert.Equal(0x12345678u, BitConverter.ToUInt32(sector, 39));
        Assert.Equal("MYDISK     ", Encoding.ASCII.GetString(sector, 43, 11));
        Assert.Equal("FAT16   ", Encoding.ASCII.GetString(sector, 54, 8));
        Assert.Equal(0xAA, sector[511]);
        var back = BiosParameterBlock.Parse(sector);
        Assert.Equal(bpb with { JumpBoot = back.JumpBoot, VolumeLabel = back.VolumeLabel }, back with { JumpBoot = back.JumpBoot, VolumeLabel = back.VolumeLabel });
        Assert.Equal(bpb.VolumeLabel, back.VolumeLabel);
        Assert.False(back.IsFat32Layout);
    }

    [Fact]
    public void BiosParameterBlock_Fat32_ExtendedFields_RoundTrip()
    {
        var bpb = new BiosParameterBlock
        {
            SectorsPerCluster = 1, ReservedSectors = 32, TotalSectors32 = 100_000, FatSize32 = 777, RootCluster = 2,
            FsInfoSector = 1, BackupBootSector = 6, VolumeId = 0xCAFEF00D, FileSystemType = "FAT32   ",
        };
        var sector = new byte[512];
        bpb.WriteTo(sector);
        Assert.Equal(777u, BitConverter.ToUInt32(sector, 36));
        Assert.Equal(2u, BitConverter.ToUInt32(sector, 44));
        Assert.Equal(1, BitConverter.ToUInt16(sector, 48));
        Assert.Equal(6, BitConverter.ToUInt16(sector, 50));
        Assert.Equal(0x29, sector[66]);
        Assert.Equal(0xCAFEF00Du, BitConverter.ToUInt32(sector, 67));
        Assert.Equal("FAT32   ", Encoding.ASCII.GetString(sector, 82, 8));
        var back = BiosParameterBlock.Parse(sector);
        Assert.True(back.IsFat32Layout);
        Assert.Equal(777, back.FatSize);
        Assert.Equal(100_000, back.TotalSectors);
        Assert.Equal(6, back.BackupBootSector);
        Assert.Equal(0xCAFEF00Du, back.VolumeId);
    }

    [Fact]
    public void FsInfo_RoundTrips_AndRejectsBadSignatures()
    {
        var s = new byte[512];
        new FsInfo(1234, 56).WriteTo(s);
        Assert.Equal(0x41615252u, BitConverter.ToUInt32(s, 0));
        Assert.Equal(0x61417272u, BitConverter.ToUInt32(s, 484));
        Assert.Equal(1234u, BitConverter.ToUInt32(s, 488));
        Assert.Equal(56u, BitConverter.ToUInt32(s, 492));
        Assert.Equal(new FsInfo(1234, 56), FsInfo.Parse(s));
        s[484] ^= 1;
        Assert.Null(FsInfo.Parse(s));
    }

    [Fact]
    public void ShortDirectoryEntry_RoundTrips_WithSplitClusterAndCaseFlags()
    {
        var e = new ShortDirectoryEntry
        {
            Name = ShortNameGenerator.Pack("README", "TXT"), Attributes = FatAttributes.Archive | FatAttributes.ReadOnly,
            CaseFlags = ShortDirectoryEntry.LowerCaseBase | ShortDirectoryEntry.LowerCaseExtension, CreationTimeTenth = 151,
            CreationTime = 0x1234, CreationDate = 0x5678, AccessDate = 0x4321, WriteTime = 0x1111, WriteDate = 0x2222,
            FirstCluster = 0x00ABCDEF, FileSize = 4_000_000_000,
        };
        var b = new byte[32];
        e.WriteTo(b);
        Assert.Equal("README  TXT", Encoding.ASCII.GetString(b, 0, 11));
        Assert.Equal(0x21, b[11]);
        Assert.Equal(0x18, b[12]);
        Assert.Equal(0x00AB, BitConverter.ToUInt16(b, 20));
        Assert.Equal(0xCDEF, BitConverter.ToUInt16(b, 26));
        Assert.Equal(4_000_000_000u, BitConverter.ToUInt32(b, 28));
        var back = ShortDirectoryEntry.Parse(b);
        Assert.Equal(e.Name, back.Name);
        Assert.Equal(e with { Name = back.Name }, back);
        Assert.Equal("readme.txt", back.DisplayName());
    }

    [Fact]
    public void ShortDirectoryEntry_0x05_StandsFor_E5()
    {
        var b = new byte[32];
        new ShortDirectoryEntry { Name = ShortNameGenerator.Pack("\u00E5AB", "") }.WriteTo(b);
        Assert.Equal(0x05, b[0]);
    }

    [Fact]
    public void LongNameEntry_RoundTrips_AndPadsAsSpecified()
    {
        var slots = LongNameEntry.Build("A long file name.txt", 0x5A);
        Assert.Equal(2, slots.Length);
        Assert.Equal(0x42, slots[0].Ordinal);
        Assert.Equal(0x01, slots[1].Ordinal);
        var b = new byte[32];
        slots[0].WriteTo(b);
        Assert.Equal(0x0F, b[11]);
        Assert.Equal(0x5A, b[13]);
        Assert.Equal(0, BitConverter.ToUInt16(b, 26));
        var back = LongNameEntry.Parse(b);
        Assert.Equal(slots[0].Chars, back.Chars);
        Assert.Equal("ame.txt", back.Text());
        // 7 characters + NUL, then 0xFFFF padding for the remaining 5.
        Assert.Equal('\0', back.Chars[7]);
        Assert.Equal('\uFFFF', back.Chars[8]);
        Assert.Equal('\uFFFF', back.Chars[12]);
        Assert.Equal("A long file n", slots[1].Text());
    }

    [Fact]
    public void LongNameChecksum_MatchesTheSpecAlgorithm()
    {
        // Reference computed by hand for "FOO     BAR" with the spec's rotate-right-and-add.
        byte sum = 0;
        foreach (byte c in "FOO     BAR"u8) sum = (byte)((sum >> 1 | sum << 7) + c);
        Assert.Equal(sum, LongNameChecksum.Compute("FOO     BAR"u8));
        Assert.NotEqual(LongNameChecksum.Compute("FOO     BAR"u8), LongNameChecksum.Compute("FOO     BAS"u8));
    }

    [Fact]
    public void FatDateTime_EncodesTwoSecondSteps_AndTenths()
    {
        var t = new DateTime(2024, 2, 29, 13, 45, 37, 560, DateTimeKind.Utc);
        ushort d = FatDateTime.EncodeDate(t), tm = FatDateTime.EncodeTime(t);
        Assert.Equal((2024 - 1980) << 9 | 2 << 5 | 29, d);
        Assert.Equal(13 << 11 | 45 << 5 | 18, tm);
        Assert.Equal(156, FatDateTime.EncodeTenth(t));
        Assert.Equal(new DateTime(2024, 2, 29, 13, 45, 36, DateTimeKind.Utc), FatDateTime.Decode(d, tm));
        Assert.Equal(new DateTime(2024, 2, 29, 13, 45, 37, 560, DateTimeKind.Utc), FatDateTime.Decode(d, tm, 156));
        // Garbage fields decode to something valid instead of throwing.
        _ = FatDateTime.Decode(0xFFFF, 0xFFFF, 255);
        _ = FatDateTime.Decode(0, 0);
    }
}
