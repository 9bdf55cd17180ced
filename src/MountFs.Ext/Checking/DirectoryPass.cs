using System.Buffers.Binary;
using System.Text;

namespace MountFs.Ext.Checking;

/// <summary>
/// Pass 2: every directory block. Record layout (rec_len, name_len) is checked and a broken block salvaged the way
/// e2fsck does (trim an overlong record, let the previous record absorb a bad one, or empty the rest of the block);
/// '.' and '..' must open block 0; entries naming reserved, out-of-range or unused inodes, extra '.'/'..', links to
/// the root or second links to a directory are cleared; names with '/' or NUL are fixed; file types are made to match
/// the inodes. Counts every surviving entry for pass 4 and notes each directory's parent for pass 3.
/// </summary>
internal static class DirectoryPass
{
    public static void Run(CheckSession s)
    {
        s.Say("Pass 2: Checking directory structure");
        // Each block is checked in this working copy and written back to the overlay only when repaired.
        var data = new byte[s.BlockSize];
        var names = new HashSet<string>(StringComparer.Ordinal);
        var dirs = s.Directories.Keys.ToArray();
        Array.Sort(dirs);
        foreach (uint dir in dirs)
        {
            if (!s.Directories.TryGetValue(dir, out var info)) continue;
            names.Clear();
            for (int l = 0; l < info.Blocks.Count; l++)
            {
                if (info.Blocks[l] == 0 && !FillHole(s, info, l)) continue;
                CheckBlock(s, info, l, names, data);
            }
        }
    }

    /// <summary>A directory block inside i_size that is not allocated gets a fresh (empty) block.</summary>
    private static bool FillHole(CheckSession s, CheckedDirectory info, int logical)
    {
        s.Fix($"Directory inode {info.Inode} has an unallocated block #{logical}; allocating it.", preenSafe: true);
        uint block = s.AllocateBlock();
        if (block == 0)
        {
            s.Unfixable($"No free block for directory inode {info.Inode}.");
            return false;
        }
        var inode = s.ReadInode(info.Inode);
        int added = DirectoryEditor.MapBlock(s, inode, logical, block);
        if (added < 0) return false;
        var data = s.Disk.Overwrite(block);
        if (logical == 0) DirectoryEditor.WriteDotBlock(data, info.Inode, 2);
        else DirectoryEditor.WriteEmptyBlock(data);
        inode.Blocks512 += (ulong)(1 + added) * (ulong)(s.BlockSize / 512);
        s.WriteInode(info.Inode, inode);
        info.Blocks[logical] = block;
        return true;
    }

