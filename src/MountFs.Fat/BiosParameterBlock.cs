using System.Buffers.Binary;
using System.Text;

namespace MountFs.Fat;

/// <summary>
/// Boot sector with the BIOS parameter block (fatgen103 section 3): the common part at 0..35, then either
/// the FAT12/16 tail (36..61) or the FAT32 extended BPB (36..89). Which tail applies is decided by
/// FATSz16 == 0, as Windows and Linux do.
/// </summary>
public sealed record BiosParameterBlock
{
    public const int Size = 512;

    public byte[] JumpBoot { get; init; } = [0xEB, 0x3C, 0x90];
    public string OemName { get; init; } = "mkfs.fat";
    public ushort BytesPerSector { get; init; } = 512;
    public byte SectorsPerCluster { get; init; } = 1;
    public ushort ReservedSectors { get; init; } = 1;
    public byte NumberOfFats { get; init; } = 2;
    public ushort RootEntryCount { get; init; }
    public ushort TotalSectors16 { get; init; }
    public byte Media { get; init; } = 0xF8;
    public ushort FatSize16 { get; init; }
    public ushort SectorsPerTrack { get; init; } = 32;
    public ushort NumberOfHeads { get; init; } = 64;
    public uint HiddenSectors { get; init; }
    public uint TotalSectors32 { get; init; }

    // FAT32 extended BPB (offsets 36..63); zero on FAT12/16.
    public uint FatSize32 { get; init; }
    public ushort ExtFlags { get; init; }
    public ushort FsVersion { get; init; }
    public uint RootCluster { get; init; }
    public ushort FsInfoSector { get; init; }
    public ushort BackupBootSector { get; init; }

    // Shared tail, at 36 (FAT12/16) or 64 (FAT32).
    public byte DriveNumber { get; init; } = 0x80;
    /// <summary>Reserved1: Linux and NT keep the "volume dirty" bit 0x01 here.</summary>
    public byte Reserved1 { get; init; }
    public byte BootSignature { get; init; } = 0x29;
    public uint VolumeId { get; init; }
    public byte[] VolumeLabel { get; init; } = "NO NAME    "u8.ToArray();
    public string FileSystemType { get; init; } = "FAT16   ";
    public bool HasBootSignature { get; init; } = true;

    public bool IsFat32Layout => FatSize16 == 0;
    public long TotalSectors => TotalSectors16 != 0 ? TotalSectors16 : TotalSectors32;
    public long FatSize => FatSize16 != 0 ? FatSize16 : FatSize32;
    public int TailOffset => IsFat32Layout ? 64 : 36;

