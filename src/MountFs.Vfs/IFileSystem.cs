namespace MountFs.Vfs;

/// <summary>
/// The inode-based file-system contract every layout implements and every front end (FUSE,
/// Dokan, the CLI's copy commands) calls. Shaped after the FUSE low-level operations.
/// </summary>
/// <remarks>
/// <para><b>Node ids.</b> Every node has a <c>ulong</c> id chosen by the layout (an inode number
/// where the layout has one). <see cref="RootNode"/> names the root directory. An id a front end
/// received from Lookup, Create, MakeDirectory, MakeNode, Symlink or Link stays valid for
/// <see cref="GetAttributes"/> and the other node operations until the front end calls
/// <see cref="Forget"/> for it, even if the node is renamed or unlinked meanwhile. Front ends own
/// lookup counting (the FUSE bridge counts nlookup); the layout is told only when a front end
/// holds no more references, once per <see cref="Forget"/>. Front ends are free to map ids (the
/// FUSE bridge swaps the root with FUSE's fixed id 1); layouts never see FUSE ids. Ids seen only in
/// a <see cref="ReadDirectory"/> listing carry no reference (the kernel sends no FORGET for plain
/// READDIR): a front end that wants to use one looks the name up first, as READDIRPLUS does.</para>
///
/// <para><b>Handles.</b> Open/OpenDirectory/Create return a handle (<c>ulong</c>, layout's choice,
/// 0 allowed) passed back to Read/Write/Flush/Fsync/Release and ReadDirectory/ReleaseDirectory.
/// A node unlinked while open keeps its data until its last handle is released (ext2 puts it on
/// the orphan list meanwhile). Open flags are informative: front ends check permissions and
/// resolve O_APPEND (they pass the end-of-file offset) and O_TRUNC (they call SetAttributes
/// with Size=0) themselves, so layouts need not.</para>
///
/// <para><b>Errors.</b> Every failure is an <see cref="FsException"/> carrying an errno; corrupt
/// metadata is EUCLEAN or EIO with a log line naming image, structure and block. Lookup of a
/// missing name returns null rather than throwing, because negative lookups are frequent.</para>
///
/// <para><b>Threading.</b> Front ends call from several threads at once, on the same or different
/// nodes. Every method must be safe under that. A layout may serialise internally (one lock is an
/// acceptable start); it must not hold a lock while calling back into a
/// <see cref="DirectoryEntryVisitor"/> that could re-enter the file system — visitors from front
/// ends only copy bytes and never re-enter.</para>
///
/// <para><b>Durability.</b> Nothing is durable until <see cref="Fsync"/>, <see cref="FsyncDirectory"/>
/// or <see cref="SyncFileSystem"/> returns; after it returns, the data and the metadata that
/// reach it survive a power cut. <see cref="Dispose"/> syncs, marks the volume clean and releases
/// the device.</para>
///
/// <para><b>Names</b> are single path components: never empty, never containing '/' or NUL;
/// front ends reject those before calling. "." and ".." are never passed to create, remove or
/// rename operations (front ends answer EINVAL/EEXIST/ENOTEMPTY themselves as Linux does). A name
/// longer than <see cref="FileSystemCapabilities.MaxNameLength"/> gets ENAMETOOLONG.</para>
/// </remarks>
public interface IFileSystem : IDisposable
{
    /// <summary>Capabilities of this mounted instance (ReadOnly set when mounted read-only).</summary>
    FileSystemCapabilities Capabilities { get; }

    ulong RootNode { get; }

    /// <summary>Attributes of <paramref name="name"/> in <paramref name="parent"/>, or null if absent.</summary>
    /// <exception cref="FsException">ENOTDIR if parent is not a directory, EACCES, EIO...</exception>
    NodeAttributes? Lookup(ulong parent, string name);

    /// <summary>The front end holds no more references to <paramref name="node"/>.</summary>
    void Forget(ulong node);

    NodeAttributes GetAttributes(ulong node);

    /// <summary>Changes what <paramref name="changes"/> names; returns the attributes after.</summary>
    /// <param name="handle">The open handle when called through ftruncate/futimens, else null.</param>
    NodeAttributes SetAttributes(ulong node, SetAttributes changes, ulong? handle = null);

    string ReadLink(ulong node);

    NodeAttributes Symlink(ulong parent, string name, string target, Credentials owner);

    /// <summary>Creates a regular file, FIFO, socket or device node (type bits in <paramref name="mode"/>).</summary>
    NodeAttributes MakeNode(ulong parent, string name, uint mode, uint rdev, Credentials owner);

