using System.Buffers.Binary;

namespace MountFs.Fat;

/// <summary>FAT32 FSInfo sector (fatgen103 section 5): free cluster count and next-free hint.</summary>
public sealed record FsInfo(uint FreeCount, uint NextFree)
{
    public const uint LeadSignature = 0x41615252;
    public const uint StructSignature = 0x61417272;
    public const uint TrailSignature = 0xAA550000;
    public const uint Unknown = 0xFFFFFFFF;

    /// <summary>Null when a signature is wrong: the hints are then untrusted.</summary>
    public static FsInfo? Parse(ReadOnlySpan<byte> s)
    {
        if (s.Length < 512) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(s) != LeadSignature
            || BinaryPrimitives.ReadUInt32LittleEndian(s[484..]) != StructSignature
            || BinaryPrimitives.ReadUInt32LittleEndian(s[508..]) != TrailSignature)
            return null;
        return new FsInfo(BinaryPrimitives.ReadUInt32LittleEndian(s[488..]), BinaryPrimitives.ReadUInt32LittleEndian(s[492..]));
    }

    public void WriteTo(Span<byte> s)
    {
        s[..512].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(s, LeadSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(s[484..], StructSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(s[488..], FreeCount);
        BinaryPrimitives.WriteUInt32LittleEndian(s[492..], NextFree);
        BinaryPrimitives.WriteUInt32LittleEndian(s[508..], TrailSignature);
    }
}