    public static BiosParameterBlock Parse(ReadOnlySpan<byte> s)
    {
        if (s.Length < Size) throw new ArgumentException("boot sector shorter than 512 bytes", nameof(s));
        ushort fatSize16 = BinaryPrimitives.ReadUInt16LittleEndian(s[22..]);
        bool fat32 = fatSize16 == 0;
        int t = fat32 ? 64 : 36;
        return new BiosParameterBlock
        {
            JumpBoot = s[..3].ToArray(),
            OemName = Encoding.Latin1.GetString(s.Slice(3, 8)),
            BytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(s[11..]),
            SectorsPerCluster = s[13],
            ReservedSectors = BinaryPrimitives.ReadUInt16LittleEndian(s[14..]),
            NumberOfFats = s[16],
            RootEntryCount = BinaryPrimitives.ReadUInt16LittleEndian(s[17..]),
            TotalSectors16 = BinaryPrimitives.ReadUInt16LittleEndian(s[19..]),
            Media = s[21],
            FatSize16 = fatSize16,
            SectorsPerTrack = BinaryPrimitives.ReadUInt16LittleEndian(s[24..]),
            NumberOfHeads = BinaryPrimitives.ReadUInt16LittleEndian(s[26..]),
            HiddenSectors = BinaryPrimitives.ReadUInt32LittleEndian(s[28..]),
            TotalSectors32 = BinaryPrimitives.ReadUInt32LittleEndian(s[32..]),
            FatSize32 = fat32 ? BinaryPrimitives.ReadUInt32LittleEndian(s[36..]) : 0,
            ExtFlags = fat32 ? BinaryPrimitives.ReadUInt16LittleEndian(s[40..]) : (ushort)0,
            FsVersion = fat32 ? BinaryPrimitives.ReadUInt16LittleEndian(s[42..]) : (ushort)0,
            RootCluster = fat32 ? BinaryPrimitives.ReadUInt32LittleEndian(s[44..]) : 0,
            FsInfoSector = fat32 ? BinaryPrimitives.ReadUInt16LittleEndian(s[48..]) : (ushort)0,
            BackupBootSector = fat32 ? BinaryPrimitives.ReadUInt16LittleEndian(s[50..]) : (ushort)0,
            DriveNumber = s[t],
            Reserved1 = s[t + 1],
            BootSignature = s[t + 2],
            VolumeId = BinaryPrimitives.ReadUInt32LittleEndian(s[(t + 3)..]),
            VolumeLabel = s.Slice(t + 7, 11).ToArray(),
            FileSystemType = Encoding.Latin1.GetString(s.Slice(t + 18, 8)),
            HasBootSignature = s[510] == 0x55 && s[511] == 0xAA,
        };
    }

    /// <summary>Writes the BPB fields over <paramref name="s"/>, leaving boot code bytes as they are.</summary>
    public void WriteTo(Span<byte> s)
    {
        if (s.Length < Size) throw new ArgumentException("boot sector shorter than 512 bytes", nameof(s));
        JumpBoot.AsSpan(0, 3).CopyTo(s);
        WriteFixed(s.Slice(3, 8), OemName);
        BinaryPrimitives.WriteUInt16LittleEndian(s[11..], BytesPerSector);
        s[13] = SectorsPerCluster;
        BinaryPrimitives.WriteUInt16LittleEndian(s[14..], ReservedSectors);
        s[16] = NumberOfFats;
        BinaryPrimitives.WriteUInt16LittleEndian(s[17..], RootEntryCount);
        BinaryPrimitives.WriteUInt16LittleEndian(s[19..], TotalSectors16);
        s[21] = Media;
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], FatSize16);
        BinaryPrimitives.WriteUInt16LittleEndian(s[24..], SectorsPerTrack);
        BinaryPrimitives.WriteUInt16LittleEndian(s[26..], NumberOfHeads);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], HiddenSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(s[32..], TotalSectors32);
        if (IsFat32Layout)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s[36..], FatSize32);
            BinaryPrimitives.WriteUInt16LittleEndian(s[40..], ExtFlags);
            BinaryPrimitives.WriteUInt16LittleEndian(s[42..], FsVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(s[44..], RootCluster);
            BinaryPrimitives.WriteUInt16LittleEndian(s[48..], FsInfoSector);
            BinaryPrimitives.WriteUInt16LittleEndian(s[50..], BackupBootSector);
            s.Slice(52, 12).Clear();
        }
        int t = TailOffset;
        s[t] = DriveNumber;
        s[t + 1] = Reserved1;
        s[t + 2] = BootSignature;
        BinaryPrimitives.WriteUInt32LittleEndian(s[(t + 3)..], VolumeId);
        VolumeLabel.AsSpan(0, 11).CopyTo(s[(t + 7)..]);
        WriteFixed(s.Slice(t + 18, 8), FileSystemType);
        if (HasBootSignature) { s[510] = 0x55; s[511] = 0xAA; }
    }

    private static void WriteFixed(Span<byte> field, string text)
    {
        field.Fill((byte)' ');
        int n = Math.Min(field.Length, text.Length);
        for (int i = 0; i < n; i++) field[i] = (byte)(text[i] <= 0xFF ? text[i] : '?');
    }
}
