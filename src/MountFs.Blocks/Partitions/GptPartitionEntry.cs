using System.Buffers.Binary;
using System.Text;

namespace MountFs.Blocks.Partitions;

/// <summary>
/// One GPT partition entry (UEFI 2.10 §5.3.3), normally 128 bytes: 0 type GUID (zero = unused); 16 unique GUID;
/// 32 first LBA u64; 40 last LBA u64 (inclusive); 48 attributes u64; 56 name, 36 UTF-16LE code units, NUL-padded.
/// GUIDs use the mixed-endian layout that .NET's Guid(bytes) reads.
/// </summary>
public sealed record GptPartitionEntry(Guid TypeGuid, Guid UniqueGuid, ulong FirstLba, ulong LastLba, ulong Attributes, string Name)
{
    public const int Size = 128;
    public const int NameOffset = 56;
    public const int NameUnits = 36;

    public static readonly Guid LinuxFileSystem = new("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    public static readonly Guid EfiSystem = new("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    public static readonly Guid MicrosoftBasicData = new("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
    public static readonly Guid LinuxSwap = new("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");

    public bool IsUnused => TypeGuid == Guid.Empty;

    public static GptPartitionEntry Read(ReadOnlySpan<byte> entry)
    {
        if (entry.Length < Size)
            throw new ArgumentException($"a GPT entry needs {Size} bytes, got {entry.Length}", nameof(entry));
        var nameBytes = entry.Slice(NameOffset, NameUnits * 2);
        int units = 0;
        while (units < NameUnits && BinaryPrimitives.ReadUInt16LittleEndian(nameBytes[(units * 2)..]) != 0)
            units++;
        return new GptPartitionEntry(
            new Guid(entry[..16]), new Guid(entry.Slice(16, 16)),
            BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(entry[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(entry[48..]),
            Encoding.Unicode.GetString(nameBytes[..(units * 2)]));
    }

    /// <summary>Writes the 128 bytes; a name longer than 36 UTF-16 units is refused.</summary>
    public void Write(Span<byte> entry)
    {
        if (entry.Length < Size)
            throw new ArgumentException($"a GPT entry needs {Size} bytes, got {entry.Length}", nameof(entry));
        if (Name.Length > NameUnits)
            throw new ArgumentException($"GPT partition name \"{Name}\" is longer than {NameUnits} UTF-16 units");
        entry[..Size].Clear();
        TypeGuid.TryWriteBytes(entry[..16]);
        UniqueGuid.TryWriteBytes(entry.Slice(16, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(entry[32..], FirstLba);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[40..], LastLba);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[48..], Attributes);
        Encoding.Unicode.GetBytes(Name, entry.Slice(NameOffset, NameUnits * 2));
    }
}
