using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace MountFs.Ext.Checking;

/// <summary>
/// Pass 5: the block and inode bitmaps are compared with what passes 1-4 found in use (the block bitmap's padding
/// past the last group's end must be set), then each group's free-block, free-inode and directory counts and the
/// superblock's totals.
/// </summary>
internal static class SummaryPass
{
    public static void Run(CheckSession s)
    {
        s.Say("Pass 5: Checking group summary information");
        var geo = s.Geo;
        long freeBlocksTotal = 0, freeInodesTotal = 0;
        var blockDiffs = new List<string>();
        var inodeDiffs = new List<string>();
        // The used-block map packed as on disk (bit i of byte i/8), for comparing whole bitmaps at once.
        var packed = new byte[(s.BlockUsed.Length + 7) / 8];
        s.BlockUsed.CopyTo(packed, 0);
        var expected = new byte[s.BlockSize];
        for (int g = 0; g < geo.GroupCount; g++)
        {
            var d = s.Groups[g];
            uint first = geo.GroupFirstBlock(g);
            uint count = geo.GroupBlockCount(g);
            var bitmap = s.Disk.Read(d.BlockBitmap);
            bool blockChanged = false, padding = false;
            int free = 0;
            uint bits = (uint)s.BlockSize * 8;
            if (ExpectedBlockBitmap(packed, first, count, expected) is int used && expected.AsSpan().SequenceEqual(bitmap))
                free = (int)count - used; // the common case: nothing differs, so no bit-by-bit walk
            else
            {
                for (uint i = 0; i < bits; i++)
                {
                    bool want = i >= count || s.BlockUsed[(int)(first + i)];
                    bool have = (bitmap[i >> 3] & (1 << (int)(i & 7))) != 0;
                    if (i < count && !want) free++;
                    if (want == have) continue;
                    blockChanged = true;
                    if (i >= count) padding = true;
                    else if (blockDiffs.Count < 64) blockDiffs.Add((want ? "+" : "-") + (first + i));
                }
            }
            if (blockChanged)
            {
                var w = s.Disk.Modify(d.BlockBitmap);
                for (uint i = 0; i < bits; i++)
                {
                    bool want = i >= count || s.BlockUsed[(int)(first + i)];
                    if (want) w[i >> 3] |= (byte)(1 << (int)(i & 7));
                    else w[i >> 3] &= (byte)~(1 << (int)(i & 7));
                }
                if (padding) s.Fix($"Padding at end of block bitmap of group {g} is not set.", preenSafe: true);
            }

            var ibitmap = s.Disk.Read(d.InodeBitmap);
            bool inodeChanged = false, inodePadding = false;
            int freeInodes = 0, dirs = 0;
            for (uint i = geo.InodesPerGroup; i < bits; i++)
                inodePadding |= (ibitmap[i >> 3] & (1 << (int)(i & 7))) == 0;
            for (uint i = 0; i < geo.InodesPerGroup; i++)
            {
                uint ino = (uint)g * geo.InodesPerGroup + i + 1;
                bool want = s.InodeUsed[(int)ino];
                if (!want) freeInodes++;
                else if (s.InodeType[ino] == DirectoryEntry.TypeDirectory) dirs++;
                bool have = (ibitmap[i >> 3] & (1 << (int)(i & 7))) != 0;
                if (want == have) continue;
                inodeChanged = true;
                if (inodeDiffs.Count < 64) inodeDiffs.Add((want ? "+" : "-") + ino);
            }
            if (inodePadding) s.Fix($"Padding at end of inode bitmap of group {g} is not set.", preenSafe: true);
            if (inodeChanged || inodePadding)
            {
                var w = s.Disk.Modify(d.InodeBitmap);
                Ext2Formatter.SetBits(w, geo.InodesPerGroup, bits);
                for (uint i = 0; i < geo.InodesPerGroup; i++)
                {
                    uint ino = (uint)g * geo.InodesPerGroup + i + 1;
                    if (s.InodeUsed[(int)ino]) w[i >> 3] |= (byte)(1 << (int)(i & 7));
                    else w[i >> 3] &= (byte)~(1 << (int)(i & 7));
                }
            }
            freeBlocksTotal += free;
            freeInodesTotal += freeInodes;
            s.Groups[g] = CheckCounts(s, g, d, free, freeInodes, dirs);
        }
        if (blockDiffs.Count > 0) s.Fix($"Block bitmap differences: {Join(blockDiffs)}.", preenSafe: true);
        if (inodeDiffs.Count > 0) s.Fix($"Inode bitmap differences: {Join(inodeDiffs)}.", preenSafe: true);
        if (s.Sb.FreeBlocksCount != freeBlocksTotal)
        {
            s.Fix($"Free blocks count wrong ({s.Sb.FreeBlocksCount}, counted={freeBlocksTotal}).", preenSafe: true);
            s.Sb.FreeBlocksCount = (uint)freeBlocksTotal;
        }
        if (s.Sb.FreeInodesCount != freeInodesTotal)
        {
            s.Fix($"Free inodes count wrong ({s.Sb.FreeInodesCount}, counted={freeInodesTotal}).", preenSafe: true);
            s.Sb.FreeInodesCount = (uint)freeInodesTotal;
        }
    }

    /// <summary>
    /// Fills <paramref name="expected"/> with the block bitmap the group should have (padding past its end set) and
    /// returns how many of its blocks are in use; null when the group does not start on a byte of the packed map.
    /// </summary>
    private static int? ExpectedBlockBitmap(byte[] packed, uint first, uint count, byte[] expected)
    {
        if (first % 8 != 0 || count > expected.Length * 8L) return null;
        int whole = (int)(count / 8), rest = (int)(count % 8);
        packed.AsSpan((int)(first / 8), whole).CopyTo(expected);
        int used = 0;
        foreach (ulong word in MemoryMarshal.Cast<byte, ulong>(expected.AsSpan(0, whole - whole % 8))) used += BitOperations.PopCount(word);
        for (int i = whole - whole % 8; i < whole; i++) used += BitOperations.PopCount(expected[i]);
        expected.AsSpan(whole).Fill(0xFF);
        if (rest > 0)
        {
            byte tail = (byte)(packed[first / 8 + whole] & ((1 << rest) - 1));
            used += BitOperations.PopCount(tail);
            expected[whole] = (byte)(tail | (0xFF << rest));
        }
        return used;
    }

    private static GroupDescriptor CheckCounts(CheckSession s, int g, GroupDescriptor d, int free, int freeInodes, int dirs)
    {
        if (d.FreeBlocksCount != free)
        {
            s.Fix($"Free blocks count wrong for group #{g} ({d.FreeBlocksCount}, counted={free}).", preenSafe: true);
            d.FreeBlocksCount = (ushort)free;
        }
        if (d.FreeInodesCount != freeInodes)
        {
            s.Fix($"Free inodes count wrong for group #{g} ({d.FreeInodesCount}, counted={freeInodes}).", preenSafe: true);
            d.FreeInodesCount = (ushort)freeInodes;
        }
        if (d.UsedDirsCount != dirs)
        {
            s.Fix($"Directories count wrong for group #{g} ({d.UsedDirsCount}, counted={dirs}).", preenSafe: true);
            d.UsedDirsCount = (ushort)dirs;
        }
        return d;
    }

    private static string Join(List<string> diffs)
    {
        var sb = new StringBuilder(string.Join(' ', diffs));
        if (diffs.Count >= 64) sb.Append(" ...");
        return sb.ToString();
    }
}
