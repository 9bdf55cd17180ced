using MountFs.Vfs;

namespace MountFs.Memory;

/// <summary>One inode of the in-memory file system; the type's payload lives in the matching field.</summary>
/// <remarks>
/// A node stays in the node table while any name, open handle or front-end reference holds it
/// (<see cref="Links"/>, <see cref="OpenHandles"/>, <see cref="Referenced"/>); the last of the three
/// to go frees it. Mutated only under the file system's lock.
/// </remarks>
internal sealed class MemoryNode(ulong id, uint mode)
{
    public ulong Id { get; } = id;
    public uint Mode { get; set; } = mode;
    public uint Links { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public uint Rdev { get; set; }
    public Timestamp Atime { get; set; }
    public Timestamp Mtime { get; set; }
    public Timestamp Ctime { get; set; }

    /// <summary>Regular files only.</summary>
    public SparseFileData? Data { get; init; }

    /// <summary>Directories only.</summary>
    public DirectoryTable? Entries { get; init; }

    /// <summary>The directory holding a directory's one name ("..", subtree checks); the root is its own parent.</summary>
    public MemoryNode? Parent { get; set; }

    /// <summary>Symbolic links only: the target as given.</summary>
    public string? Target { get; init; }

    public Dictionary<string, byte[]>? ExtendedAttributes { get; set; }

    public int OpenHandles { get; set; }

    /// <summary>A front end holds the id (it received it and has not called Forget since).</summary>
    public bool Referenced { get; set; }

    public bool IsDirectory => UnixFileMode.IsDirectory(Mode);
    public bool IsRegular => UnixFileMode.IsRegular(Mode);
    public bool IsSymlink => UnixFileMode.IsSymlink(Mode);
}
