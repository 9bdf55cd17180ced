using System.Buffers.Binary;
using System.Text;

namespace MountFs.Ext.Tests.Checking;

/// <summary>
/// An ext2 image file loaded into memory for the corruption tests: finds inodes, directory entries and group
/// metadata through the on-disk record types, lets a test change bytes, and saves the result.
/// </summary>
internal sealed class Ext2Image
{
    private readonly string _path;

    public Ext2Image(string path)
    {
        _path = path;
        Bytes = Checking.ImageFileRetry.Do(() => File.ReadAllBytes(path));
        Sb = SuperBlock.Read(Bytes.AsSpan(SuperBlock.PrimaryOffset, SuperBlock.Size));
        Geo = Geometry.From(Sb);
    }

    public byte[] Bytes { get; }
    public SuperBlock Sb { get; }
    public Geometry Geo { get; }
    public int BlockSize => Geo.BlockSize;

    public void Save() => Checking.ImageFileRetry.Do(() => File.WriteAllBytes(_path, Bytes));

    public void SaveSuperBlock() => Sb.WriteTo(Bytes.AsSpan(SuperBlock.PrimaryOffset, SuperBlock.Size));

    public Span<byte> Block(uint block) => Bytes.AsSpan((int)(block * (long)BlockSize), BlockSize);

    private long GroupDescriptorOffset(int group) => (long)Geo.GdtStart(0) * BlockSize + group * GroupDescriptor.Size;

    public GroupDescriptor Group(int group) => GroupDescriptor.Read(Bytes.AsSpan((int)GroupDescriptorOffset(group)));

    public void SetGroup(int group, GroupDescriptor d) => d.WriteTo(Bytes.AsSpan((int)GroupDescriptorOffset(group)));

    private int InodeOffset(uint ino)
    {
        var (g, blockInTable, offset) = Geo.LocateInode(ino);
        return (int)((Group(g).InodeTable + blockInTable) * (long)BlockSize + offset);
    }

    public Inode Inode(uint ino) => Ext.Inode.Read(Bytes.AsSpan(InodeOffset(ino), Geo.InodeSize));

    public void SetInode(uint ino, Inode inode) => inode.WriteTo(Bytes.AsSpan(InodeOffset(ino), Geo.InodeSize));

    /// <summary>The entry named <paramref name="name"/> in directory <paramref name="dir"/>: its inode and byte offset in the image.</summary>
    public (uint Inode, int Offset) Entry(uint dir, string name)
    {
        var inode = Inode(dir);
        byte[] want = Encoding.UTF8.GetBytes(name);
        for (int l = 0; l < Ext.Inode.DirectBlocks && l * (long)BlockSize < inode.Size; l++)
        {
            uint b = inode.Block(l);
            var data = Block(b);
            for (int off = 0; off < BlockSize;)
            {
                var e = DirectoryEntry.TryRead(data, off, out _) ?? throw new InvalidOperationException($"bad dir block {b}");
                if (e.Inode != 0 && e.Name.AsSpan().SequenceEqual(want)) return (e.Inode, (int)(b * (long)BlockSize + off));
                off += e.RecordLength;
            }
        }
        throw new InvalidOperationException($"'{name}' not found in inode {dir}");
    }

    public uint Lookup(string path)
    {
        uint ino = 2;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries)) ino = Entry(ino, part).Inode;
        return ino;
    }

    public void SetEntryInode(int offset, uint ino) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(offset), ino);
    public void SetRecordLength(int offset, ushort len) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(offset + 4), len);
    public ushort RecordLength(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(offset + 4));

    public bool BlockBit(uint block)
    {
        int g = Geo.GroupOfBlock(block);
        uint i = block - Geo.GroupFirstBlock(g);
        return (Block(Group(g).BlockBitmap)[(int)(i >> 3)] & (1 << (int)(i & 7))) != 0;
    }

    public void SetBlockBit(uint block, bool value)
    {
        int g = Geo.GroupOfBlock(block);
        uint i = block - Geo.GroupFirstBlock(g);
        var bitmap = Block(Group(g).BlockBitmap);
        if (value) bitmap[(int)(i >> 3)] |= (byte)(1 << (int)(i & 7));
        else bitmap[(int)(i >> 3)] &= (byte)~(1 << (int)(i & 7));
    }
}
