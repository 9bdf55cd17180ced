using MountFs.Vfs;

namespace MountFs.Memory;

// File handles, file data (read, write, truncate, fallocate, SEEK_DATA/SEEK_HOLE) and capacity accounting.
public sealed partial class MemoryFileSystem
{
    private sealed record OpenHandle(MemoryNode Node, OpenFlags Flags, bool IsDirectory)
    {
        public bool CanWrite => (Flags & OpenFlags.AccessMask) != OpenFlags.ReadOnly;
    }

    public ulong Open(ulong node, OpenFlags flags)
    {
        lock (_lock)
        {
            var target = Node(node);
            bool write = (flags & OpenFlags.AccessMask) != OpenFlags.ReadOnly;
            if (target.IsDirectory && write) throw new FsException(Errno.EISDIR, "cannot open a directory for writing");
            if (target.IsSymlink) throw new FsException(Errno.ELOOP, "cannot open a symbolic link");
            if (write && target.IsRegular) EnsureWritable();
            return NewHandle(target, flags, isDirectory: false);
        }
    }

    public (NodeAttributes Attributes, ulong Handle) Create(ulong parent, string name, uint mode, OpenFlags flags, Credentials owner)
    {
        lock (_lock)
        {
            var directory = DirectoryForNewName(parent, name);
            var now = Now();
            var file = NewNode(UnixFileMode.Regular | (mode & UnixFileMode.PermissionMask), owner, directory, now);
            Insert(directory, name, file, now);
            return (Attributes(file), NewHandle(file, flags, isDirectory: false));
        }
    }

    public int Read(ulong node, ulong handle, long offset, Span<byte> buffer)
    {
        lock (_lock)
        {
            var file = Handle(node, handle, directory: false).Node;
            var data = RegularData(file);
            if (offset < 0) throw new FsException(Errno.EINVAL, "negative offset");
            int count = data.Read(offset, buffer);
            // relatime: read marks atime only when it is older than the last change or a day old.
            var now = Now();
            if (file.Atime.CompareTo(file.Mtime) <= 0 || file.Atime.CompareTo(file.Ctime) <= 0 || now.Seconds - file.Atime.Seconds >= 86400)
                file.Atime = now;
            return count;
        }
    }

