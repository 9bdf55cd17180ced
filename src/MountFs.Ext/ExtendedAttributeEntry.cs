using System.Buffers.Binary;
using System.Text;

namespace MountFs.Ext;

/// <summary>
/// One extended attribute as stored (struct ext2_ext_attr_entry): e_name_len u8 @0, e_name_index u8 @1,
/// e_value_offs u16 @2, e_value_inum u32 @4, e_value_size u32 @8, e_hash u32 @12, name @16, padded to 4 bytes.
/// Entries follow the block header (or the in-inode magic) and end with four zero bytes.
/// </summary>
public sealed record ExtendedAttributeEntry(byte NameIndex, byte[] Name, byte[] Value)
{
    public const int HeaderSize = 16;
    public const uint Magic = 0xEA020000;

    public static int EntrySize(int nameLength) => (HeaderSize + nameLength + 3) & ~3;
    public static int ValueSize(int valueLength) => (valueLength + 3) & ~3;

    private static readonly (byte Index, string Prefix)[] Prefixes =
    [
        (1, "user."), (2, "system.posix_acl_access"), (3, "system.posix_acl_default"), (4, "trusted."),
        (6, "security."), (7, "system."), (8, "system.richacl"),
    ];

    /// <summary>The name as user space sees it (prefix + stored name), or null for an unknown name index.</summary>
    public string? FullName
    {
        get
        {
            foreach (var (i, p) in Prefixes)
                if (i == NameIndex) return p + Encoding.UTF8.GetString(Name);
            return null;
        }
    }

    /// <summary>Splits a user-space name into (index, stored name); null when no prefix matches.</summary>
    public static (byte Index, byte[] Name)? Encode(string fullName)
    {
        if (fullName == "system.posix_acl_access") return (2, []);
        if (fullName == "system.posix_acl_default") return (3, []);
        if (fullName == "system.richacl") return (8, []);
        foreach (var (i, p) in Prefixes)
            if (i is 1 or 4 or 6 or 7 && fullName.StartsWith(p, StringComparison.Ordinal) && fullName.Length > p.Length)
                return (i, Encoding.UTF8.GetBytes(fullName[p.Length..]));
        return null;
    }

    /// <summary>e_hash as e2fsprogs computes it (ext2fs_ext_attr_hash_entry): name bytes then value words.</summary>
    public static uint Hash(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        uint hash = 0;
        foreach (byte c in name) hash = (hash << 5) ^ (hash >> 27) ^ c;
        int words = (value.Length + 3) / 4;
        Span<byte> word = stackalloc byte[4];
        for (int w = 0; w < words; w++)
        {
            word.Clear();
            var part = value.Slice(w * 4, Math.Min(4, value.Length - w * 4));
            part.CopyTo(word);
            hash = (hash << 16) ^ (hash >> 16) ^ BinaryPrimitives.ReadUInt32LittleEndian(word);
        }
        return hash;
    }

    /// <summary>
    /// Parses the entry list starting at <paramref name="entriesStart"/> of <paramref name="area"/>; value offsets are
    /// relative to <paramref name="valueBase"/>. Returns null with a reason for anything out of bounds.
    /// </summary>
    public static List<ExtendedAttributeEntry>? TryReadList(ReadOnlySpan<byte> area, int entriesStart, int valueBase, out string? error)
    {
        error = null;
        var list = new List<ExtendedAttributeEntry>();
        int off = entriesStart;
        while (true)
        {
            if (off + 4 > area.Length) { error = $"entry list runs off the end at {off}"; return null; }
            if (BinaryPrimitives.ReadUInt32LittleEndian(area[off..]) == 0) return list;
            if (off + HeaderSize > area.Length) { error = $"entry at {off} runs off the end"; return null; }
            byte nameLen = area[off];
            byte index = area[off + 1];
            int valueOffs = BinaryPrimitives.ReadUInt16LittleEndian(area[(off + 2)..]);
            uint valueInum = BinaryPrimitives.ReadUInt32LittleEndian(area[(off + 4)..]);
            uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(area[(off + 8)..]);
            int size = EntrySize(nameLen);
            if (off + size > area.Length) { error = $"entry name at {off} runs off the end"; return null; }
            if (valueInum != 0) { error = $"entry at {off} keeps its value in inode {valueInum} (ea_inode)"; return null; }
            long vStart = (long)valueBase + valueOffs;
            if (valueSize > (uint)area.Length || vStart + valueSize > area.Length) { error = $"value of entry at {off} ({valueSize} bytes at {valueOffs}) is out of bounds"; return null; }
            list.Add(new ExtendedAttributeEntry(index, area.Slice(off + HeaderSize, nameLen).ToArray(), area.Slice((int)vStart, (int)valueSize).ToArray()));
            off += size;
            if (list.Count > 4096) { error = "too many entries"; return null; }
        }
    }

