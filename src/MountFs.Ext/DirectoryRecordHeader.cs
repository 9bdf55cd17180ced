using System.Buffers.Binary;

namespace MountFs.Ext;

/// <summary>
/// The fixed 8-byte head of a linear directory record (inode u32 @0, rec_len u16 @4, name_len u8 @6, file_type u8 @7),
/// parsed without copying the name: lookups, inserts and removals walk whole blocks, and a name copy per record
/// would cost more than the walk. The name is the <see cref="NameLength"/> bytes at offset + 8.
/// </summary>
public readonly record struct DirectoryRecordHeader(uint Inode, ushort RecordLength, byte NameLength, byte FileType)
{
    /// <summary>
    /// Parses the head of the record at <paramref name="offset"/>, checking the same rec_len rules as
    /// <see cref="DirectoryEntry.TryRead"/>; false with a reason when they are broken.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> block, int offset, out DirectoryRecordHeader header, out string? error)
    {
        header = default;
        error = null;
        if (offset < 0 || (offset & 3) != 0 || offset + DirectoryEntry.HeaderSize > block.Length)
        {
            error = $"entry at offset {offset} does not fit the {block.Length}-byte block";
            return false;
        }
        var s = block[offset..];
        ushort recLen = BinaryPrimitives.ReadUInt16LittleEndian(s[4..]);
        byte nameLen = s[6];
        if (recLen < DirectoryEntry.HeaderSize || (recLen & 3) != 0 || offset + recLen > block.Length)
        {
            error = $"rec_len {recLen} at offset {offset} is invalid";
            return false;
        }
        if (DirectoryEntry.HeaderSize + nameLen > recLen)
        {
            error = $"name_len {nameLen} at offset {offset} overruns rec_len {recLen}";
            return false;
        }
        header = new DirectoryRecordHeader(BinaryPrimitives.ReadUInt32LittleEndian(s), recLen, nameLen, s[7]);
        return true;
    }

    /// <summary>Bytes of the record a live entry needs; the rest up to rec_len is slack a new name can take.</summary>
    public int UsedLength => Inode == 0 ? 0 : DirectoryEntry.MinimumRecordLength(NameLength);

    /// <summary>The largest record a new name could take out of this one (its slack, or all of it when unused).</summary>
    public int Slack => RecordLength - UsedLength;
}