    public int Write(ulong node, ulong handle, long offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            var open = Handle(node, handle, directory: false);
            if (!open.CanWrite) throw new FsException(Errno.EBADF, "handle not open for writing");
            var file = open.Node;
            var contents = RegularData(file);
            EnsureWritable();
            if (offset < 0) throw new FsException(Errno.EINVAL, "negative offset");
            if (data.Length == 0) return 0;
            if (offset > Capabilities.MaxFileSize - data.Length)
                throw new FsException(Errno.EFBIG, $"file would pass the maximum size {Capabilities.MaxFileSize}");
            // Without holes, the gap between the end and the write is allocated too; count each page once.
            long start = !Capabilities.SparseFiles && offset > contents.Size ? contents.Size : offset;
            Reserve(contents.MissingPages(start, offset + data.Length - start));
            long before = contents.PageCount;
            if (start < offset) contents.Allocate(start, offset - start);
            contents.Write(offset, data);
            _usedPages += contents.PageCount - before;
            var now = Now();
            file.Mtime = now;
            file.Ctime = now;
            return data.Length;
        }
    }

    public void Flush(ulong node, ulong handle)
    {
        lock (_lock) Handle(node, handle, directory: false);
    }

    public void Release(ulong node, ulong handle) => ReleaseHandle(node, handle, directory: false);

    public void Fsync(ulong node, ulong handle, bool dataOnly)
    {
        lock (_lock) Handle(node, handle, directory: false);
    }

    public void Allocate(ulong node, ulong handle, FallocateMode mode, long offset, long length)
    {
        lock (_lock)
        {
            var open = Handle(node, handle, directory: false);
            const FallocateMode known = FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.ZeroRange;
            if ((mode & ~known) != 0) throw new FsException(Errno.EOPNOTSUPP, $"fallocate mode {mode}");
            bool punch = (mode & FallocateMode.PunchHole) != 0, zero = (mode & FallocateMode.ZeroRange) != 0;
            bool keepSize = (mode & FallocateMode.KeepSize) != 0;
            if (punch && zero) throw new FsException(Errno.EOPNOTSUPP, "punch-hole and zero-range together");
            if (punch && !keepSize) throw new FsException(Errno.EOPNOTSUPP, "punch-hole needs keep-size");
            if (offset < 0 || length <= 0) throw new FsException(Errno.EINVAL, "bad fallocate range");
            if (!open.CanWrite) throw new FsException(Errno.EBADF, "handle not open for writing");
            var file = open.Node;
            if (file.IsDirectory) throw new FsException(Errno.EISDIR, "fallocate on a directory");
            if (!file.IsRegular) throw new FsException(Errno.ENODEV, "fallocate on a special file");
            EnsureWritable();
            if (offset > Capabilities.MaxFileSize - length)
                throw new FsException(Errno.EFBIG, $"range passes the maximum size {Capabilities.MaxFileSize}");

            var data = file.Data!;
            long end = offset + length;
            long before = data.PageCount;
            var now = Now();
            if (punch)
            {
                // A layout without holes keeps the blocks and only zeroes them.
                data.ZeroRange(offset, length, dropWholePages: Capabilities.SparseFiles);
                _usedPages += data.PageCount - before;
                file.Mtime = now;
                file.Ctime = now;
                return;
            }
            long start = !Capabilities.SparseFiles && !keepSize && offset > data.Size ? data.Size : offset;
            Reserve(data.MissingPages(start, end - start));
            if (zero) data.ZeroRange(offset, length, dropWholePages: false);
            data.Allocate(start, end - start);
            bool grows = !keepSize && end > data.Size;
            if (grows) data.SetSize(end);
            _usedPages += data.PageCount - before;
            if (zero || grows) file.Mtime = now;
            file.Ctime = now;
        }
    }

    public long SeekData(ulong node, long offset, bool findHole)
    {
        lock (_lock)
        {
            var data = RegularData(Node(node));
            if (offset < 0 || offset >= data.Size) throw new FsException(Errno.ENXIO, "offset at or past the end");
            long found = findHole ? data.NextHole(offset) : data.NextData(offset);
            return found >= 0 ? found : throw new FsException(Errno.ENXIO, "no data past the offset");
        }
    }

    private static SparseFileData RegularData(MemoryNode node) => node switch
    {
        { Data: not null } => node.Data,
        { IsDirectory: true } => throw new FsException(Errno.EISDIR, "is a directory"),
        _ => throw new FsException(Errno.EINVAL, "not a regular file"),
    };

    private void CheckTruncate(MemoryNode node, long size)
    {
        var data = RegularData(node);
        if (size < 0) throw new FsException(Errno.EINVAL, "negative size");
        if (size > Capabilities.MaxFileSize) throw new FsException(Errno.EFBIG, $"size passes the maximum {Capabilities.MaxFileSize}");
        if (!Capabilities.SparseFiles && size > data.Size) Reserve(data.MissingPages(data.Size, size - data.Size));
    }

    /// <summary>Truncates or extends; extending leaves a hole, or allocated zeros when the capabilities deny holes.</summary>
    private void Resize(SparseFileData data, long size)
    {
        long before = data.PageCount;
        if (!Capabilities.SparseFiles && size > data.Size) data.Allocate(data.Size, size - data.Size);
        data.SetSize(size);
        _usedPages += data.PageCount - before;
    }

    private void Reserve(long pages)
    {
        if (pages > _capacityPages - _usedPages) throw new FsException(Errno.ENOSPC, "no space left");
    }

    private ulong NewHandle(MemoryNode node, OpenFlags flags, bool isDirectory)
    {
        ulong handle = _nextHandle++;
        _handles.Add(handle, new OpenHandle(node, flags, isDirectory));
        node.OpenHandles++;
        return handle;
    }

    private OpenHandle Handle(ulong node, ulong handle, bool directory)
    {
        ThrowIfDisposed();
        if (!_handles.TryGetValue(handle, out var open) || open.Node.Id != node || open.IsDirectory != directory)
            throw new FsException(Errno.EBADF, $"handle {handle} is not open on node {node}");
        return open;
    }

    private void ReleaseHandle(ulong node, ulong handle, bool directory)
    {
        lock (_lock)
        {
            var open = Handle(node, handle, directory);
            _handles.Remove(handle);
            open.Node.OpenHandles--;
            ReclaimIfUnused(open.Node);
        }
    }
}