    /// <summary>Sort order the kernel's lookup relies on in blocks: index, then name length, then name bytes.</summary>
    public static int Compare(ExtendedAttributeEntry a, ExtendedAttributeEntry b)
    {
        int c = a.NameIndex.CompareTo(b.NameIndex);
        if (c == 0) c = a.Name.Length.CompareTo(b.Name.Length);
        if (c == 0) c = a.Name.AsSpan().SequenceCompareTo(b.Name);
        return c;
    }
}

/// <summary>
/// An extended-attribute block (struct ext2_ext_attr_header, 32 bytes): h_magic 0xEA020000 @0, h_refcount @4
/// (inodes sharing the block), h_blocks @8 (1), h_hash @12, h_checksum @16; entries from byte 32, values packed
/// from the block's end downwards.
/// </summary>
public static class ExtendedAttributeBlock
{
    public const int HeaderSize = 32;

    public static uint RefCount(ReadOnlySpan<byte> block) => BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
    public static void SetRefCount(Span<byte> block, uint count) => BinaryPrimitives.WriteUInt32LittleEndian(block[4..], count);

    /// <summary>Validates the header and parses the entries; null with a reason when the block is not a valid xattr block.</summary>
    public static List<ExtendedAttributeEntry>? TryRead(ReadOnlySpan<byte> block, out string? error)
    {
        if (block.Length < HeaderSize + 4) { error = "block too small"; return null; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(block) != ExtendedAttributeEntry.Magic) { error = "bad magic"; return null; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(block[8..]) != 1) { error = "h_blocks is not 1"; return null; }
        return ExtendedAttributeEntry.TryReadList(block, HeaderSize, 0, out error);
    }

    /// <summary>Bytes a block needs for these entries (header, entries, terminator, padded values).</summary>
    public static int RequiredSize(IEnumerable<ExtendedAttributeEntry> entries) =>
        HeaderSize + 4 + entries.Sum(e => ExtendedAttributeEntry.EntrySize(e.Name.Length) + ExtendedAttributeEntry.ValueSize(e.Value.Length));

    /// <summary>Writes a whole block: sorted entries with their hashes, values from the end, header hash.</summary>
    public static void Write(Span<byte> block, IReadOnlyList<ExtendedAttributeEntry> entries, uint refCount)
    {
        if (RequiredSize(entries) > block.Length) throw new ArgumentException("attributes do not fit the block");
        block.Clear();
        var sorted = entries.ToList();
        sorted.Sort(ExtendedAttributeEntry.Compare);
        BinaryPrimitives.WriteUInt32LittleEndian(block, ExtendedAttributeEntry.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], refCount);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], 1);
        int off = HeaderSize, valueEnd = block.Length;
        uint blockHash = 0;
        foreach (var e in sorted)
        {
            int valueOffs = 0;
            if (e.Value.Length > 0)
            {
                valueEnd -= ExtendedAttributeEntry.ValueSize(e.Value.Length);
                valueOffs = valueEnd;
                e.Value.CopyTo(block[valueEnd..]);
            }
            uint hash = ExtendedAttributeEntry.Hash(e.Name, block.Slice(valueOffs, ExtendedAttributeEntry.ValueSize(e.Value.Length))[..e.Value.Length]);
            block[off] = (byte)e.Name.Length;
            block[off + 1] = e.NameIndex;
            BinaryPrimitives.WriteUInt16LittleEndian(block[(off + 2)..], (ushort)valueOffs);
            BinaryPrimitives.WriteUInt32LittleEndian(block[(off + 8)..], (uint)e.Value.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(block[(off + 12)..], hash);
            e.Name.CopyTo(block[(off + ExtendedAttributeEntry.HeaderSize)..]);
            off += ExtendedAttributeEntry.EntrySize(e.Name.Length);
            blockHash = (blockHash << 16) ^ (blockHash >> 16) ^ hash;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], blockHash);
    }
}
