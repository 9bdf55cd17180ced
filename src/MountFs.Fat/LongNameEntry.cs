using System.Buffers.Binary;

namespace MountFs.Fat;

/// <summary>A VFAT long-name slot: 13 UTF-16 units of the name, stored before its short entry in reverse order.</summary>
public sealed record LongNameEntry
{
    public const int CharsPerEntry = 13;
    public const byte LastFlag = 0x40;
    private static readonly int[] CharOffsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

    /// <summary>Sequence number 1..20, with <see cref="LastFlag"/> on the slot holding the end of the name.</summary>
    public byte Ordinal { get; init; }
    public char[] Chars { get; init; } = new char[CharsPerEntry];
    public byte Type { get; init; }
    public byte Checksum { get; init; }
    public ushort FirstClusterLow { get; init; }

    public int Sequence => Ordinal & 0x3F;
    public bool IsLast => (Ordinal & LastFlag) != 0;

    public static LongNameEntry Parse(ReadOnlySpan<byte> s)
    {
        if (s.Length < 32) throw new ArgumentException("long-name entry shorter than 32 bytes", nameof(s));
        var chars = new char[CharsPerEntry];
        for (int i = 0; i < CharsPerEntry; i++) chars[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(s[CharOffsets[i]..]);
        return new LongNameEntry
        {
            Ordinal = s[0], Chars = chars, Type = s[12], Checksum = s[13],
            FirstClusterLow = BinaryPrimitives.ReadUInt16LittleEndian(s[26..]),
        };
    }

    public void WriteTo(Span<byte> s)
    {
        if (s.Length < 32) throw new ArgumentException("long-name entry shorter than 32 bytes", nameof(s));
        s[0] = Ordinal;
        s[11] = (byte)FatAttributes.LongName;
        s[12] = Type;
        s[13] = Checksum;
        BinaryPrimitives.WriteUInt16LittleEndian(s[26..], FirstClusterLow);
        for (int i = 0; i < CharsPerEntry; i++) BinaryPrimitives.WriteUInt16LittleEndian(s[CharOffsets[i]..], Chars[i]);
    }

    /// <summary>Slots for <paramref name="name"/> in on-disk order (last part first), padded 0x0000 then 0xFFFF.</summary>
    public static LongNameEntry[] Build(string name, byte checksum)
    {
        int count = (name.Length + CharsPerEntry - 1) / CharsPerEntry;
        var result = new LongNameEntry[count];
        for (int k = 0; k < count; k++)
        {
            var chars = new char[CharsPerEntry];
            for (int i = 0; i < CharsPerEntry; i++)
            {
                int p = k * CharsPerEntry + i;
                chars[i] = p < name.Length ? name[p] : p == name.Length ? '\0' : '\uFFFF';
            }
            byte ord = (byte)(k + 1 | (k == count - 1 ? LastFlag : 0));
            result[count - 1 - k] = new LongNameEntry { Ordinal = ord, Chars = chars, Checksum = checksum };
        }
        return result;
    }

    /// <summary>The name part of this slot, without terminator and padding.</summary>
    public string Text()
    {
        int n = Array.IndexOf(Chars, '\0');
        return new string(Chars, 0, n < 0 ? CharsPerEntry : n);
    }
}
