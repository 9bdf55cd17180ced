using System.Buffers.Binary;

namespace MountFs.Fat;

/// <summary>A 32-byte 8.3 directory entry (fatgen103 section 6).</summary>
public sealed record ShortDirectoryEntry
{
    public const int Size = 32;
    public const byte DeletedMarker = 0xE5;
    /// <summary>NTRes bits: Windows NT and Linux show the base / extension in lower case.</summary>
    public const byte LowerCaseBase = 0x08;
    public const byte LowerCaseExtension = 0x10;

    /// <summary>The 11 name bytes as stored (0x05 in byte 0 stands for 0xE5).</summary>
    public byte[] Name { get; init; } = new byte[11];
    public FatAttributes Attributes { get; init; }
    public byte CaseFlags { get; init; }
    /// <summary>Creation time fine part, 0..199 in 10 ms units.</summary>
    public byte CreationTimeTenth { get; init; }
    public ushort CreationTime { get; init; }
    public ushort CreationDate { get; init; }
    public ushort AccessDate { get; init; }
    public ushort WriteTime { get; init; }
    public ushort WriteDate { get; init; }
    public uint FirstCluster { get; init; }
    public uint FileSize { get; init; }

    public bool IsDirectory => (Attributes & FatAttributes.Directory) != 0;
    public bool IsVolumeLabel => (Attributes & (FatAttributes.VolumeId | FatAttributes.Directory)) == FatAttributes.VolumeId
                                 && (Attributes & FatAttributes.LongName) != FatAttributes.LongName;

    public static bool IsLongNameSlot(ReadOnlySpan<byte> s) => (s[11] & 0x3F) == (byte)FatAttributes.LongName;
    public static bool IsFree(ReadOnlySpan<byte> s) => s[0] == 0x00 || s[0] == DeletedMarker;
    public static bool IsEndMarker(ReadOnlySpan<byte> s) => s[0] == 0x00;

    public static ShortDirectoryEntry Parse(ReadOnlySpan<byte> s)
    {
        if (s.Length < Size) throw new ArgumentException("directory entry shorter than 32 bytes", nameof(s));
        return new ShortDirectoryEntry
        {
            Name = s[..11].ToArray(),
            Attributes = (FatAttributes)s[11],
            CaseFlags = s[12],
            CreationTimeTenth = s[13],
            CreationTime = BinaryPrimitives.ReadUInt16LittleEndian(s[14..]),
            CreationDate = BinaryPrimitives.ReadUInt16LittleEndian(s[16..]),
            AccessDate = BinaryPrimitives.ReadUInt16LittleEndian(s[18..]),
            FirstCluster = (uint)BinaryPrimitives.ReadUInt16LittleEndian(s[20..]) << 16 | BinaryPrimitives.ReadUInt16LittleEndian(s[26..]),
            WriteTime = BinaryPrimitives.ReadUInt16LittleEndian(s[22..]),
            WriteDate = BinaryPrimitives.ReadUInt16LittleEndian(s[24..]),
            FileSize = BinaryPrimitives.ReadUInt32LittleEndian(s[28..]),
        };
    }

    public void WriteTo(Span<byte> s)
    {
        if (s.Length < Size) throw new ArgumentException("directory entry shorter than 32 bytes", nameof(s));
        Name.AsSpan(0, 11).CopyTo(s);
        s[11] = (byte)Attributes;
        s[12] = CaseFlags;
        s[13] = CreationTimeTenth;
        BinaryPrimitives.WriteUInt16LittleEndian(s[14..], CreationTime);
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], CreationDate);
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], AccessDate);
        BinaryPrimitives.WriteUInt16LittleEndian(s[20..], (ushort)(FirstCluster >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], WriteTime);
        BinaryPrimitives.WriteUInt16LittleEndian(s[24..], WriteDate);
        BinaryPrimitives.WriteUInt16LittleEndian(s[26..], (ushort)FirstCluster);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], FileSize);
    }

    /// <summary>The name as a DOS user sees it ("README.TXT"), case flags applied, 0x05 mapped back.</summary>
    public string DisplayName()
    {
        Span<byte> n = stackalloc byte[11];
        Name.CopyTo(n);
        if (n[0] == 0x05) n[0] = DeletedMarker;
        string baseName = OemCodePage.Decode(n[..8]).TrimEnd(' ');
        string ext = OemCodePage.Decode(n[8..]).TrimEnd(' ');
        if ((CaseFlags & LowerCaseBase) != 0) baseName = baseName.ToLowerInvariant();
        if ((CaseFlags & LowerCaseExtension) != 0) ext = ext.ToLowerInvariant();
        return ext.Length == 0 ? baseName : baseName + "." + ext;
    }
}
