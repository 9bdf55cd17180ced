using System.Buffers.Binary;

namespace MountFs.Ext.Checking;

/// <summary>
/// The index of an htree (dir_index) directory as far as pass 1 judges it, like e2fsck's handle_htree: the root
/// info after '..' (reserved zero, known hash, 8-byte info, one level at most on ext2, no incompatible flags), and
/// every index node's count/limit and child block numbers. A broken index is dropped (the flag cleared), which
/// leaves a valid linear directory.
/// </summary>
internal static class HtreeCheck
{
    private const int RootInfoOffset = 24, RootEntriesOffset = 32, NodeEntriesOffset = 8;

    public static string? Problem(CheckSession s, CheckedDirectory info)
    {
        if (info.Blocks.Count == 0 || info.Blocks[0] == 0) return "no block 0";
        var root = s.Disk.Read(info.Blocks[0]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(root.AsSpan(RootInfoOffset)) != 0) return "invalid root node";
        byte hash = root[RootInfoOffset + 4], infoLength = root[RootInfoOffset + 5], levels = root[RootInfoOffset + 6], flags = root[RootInfoOffset + 7];
        if (infoLength != 8) return "invalid root node";
        if (hash > 2) return $"unsupported hash version ({hash})";
        if ((flags & 1) != 0) return "incompatible root node flag";
        if (levels > 1) return $"tree depth {levels} too large";
        return NodeProblem(s, info, root, RootEntriesOffset, levels, new HashSet<uint>());
    }

    private static string? NodeProblem(CheckSession s, CheckedDirectory info, byte[] node, int at, int levels, HashSet<uint> seen)
    {
        int limit = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(at));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(at + 2));
        if (limit != (node.Length - at) / 8) return $"index limit {limit} is wrong";
        if (count == 0 || count > limit) return $"index count {count} is wrong";
        for (int i = 0; i < count; i++)
        {
            uint logical = BinaryPrimitives.ReadUInt32LittleEndian(node.AsSpan(at + 4 + i * 8)) & 0x0FFFFFFF;
            if (logical == 0 || logical >= info.Blocks.Count || info.Blocks[(int)logical] == 0) return $"index points at block {logical}";
            if (levels == 0) continue;
            if (!seen.Add(logical)) return $"index block {logical} used twice";
            var child = s.Disk.Read(info.Blocks[(int)logical]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(child) != 0 || BinaryPrimitives.ReadUInt16LittleEndian(child.AsSpan(4)) != child.Length)
                return $"index node {logical} has no empty leading entry";
            string? deeper = NodeProblem(s, info, child, NodeEntriesOffset, levels - 1, seen);
            if (deeper != null) return deeper;
        }
        return null;
    }
}