    private static void CheckBlock(CheckSession s, CheckedDirectory info, int logical, HashSet<string> names, byte[] data)
    {
        uint dir = info.Inode;
        uint block = info.Blocks[logical];
        s.Disk.ReadInto(block, data);
        int bs = data.Length;
        bool modified = false, relaid = false;
        int offset = 0, prev = -1, index = 0;
        int guard = bs; // every iteration either advances or shrinks a record; bounded anyway
        while (offset < bs && guard-- > 0)
        {
            string? error = RecordProblem(data, offset);
            if (error != null)
            {
                s.Fix($"Directory inode {dir}, block #{logical}, offset {offset}: directory corrupted ({error}); salvaging.");
                Salvage(s, data, ref offset, prev);
                modified = relaid = true;
                continue;
            }
            if (logical == 0 && index == 0) modified |= CheckDot(s, data, dir, ref relaid);
            else if (logical == 0 && index == 1) modified |= CheckDotDot(s, data, offset, info, ref relaid);
            var e = DirectoryEntry.TryRead(data, offset, out _)!.Value;
            bool dotSlot = logical == 0 && index <= 1;
            if (e.Inode != 0 && CheckEntry(s, data, block, offset, e, info, dotSlot, names, ref relaid)) modified = true;
            prev = offset;
            offset += BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(offset + 4));
            index++;
        }
        if (!modified) return;
        data.CopyTo(s.Disk.Modify(block), 0);
        if (relaid) DropIndex(s, dir);
    }

    private static string? RecordProblem(byte[] data, int offset)
    {
        if (offset + DirectoryEntry.HeaderSize > data.Length) return "record header past the block end";
        int recLen = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(offset + 4));
        int nameLen = data[offset + 6];
        if (recLen < 12) return $"rec_len {recLen} too small";
        if (recLen % 4 != 0) return $"rec_len {recLen} not a multiple of 4";
        if (offset + recLen > data.Length) return $"rec_len {recLen} runs past the block end";
        if (DirectoryEntry.MinimumRecordLength(nameLen) > recLen) return $"name_len {nameLen} does not fit rec_len {recLen}";
        return null;
    }

    /// <summary>e2fsck's salvage order: shorten a record that runs off the block, merge a bad one into its
    /// predecessor, or give up on the rest of the block.</summary>
    private static void Salvage(CheckSession s, byte[] data, ref int offset, int prev)
    {
        int left = data.Length - offset;
        if (left >= DirectoryEntry.HeaderSize)
        {
            int recLen = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(offset + 4));
            int nameLen = data[offset + 6];
            uint ino = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
            bool cleanName = data.AsSpan(offset + 8, Math.Min(nameLen, left - 8)).IndexOf((byte)0) < 0;
            if (recLen > left && left >= 12 && DirectoryEntry.MinimumRecordLength(nameLen) <= left && ino <= s.Geo.InodesCount && cleanName)
            {
                DirectoryEntry.WriteRecordLength(data, offset, left);
                return;
            }
            if (prev >= 0 && recLen > 0 && recLen % 4 == 0 && recLen <= left)
            {
                int prevLen = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(prev + 4));
                DirectoryEntry.WriteRecordLength(data, prev, prevLen + recLen);
                offset += recLen;
                return;
            }
        }
        if (prev >= 0)
        {
            int prevLen = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(prev + 4));
            DirectoryEntry.WriteRecordLength(data, prev, prevLen + left);
            offset = data.Length;
            return;
        }
        data.AsSpan(offset, DirectoryEntry.HeaderSize).Clear();
        DirectoryEntry.WriteRecordLength(data, offset, left);
    }

    private static bool CheckDot(CheckSession s, byte[] data, uint dir, ref bool relaid)
    {
        var e = DirectoryEntry.TryRead(data, 0, out _)!.Value;
        bool changed = false;
        if (!e.IsDot)
        {
            s.Fix($"Missing '.' in directory inode {dir}.");
            InsertBefore(data, 0, e);
            new DirectoryEntry(dir, 12, "."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(data, 0);
            relaid = true;
            return true;
        }
        if (data[DirectoryEntry.HeaderSize + 1] != 0)
        {
            s.Fix($"'.' directory entry in directory inode {dir} is not NULL terminated.", preenSafe: true);
            data[DirectoryEntry.HeaderSize + 1] = 0;
            changed = true;
        }
        if (e.Inode != dir)
        {
            s.Fix($"'.' in directory inode {dir} points to inode {e.Inode}.");
            DirectoryEntry.WriteInode(data, 0, dir);
            changed = true;
        }
        if (e.RecordLength > 24)
        {
            s.Fix($"Directory entry for '.' in inode {dir} is big ({e.RecordLength} bytes); splitting it.", preenSafe: true);
            DirectoryEntry.WriteRecordLength(data, 0, 12);
            data.AsSpan(12, DirectoryEntry.HeaderSize).Clear();
            DirectoryEntry.WriteRecordLength(data, 12, e.RecordLength - 12);
            relaid = true;
            changed = true;
        }
        return changed;
    }

    private static bool CheckDotDot(CheckSession s, byte[] data, int offset, CheckedDirectory info, ref bool relaid)
    {
        var e = DirectoryEntry.TryRead(data, offset, out _)!.Value;
        if (e.IsDotDot && e.Inode != 0)
        {
            info.DotDot = e.Inode;
            if (data[offset + DirectoryEntry.HeaderSize + 2] == 0) return false;
            s.Fix($"'..' directory entry in directory inode {info.Inode} is not NULL terminated.", preenSafe: true);
            data[offset + DirectoryEntry.HeaderSize + 2] = 0;
            return true;
        }
        s.Fix($"Missing '..' in directory inode {info.Inode}.");
        if (!(e.IsDotDot || e.Inode == 0)) InsertBefore(data, offset, e);
        else data.AsSpan(offset + DirectoryEntry.HeaderSize, e.RecordLength - DirectoryEntry.HeaderSize).Clear();
        int recLen = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(offset + 4));
        // The parent is not known yet; the root stands in and pass 3 corrects it, as e2fsck does.
        new DirectoryEntry(2, (ushort)recLen, ".."u8.ToArray(), DirectoryEntry.TypeDirectory).WriteTo(data, offset);
        info.DotDot = 2;
        relaid = true;
        return true;
    }

    /// <summary>
    /// Makes a 12-byte slot at <paramref name="offset"/> by moving the record there 12 bytes on when its slack
    /// allows; otherwise the record is given up (its inode is found again by pass 3 or 4).
    /// </summary>
    private static void InsertBefore(byte[] data, int offset, DirectoryEntry e)
    {
        bool keep = e.Inode != 0 && e.RecordLength - 12 >= DirectoryEntry.MinimumRecordLength(e.Name.Length);
        if (keep)
        {
            var moved = e with { RecordLength = (ushort)(e.RecordLength - 12) };
            data.AsSpan(offset, e.RecordLength).Clear();
            moved.WriteTo(data, offset + 12);
            DirectoryEntry.WriteRecordLength(data, offset, 12);
            return;
        }
        if (e.RecordLength > 24)
        {
            data.AsSpan(offset, e.RecordLength).Clear();
            DirectoryEntry.WriteRecordLength(data, offset, 12);
            DirectoryEntry.WriteRecordLength(data, offset + 12, e.RecordLength - 12);
            return;
        }
        data.AsSpan(offset, e.RecordLength).Clear();
        DirectoryEntry.WriteRecordLength(data, offset, e.RecordLength);
    }

    /// <summary>Checks one in-use entry; true when it changed the block.</summary>
    private static bool CheckEntry(CheckSession s, byte[] data, uint block, int offset, DirectoryEntry e, CheckedDirectory info,
        bool dotSlot, HashSet<string> names, ref bool relaid)
    {
        uint dir = info.Inode;
        uint target = e.Inode;
        byte[] originalName = e.Name;
        string? clear = null;
        bool preenSafe = false;
        if ((target != 2 && target < s.Sb.FirstInode) || target > s.Geo.InodesCount) clear = $"has bad inode #{target}";
        else if (!dotSlot && e.IsDot) clear = "is a duplicate '.' entry";
        else if (!dotSlot && e.IsDotDot) clear = "is a duplicate '..' entry";
        else if (!dotSlot && target == 2) clear = "is a link to the root inode";
        else if (!dotSlot && e.Name.Length == 0) clear = "has a zero-length name";
        else if (!s.InodeUsed[(int)target])
        {
            clear = $"has deleted/unused inode {target}";
            preenSafe = true;
        }
        if (clear != null)
        {
            s.Fix($"Entry '{Printable(originalName)}' in directory inode {dir} {clear}; clearing it.", preenSafe);
            DirectoryEntry.WriteInode(data, offset, 0);
            return true;
        }
        bool changed = false;
        if (!dotSlot && (e.Name.AsSpan().IndexOf((byte)'/') >= 0 || e.Name.AsSpan().IndexOf((byte)0) >= 0))
        {
            s.Fix($"Entry '{Printable(originalName)}' in directory inode {dir} has illegal characters in its name.");
            for (int i = 0; i < e.Name.Length; i++)
                if (e.Name[i] is (byte)'/' or 0) data[offset + DirectoryEntry.HeaderSize + i] = (byte)'.';
            e = DirectoryEntry.TryRead(data, offset, out _)!.Value;
            relaid = true;
            changed = true;
        }
        byte expected = s.Sb.HasIncompat(IncompatFeatures.FileType) ? s.InodeType[target] : (byte)0;
        if (e.FileType != expected)
        {
            s.Fix($"Entry '{Printable(originalName)}' in directory inode {dir} has an incorrect filetype (was {e.FileType}, should be {expected}).");
            data[offset + 7] = expected;
            changed = true;
        }
        string key = Encoding.Latin1.GetString(e.Name);
        if (!names.Add(key))
        {
            s.Fix($"Duplicate entry '{Printable(originalName)}' in directory inode {dir}; clearing it.");
            DirectoryEntry.WriteInode(data, offset, 0);
            return true;
        }
        if (!dotSlot && s.InodeType[target] == DirectoryEntry.TypeDirectory && s.Directories.TryGetValue(target, out var child))
        {
            if (child.Parent != 0)
            {
                s.Fix($"Entry '{Printable(originalName)}' in directory inode {dir} is a second link to directory inode {target} (already in {child.Parent}); clearing it.");
                DirectoryEntry.WriteInode(data, offset, 0);
                return true;
            }
            child.Parent = dir;
            child.ParentEntry = new EntryLocation(dir, block, offset);
        }
        s.LinksCounted[target]++;
        return changed;
    }

    private static void DropIndex(CheckSession s, uint dir)
    {
        var inode = s.ReadInode(dir);
        if ((inode.Flags & Inode.IndexFlag) == 0) return;
        inode.Flags &= ~Inode.IndexFlag;
        s.WriteInode(dir, inode);
    }

    internal static string Printable(byte[] name)
    {
        var sb = new StringBuilder();
        foreach (byte b in name) sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        return sb.ToString();
    }
}
