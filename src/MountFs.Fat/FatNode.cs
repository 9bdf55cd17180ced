namespace MountFs.Fat;

/// <summary>
/// A file or directory as the mounted volume tracks it. FAT has no inode numbers, so the node id is ours and
/// the node records where its entry lives now (parent and slot); renames move the entry, not the id.
/// </summary>
public sealed class FatNode
{
    public required ulong Id { get; init; }
    /// <summary>Null only for the root.</summary>
    public FatNode? Parent { get; set; }
    public string Name { get; set; } = "";
    public ShortDirectoryEntry Entry { get; set; } = new();
    /// <summary>Slot of the short entry in the parent, and of the first long-name slot before it.</summary>
    public int Slot { get; set; } = -1;
    public int FirstSlot { get; set; } = -1;

    public bool IsRoot => Parent == null && Slot < 0;
    public bool IsDirectory => IsRoot || Entry.IsDirectory;
    public bool Unlinked { get; set; }
    public int OpenCount { get; set; }
    public int LookupHeld { get; set; }

    /// <summary>Clusters of the file or directory, walked once and kept in step by every change.</summary>
    public List<uint>? Chain { get; set; }

    /// <summary>Loaded entries of a directory, and the index that makes lookups O(1): upper-cased name → node.</summary>
    public DirectoryImage? Image { get; set; }
    public Dictionary<string, FatNode>? Children { get; set; }
    /// <summary>Short names used in the directory (as 11-byte strings), for alias generation.</summary>
    public HashSet<string>? ShortNames { get; set; }
    /// <summary>Children that are directories (they make the directory's link count), kept in step with <see cref="Children"/>.</summary>
    public int SubdirectoryCount { get; set; }
    /// <summary>The children in slot order as a listing hands them out, built on the first listing after a change and
    /// never modified afterwards, so a listing can walk it outside the lock and resume by binary search.</summary>
    public Vfs.DirectoryEntry[]? Listing { get; set; }

    public uint FirstCluster => Entry.FirstCluster;
}
