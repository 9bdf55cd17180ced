namespace MountFs.Ext.Checking;

/// <summary>Where a directory entry lives: the directory, its block number on disk and the byte offset in the block.</summary>
internal readonly record struct EntryLocation(uint Directory, uint Block, int Offset);

/// <summary>What the passes learn about one directory: its blocks (pass 1), its parent and '..' (pass 2, fixed by pass 3).</summary>
internal sealed class CheckedDirectory(uint inode)
{
    public uint Inode { get; } = inode;

    /// <summary>Physical block per logical block; 0 marks a hole.</summary>
    public List<uint> Blocks { get; } = [];

    /// <summary>The directory holding the first entry that names this one (0: none found yet).</summary>
    public uint Parent { get; set; }

    /// <summary>That first entry, so a loop can be cut there.</summary>
    public EntryLocation? ParentEntry { get; set; }

    /// <summary>What the '..' entry says (0: missing).</summary>
    public uint DotDot { get; set; }
}
