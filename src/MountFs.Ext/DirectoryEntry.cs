using System.Buffers.Binary;

namespace MountFs.Ext;

/// <summary>
/// One linear directory record (struct ext2_dir_entry_2): inode u32 @0, rec_len u16 @4, name_len u8 @6,
/// file_type u8 @7, name @8 (no NUL). rec_len is a multiple of 4, at least <see cref="RecordLength"/>(name_len),
/// never crosses a block, and the last record of a block runs to the block's end.
/// </summary>
/// <remarks>The name is kept as raw bytes: ext2 names are byte strings, and what the caller decodes is its business.</remarks>
public readonly record struct DirectoryEntry(uint Inode, ushort RecordLength, byte[] Name, byte FileType)
{
    public const int HeaderSize = 8;
    public const int MaxNameLength = 255;

    // file_type values (filetype feature).
    public const byte TypeUnknown = 0, TypeRegular = 1, TypeDirectory = 2, TypeCharDevice = 3, TypeBlockDevice = 4,
        TypeFifo = 5, TypeSocket = 6, TypeSymlink = 7;

    /// <summary>Smallest rec_len holding a name of <paramref name="nameLength"/> bytes.</summary>
    public static int MinimumRecordLength(int nameLength) => (HeaderSize + nameLength + 3) & ~3;

    /// <summary>
    /// Parses the record at <paramref name="offset"/> of a directory block. Returns null with a reason when the record
    /// breaks the rec_len rules (so a corrupt block never sends a reader out of bounds or into a loop).
    /// </summary>
    public static DirectoryEntry? TryRead(ReadOnlySpan<byte> block, int offset, out string? error)
    {
        if (!DirectoryRecordHeader.TryRead(block, offset, out var h, out error)) return null;
        return new DirectoryEntry(h.Inode, h.RecordLength, block.Slice(offset + HeaderSize, h.NameLength).ToArray(), h.FileType);
    }

    /// <summary>Writes header and name at <paramref name="offset"/>; bytes between name end and rec_len are left alone.</summary>
    public void WriteTo(Span<byte> block, int offset)
    {
        if (Name.Length > MaxNameLength) throw new ArgumentException("name longer than 255 bytes");
        if (RecordLength < MinimumRecordLength(Name.Length) || RecordLength % 4 != 0 || offset + RecordLength > block.Length)
            throw new ArgumentException($"rec_len {RecordLength} invalid for a {Name.Length}-byte name at offset {offset}");
        var d = block[offset..];
        BinaryPrimitives.WriteUInt32LittleEndian(d, Inode);
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], RecordLength);
        d[6] = (byte)Name.Length;
        d[7] = FileType;
        Name.CopyTo(d[HeaderSize..]);
    }

    /// <summary>Patches only rec_len of the record at <paramref name="offset"/> (used when merging or splitting slack).</summary>
    public static void WriteRecordLength(Span<byte> block, int offset, int recLen) =>
        BinaryPrimitives.WriteUInt16LittleEndian(block[(offset + 4)..], checked((ushort)recLen));

    /// <summary>Patches only the inode field (0 marks the first record of a block unused).</summary>
    public static void WriteInode(Span<byte> block, int offset, uint inode) =>
        BinaryPrimitives.WriteUInt32LittleEndian(block[offset..], inode);

    /// <summary>The file_type value for a mode's type bits.</summary>
    public static byte FileTypeOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => TypeRegular,
        0x4000 => TypeDirectory,
        0x2000 => TypeCharDevice,
        0x6000 => TypeBlockDevice,
        0x1000 => TypeFifo,
        0xC000 => TypeSocket,
        0xA000 => TypeSymlink,
        _ => TypeUnknown,
    };

    public bool IsDot => Name.Length == 1 && Name[0] == (byte)'.';
    public bool IsDotDot => Name.Length == 2 && Name[0] == (byte)'.' && Name[1] == (byte)'.';
}
