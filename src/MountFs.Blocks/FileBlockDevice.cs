using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MountFs.Blocks;

/// <summary>
/// A device over an image file or a Linux block device (/dev/loopN, /dev/sdX).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>I/O is positional (pread/pwrite through <see cref="RandomAccess"/>), so threads never share a file position.</item>
/// <item>Opening takes an advisory flock: exclusive for writers, shared for readers, never waiting. A second
/// writer, or a reader while a writer holds it, gets <see cref="DeviceLockedException"/>. The lock lives as long
/// as the descriptor, so it is released by <see cref="Dispose"/> or by the process dying.</item>
/// <item>Image files: the device length is the file length rounded down to whole sectors (a trailing partial
/// sector is never touched). Discard punches holes (FALLOC_FL_PUNCH_HOLE | KEEP_SIZE); holes read as zeros.</item>
/// <item>Block devices: length through BLKGETSIZE64, sector size through BLKSSZGET; discard through BLKZEROOUT
/// (which unmaps where the device can and guarantees zeros), else by writing zeros.</item>
/// <item>Flush is fsync.</item>
/// </list>
/// </remarks>
public sealed class FileBlockDevice : IBlockDevice
{
    private const int FileSectorSize = 512;
    private const int ZeroChunk = 1 << 20;

    private readonly SafeFileHandle _handle;
    private readonly int _fd;

    private FileBlockDevice(SafeFileHandle handle, int fd, string path, long length, int sectorSize, bool readOnly, bool isBlockDevice)
    {
        _handle = handle;
        _fd = fd;
        Name = path;
        Length = length;
        SectorSize = sectorSize;
        IsReadOnly = readOnly;
        IsBlockDevice = isBlockDevice;
    }

    public string Name { get; }
    public long Length { get; }
    public int SectorSize { get; }
    public bool IsReadOnly { get; }

    /// <summary>True for a kernel block device, false for a regular image file.</summary>
    public bool IsBlockDevice { get; }

    /// <summary>Bytes the file really occupies on its file system (st_blocks * 512): small for a sparse image.</summary>
    public long AllocatedBytes => LinuxFileApi.Stat(Fd, Name).AllocatedBytes;

    /// <summary>Opens an existing image file or block device.</summary>
    /// <exception cref="DeviceLockedException">Another process (or another open in this one) holds a conflicting lock.</exception>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="IOException">The path is neither a regular file nor a block device, or the open failed.</exception>
    public static FileBlockDevice Open(string path, bool readOnly = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return OpenCore(path, readOnly ? LinuxFileApi.O_RDONLY : LinuxFileApi.O_RDWR, readOnly, truncateTo: null);
    }

    /// <summary>
    /// Creates (or, with <paramref name="overwrite"/>, replaces the contents of) a sparse image of
    /// <paramref name="length"/> bytes and opens it for writing. No data blocks are allocated: every byte reads as zero.
    /// </summary>
    public static FileBlockDevice Create(string path, long length, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (length <= 0 || length % FileSectorSize != 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"image length must be a positive multiple of {FileSectorSize}");
        if (!overwrite && (File.Exists(path) || Directory.Exists(path)))
            throw new IOException($"{path}: already exists");
        return OpenCore(path, LinuxFileApi.O_RDWR | LinuxFileApi.O_CREAT, readOnly: false, truncateTo: length);
    }

    private static FileBlockDevice OpenCore(string path, int flags, bool readOnly, long? truncateTo)
    {
        // Opened through libc rather than File.OpenHandle: .NET takes its own flock depending on FileShare
        // and a process-wide switch; here the lock rules are ours alone.
        int fd = LinuxFileApi.Open(path, flags | LinuxFileApi.O_CLOEXEC, 0b110_100_100);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == 2)
                throw new FileNotFoundException($"{path}: no such file or device", path);
            throw LinuxFileApi.Failure("open", path, errno);
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            TakeLock(fd, path, readOnly);

            var status = LinuxFileApi.Stat(fd, path);
            if (status.IsBlockDevice)
            {
                if (truncateTo is not null)
                    throw new IOException($"{path}: is a block device, not an image file to create");
                int sectorSize = LinuxFileApi.BlockDeviceSectorSize(fd, path);
                long size = LinuxFileApi.BlockDeviceSize(fd, path);
                return new FileBlockDevice(handle, fd, path, size - size % sectorSize, sectorSize, readOnly, isBlockDevice: true);
            }
            if (!status.IsRegularFile)
                throw new IOException($"{path}: neither a regular file nor a block device");

