using System.Buffers.Binary;
using System.Text;

namespace MountFs.Fuse.Protocol;

/// <summary>
/// fuse_dirent: ino@0, off@8 (cookie of the next entry), namelen@16, type@20, name@24, padded to 8.
/// READDIRPLUS prefixes each with a fuse_entry_out (fuse_direntplus).
/// </summary>
public readonly record struct FuseDirent(ulong Ino, ulong NextOffset, uint Type, string Name)
{
    public const int NameOffset = 24;

    public static int SizeFor(int nameBytes) => (NameOffset + nameBytes + 7) & ~7;

    public static int PlusSizeFor(int nameBytes) => EntryOut.WireSize + SizeFor(nameBytes);

    /// <summary>Writes the record; returns its padded size, or 0 (nothing written) when it does not fit.</summary>
    public int TryWrite(Span<byte> d)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(Name);
        int size = SizeFor(nameBytes);
        if (size > d.Length) return 0;
        BinaryPrimitives.WriteUInt64LittleEndian(d, Ino);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], NextOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(d[16..], (uint)nameBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(d[20..], Type);
        Encoding.UTF8.GetBytes(Name, d[NameOffset..]);
        d[(NameOffset + nameBytes)..size].Clear();
        return size;
    }

    /// <summary>Reads one record; false when the bytes are too short for it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out FuseDirent dirent, out int size)
    {
        dirent = default;
        size = 0;
        if (s.Length < NameOffset) return false;
        uint nameLength = BinaryPrimitives.ReadUInt32LittleEndian(s[16..]);
        if (nameLength > s.Length - NameOffset) return false;
        size = SizeFor((int)nameLength);
        dirent = new FuseDirent(
            BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt64LittleEndian(s[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[20..]), Encoding.UTF8.GetString(s.Slice(NameOffset, (int)nameLength)));
        return true;
    }
}