    /// <param name="mode">Permission bits; the directory type bit is implied.</param>
    NodeAttributes MakeDirectory(ulong parent, string name, uint mode, Credentials owner);

    /// <summary>Removes a non-directory name. EISDIR for a directory.</summary>
    void Unlink(ulong parent, string name);

    /// <summary>Removes an empty directory. ENOTDIR for a non-directory, ENOTEMPTY if not empty.</summary>
    void RemoveDirectory(ulong parent, string name);

    /// <summary>
    /// rename(2)/renameat2(2). Replacing follows POSIX: a file may replace a file, a directory may
    /// replace an empty directory (ENOTEMPTY otherwise, EISDIR/ENOTDIR on type mismatch); moving a
    /// directory into its own subtree is EINVAL; renaming a name onto the same node is a no-op.
    /// NoReplace: EEXIST if the target exists. Exchange: both must exist; they swap atomically.
    /// </summary>
    void Rename(ulong parent, string name, ulong newParent, string newName, RenameFlags flags = RenameFlags.None);

    /// <summary>A new name for a non-directory node (EPERM for directories).</summary>
    NodeAttributes Link(ulong node, ulong newParent, string newName);

    ulong Open(ulong node, OpenFlags flags);

    /// <summary>Creates and opens a regular file; EEXIST if the name exists.</summary>
    (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner);

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns the count, 0 at or past the end.</summary>
    int Read(ulong node, ulong handle, long offset, Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/> (extending the file, leaving a hole if past the end).</summary>
    /// <returns>Bytes written: all of them, or an exception (ENOSPC, EFBIG) with nothing partially promised.</returns>
    int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data);

    /// <summary>close(2) on one descriptor of the handle; may be called several times per handle.</summary>
    void Flush(ulong node, ulong handle);

    void Release(ulong node, ulong handle);

    /// <summary>Makes the node's data (and, unless <paramref name="dataOnly"/>, its metadata) durable.</summary>
    void Fsync(ulong node, ulong handle, bool dataOnly);

    ulong OpenDirectory(ulong node);

    /// <summary>
    /// Lists entries after cookie <paramref name="offset"/> (0 = from the start, "." and ".." first)
    /// until the directory ends or <paramref name="visitor"/> returns false.
    /// </summary>
    void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor);

    void ReleaseDirectory(ulong node, ulong handle);

    void FsyncDirectory(ulong node, ulong handle, bool dataOnly);

    FileSystemStatistics GetStatistics();

    /// <summary>Checks access(2) for <paramref name="who"/>; EACCES when denied. Root passes read/write always.</summary>
    void Access(ulong node, AccessMode mode, Credentials who);

    /// <summary>fallocate(2); EOPNOTSUPP for modes the layout does not implement.</summary>
    void Allocate(ulong node, ulong handle, FallocateMode mode, long offset, long length) =>
        throw new FsException(Errno.EOPNOTSUPP, "fallocate is not supported by this layout");

    /// <summary>
    /// lseek(2) SEEK_DATA (<paramref name="findHole"/> false) or SEEK_HOLE: the first offset at or
    /// after <paramref name="offset"/> that is data or hole. ENXIO at or past the end. Layouts
    /// without hole tracking may keep this default: all data, one hole at end of file.
    /// </summary>
    long SeekData(ulong node, long offset, bool findHole)
    {
        long size = GetAttributes(node).Size;
        if (offset < 0 || offset >= size) throw new FsException(Errno.ENXIO);
        return findHole ? size : offset;
    }

    byte[] GetExtendedAttribute(ulong node, string name) =>
        throw new FsException(Errno.EOPNOTSUPP, "extended attributes are not supported by this layout");

    IReadOnlyList<string> ListExtendedAttributes(ulong node) =>
        throw new FsException(Errno.EOPNOTSUPP, "extended attributes are not supported by this layout");

    /// <param name="flags">XATTR_CREATE (1): EEXIST if present; XATTR_REPLACE (2): ENODATA if absent.</param>
    void SetExtendedAttribute(ulong node, string name, ReadOnlySpan<byte> value, int flags) =>
        throw new FsException(Errno.EOPNOTSUPP, "extended attributes are not supported by this layout");

    void RemoveExtendedAttribute(ulong node, string name) =>
        throw new FsException(Errno.EOPNOTSUPP, "extended attributes are not supported by this layout");

    /// <summary>Writes every dirty block and metadata to the device and flushes it (sync(2)).</summary>
    void SyncFileSystem();
}
