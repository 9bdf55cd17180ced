namespace MountFs.Vfs;

/// <summary>What stat(2) shows of a node.</summary>
/// <param name="Node">The layout's node id (stable while any front end holds it).</param>
/// <param name="Mode">File type and permission bits, see <see cref="UnixFileMode"/>.</param>
/// <param name="Blocks">Space allocated, in 512-byte units, as st_blocks.</param>
/// <param name="Rdev">Device number of a character or block device node.</param>
/// <param name="BlockSize">Preferred I/O size, as st_blksize.</param>
public sealed record NodeAttributes(
    ulong Node,
    uint Mode,
    uint Links,
    uint Uid,
    uint Gid,
    long Size,
    long Blocks,
    Timestamp Atime,
    Timestamp Mtime,
    Timestamp Ctime,
    uint Rdev = 0,
    int BlockSize = 4096)
{
    public bool IsDirectory => UnixFileMode.IsDirectory(Mode);
    public bool IsRegular => UnixFileMode.IsRegular(Mode);
    public bool IsSymlink => UnixFileMode.IsSymlink(Mode);
}
