using System.Buffers.Binary;

namespace MountFs.Ext.Checking;

/// <summary>
/// The few directory changes repairs need: add an entry (growing the directory by a block when full), point '..'
/// elsewhere, clear an entry, find a name, and lay out fresh directory blocks. Keeps the session's link counts,
/// directory map and block map in step with what it writes.
/// </summary>
internal static class DirectoryEditor
{
    /// <summary>A block holding only '.' and '..'.</summary>
    public static void WriteDotBlock(byte[] block, uint self, uint parent)
    {
        Array.Clear(block);
        new DirectoryEntry(self, 12, "."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(block, 0);
        new DirectoryEntry(parent, (ushort)(block.Length - 12), ".."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(block, 12);
    }

    /// <summary>A block holding one unused record spanning it.</summary>
    public static void WriteEmptyBlock(byte[] block)
    {
        Array.Clear(block);
        DirectoryEntry.WriteRecordLength(block, 0, block.Length);
    }

    /// <summary>Finds <paramref name="name"/> in a directory's blocks; the inode it names and where, or null.</summary>
    public static (uint Inode, EntryLocation Location)? Find(CheckSession s, uint dir, ReadOnlySpan<byte> name)
    {
        if (!s.Directories.TryGetValue(dir, out var info)) return null;
        foreach (uint block in info.Blocks)
        {
            if (block == 0) continue;
            var data = s.Disk.Read(block);
            for (int offset = 0; offset < data.Length;)
            {
                var e = DirectoryEntry.TryRead(data, offset, out _);
                if (e == null) break;
                if (e.Value.Inode != 0 && name.SequenceEqual(e.Value.Name)) return (e.Value.Inode, new EntryLocation(dir, block, offset));
                offset += e.Value.RecordLength;
            }
        }
        return null;
    }

    /// <summary>Zeroes the inode of the entry at <paramref name="at"/> and drops the link it counted.</summary>
    public static void Clear(CheckSession s, EntryLocation at)
    {
        var data = s.Disk.Modify(at.Block);
        uint target = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at.Offset));
        DirectoryEntry.WriteInode(data, at.Offset, 0);
        if (s.ValidInode(target) && s.LinksCounted[target] > 0) s.LinksCounted[target]--;
    }

    /// <summary>Points the '..' of <paramref name="dir"/> at <paramref name="parent"/>, moving the counted link.</summary>
    public static bool SetDotDot(CheckSession s, uint dir, uint parent)
    {
        if (!s.Directories.TryGetValue(dir, out var info) || info.Blocks.Count == 0 || info.Blocks[0] == 0) return false;
        var data = s.Disk.Read(info.Blocks[0]);
        var dot = DirectoryEntry.TryRead(data, 0, out _);
        if (dot == null) return false;
        int offset = dot.Value.RecordLength;
        var dotdot = DirectoryEntry.TryRead(data, offset, out _);
        if (dotdot == null || !dotdot.Value.IsDotDot) return false;
        uint old = dotdot.Value.Inode;
        var block = s.Disk.Modify(info.Blocks[0]);
        DirectoryEntry.WriteInode(block, offset, parent);
        block[offset + 7] = s.Sb.HasIncompat(IncompatFeatures.FileType) ? DirectoryEntry.TypeDirectory : (byte)0;
        if (old != 0 && s.ValidInode(old) && s.LinksCounted[old] > 0) s.LinksCounted[old]--;
        s.LinksCounted[parent]++;
        info.DotDot = parent;
        return true;
    }

    /// <summary>Adds an entry, growing the directory when no block has room; false when the file system is full.</summary>
    public static bool Add(CheckSession s, uint dir, byte[] name, uint target)
    {
        if (!s.Directories.TryGetValue(dir, out var info)) return false;
        byte type = s.Sb.HasIncompat(IncompatFeatures.FileType) ? s.InodeType[target] : (byte)0;
        int need = DirectoryEntry.MinimumRecordLength(name.Length);
        foreach (uint block in info.Blocks)
        {
            if (block != 0 && TryInsert(s, block, name, target, type, need))
            {
                s.LinksCounted[target]++;
                return true;
            }
        }
        uint fresh = s.AllocateBlock();
        if (fresh == 0) return false;
        var inode = s.ReadInode(dir);
        long logical = info.Blocks.Count;
        int added = MapBlock(s, inode, logical, fresh);
        if (added < 0) return false;
        WriteEmptyBlock(s.Disk.Overwrite(fresh));
        info.Blocks.Add(fresh);
        inode.Size = (logical + 1) * s.BlockSize;
        inode.Blocks512 += (ulong)(1 + added) * (ulong)(s.BlockSize / 512);
        inode.Flags &= ~Inode.IndexFlag;
        s.WriteInode(dir, inode);
        if (!TryInsert(s, fresh, name, target, type, need)) return false;
        s.LinksCounted[target]++;
        return true;
    }

    private static bool TryInsert(CheckSession s, uint block, byte[] name, uint target, byte type, int need)
    {
        var data = s.Disk.Read(block);
        for (int offset = 0; offset < data.Length;)
        {
            var e = DirectoryEntry.TryRead(data, offset, out _);
            if (e == null) return false;
            var entry = e.Value;
            int used = entry.Inode == 0 ? 0 : DirectoryEntry.MinimumRecordLength(entry.Name.Length);
            if (entry.RecordLength - used >= need)
            {
                var w = s.Disk.Modify(block);
                if (used == 0)
                {
                    new DirectoryEntry(target, entry.RecordLength, name, type).WriteTo(w, offset);
                }
                else
                {
                    DirectoryEntry.WriteRecordLength(w, offset, used);
                    new DirectoryEntry(target, (ushort)(entry.RecordLength - used), name, type).WriteTo(w, offset + used);
                }
                return true;
            }
            offset += entry.RecordLength;
        }
        return false;
    }

    /// <summary>
    /// Maps file block <paramref name="logical"/> of <paramref name="inode"/> to <paramref name="physical"/>,
    /// allocating indirect blocks on the way; returns how many it allocated, or -1 when out of space or range.
    /// </summary>
    public static int MapBlock(CheckSession s, Inode inode, long logical, uint physical)
    {
        if (logical < Inode.DirectBlocks)
        {
            inode.SetBlock((int)logical, physical);
            return 0;
        }
        long per = s.Geo.PointersPerBlock;
        long rel = logical - Inode.DirectBlocks;
        int level = 1;
        long span = per;
        while (rel >= span)
        {
            rel -= span;
            if (++level > 3) return -1;
            span *= per;
        }
        int added = 0;
        int slot = Inode.SingleIndirect + level - 1;
        uint current = inode.Block(slot);
        if (current == 0)
        {
            current = s.AllocateBlock();
            if (current == 0) return -1;
            s.Disk.Overwrite(current);
            inode.SetBlock(slot, current);
            added++;
        }
        for (int l = level; l >= 1; l--)
        {
            span /= per;
            int index = (int)(rel / span);
            rel %= span;
            var data = s.Disk.Modify(current);
            if (l == 1)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(index * 4), physical);
                break;
            }
            uint next = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(index * 4));
            if (next == 0)
            {
                next = s.AllocateBlock();
                if (next == 0) return -1;
                s.Disk.Overwrite(next);
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(index * 4), next);
                added++;
            }
            current = next;
        }
        return added;
    }
}