            long length = status.Size;
            if (truncateTo is long newLength)
            {
                // Truncate only after the lock is ours, so a locked image is never clobbered; shrinking to zero
                // first drops every old data block so the new image is fully sparse.
                if (LinuxFileApi.Ftruncate(fd, 0) != 0 || LinuxFileApi.Ftruncate(fd, newLength) != 0)
                    throw LinuxFileApi.Failure("ftruncate", path);
                length = newLength;
            }
            return new FileBlockDevice(handle, fd, path, length - length % FileSectorSize, FileSectorSize, readOnly, isBlockDevice: false);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>How long a conflicting lock may persist before we call the image busy.</summary>
    /// <remarks>
    /// Any process that forks (ours included, to run e2fsck or mkfs) briefly shares every open descriptor with
    /// its child until the child execs, and with it the image lock; such a lock is gone within moments, a real
    /// second user's is not.
    /// </remarks>
    private static readonly TimeSpan LockGracePeriod = TimeSpan.FromSeconds(2);

    private static void TakeLock(int fd, string path, bool shared)
    {
        int operation = (shared ? LinuxFileApi.LOCK_SH : LinuxFileApi.LOCK_EX) | LinuxFileApi.LOCK_NB;
        long deadline = Environment.TickCount64 + (long)LockGracePeriod.TotalMilliseconds;
        while (LinuxFileApi.Flock(fd, operation) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxFileApi.EINTR)
                continue;
            if (errno != LinuxFileApi.EWOULDBLOCK)
                throw LinuxFileApi.Failure("flock", path, errno);
            if (Environment.TickCount64 >= deadline)
                throw new DeviceLockedException(path);
            Thread.Sleep(20);
        }
    }

    public void Read(long offset, Span<byte> buffer)
    {
        DeviceRange.Check(offset, buffer.Length, Length, SectorSize);
        while (!buffer.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, buffer, offset);
            if (read <= 0)
                throw new IOException($"{Name}: unexpected end of device at byte {offset}");
            buffer = buffer[read..];
            offset += read;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        DeviceRange.Check(offset, data.Length, Length, SectorSize);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        RandomAccess.Write(_handle, data, offset);
    }

    public void Flush()
    {
        if (LinuxFileApi.Fsync(Fd) != 0)
            throw LinuxFileApi.Failure("fsync", Name);
    }

    /// <summary>
    /// Starts writing the range's dirty cached pages to storage and returns without waiting for them
    /// (sync_file_range SYNC_FILE_RANGE_WRITE), so that a later <see cref="Flush"/> waits only for what is
    /// still in flight instead of writing everything at once. A hint: it promises no durability, and a
    /// failure is left for <see cref="Flush"/> to report.
    /// </summary>
    public void StartWriteBack(long offset, long length)
    {
        DeviceRange.Check(offset, length, Length, SectorSize);
        if (!IsReadOnly && length > 0)
            LinuxFileApi.SyncFileRange(Fd, offset, length, LinuxFileApi.SYNC_FILE_RANGE_WRITE);
    }

    /// <summary>
    /// Starts reading the range into the page cache (posix_fadvise WILLNEED) and returns without waiting, so
    /// that many scattered reads known in advance go to the disk together instead of one at a time, and a later
    /// <see cref="Read"/> of them triggers no read-ahead of its own. A hint: failures are ignored.
    /// </summary>
    public void Prefetch(long offset, long length)
    {
        DeviceRange.Check(offset, length, Length, SectorSize);
        if (length > 0)
            LinuxFileApi.Fadvise(Fd, offset, length, LinuxFileApi.POSIX_FADV_WILLNEED);
    }

    public void Discard(long offset, long length)
    {
        DeviceRange.Check(offset, length, Length, SectorSize);
        if (IsReadOnly)
            throw new ReadOnlyDeviceException(Name);
        if (length == 0)
            return;
        if (IsBlockDevice)
        {
            if (!LinuxFileApi.BlockDeviceZeroOut(Fd, offset, length, Name))
                WriteZeros(offset, length);
            return;
        }
        if (LinuxFileApi.Fallocate(Fd, LinuxFileApi.FALLOC_FL_PUNCH_HOLE | LinuxFileApi.FALLOC_FL_KEEP_SIZE, offset, length) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            // File systems without hole punching (some FUSE or network ones) still owe zeros.
            if (errno != LinuxFileApi.EOPNOTSUPP)
                throw LinuxFileApi.Failure("fallocate(PUNCH_HOLE)", Name, errno);
            WriteZeros(offset, length);
        }
    }

    private void WriteZeros(long offset, long length)
    {
        var zeros = new byte[(int)Math.Min(length, ZeroChunk)];
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, zeros.Length);
            RandomAccess.Write(_handle, zeros.AsSpan(0, chunk), offset);
            offset += chunk;
            length -= chunk;
        }
    }

    private int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _fd;
        }
    }

    public void Dispose() => _handle.Dispose();
}
