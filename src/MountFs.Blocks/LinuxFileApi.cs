using System.Runtime.InteropServices;

namespace MountFs.Blocks;

/// <summary>
/// The few Linux system calls .NET does not expose: open without .NET's own implicit flock,
/// flock, fsync, fallocate, statx and the block-device ioctls.
/// </summary>
/// <remarks>
/// statx is used instead of stat because its struct layout is the same on every architecture.
/// Constants are the asm-generic values shared by x86_64 and arm64.
/// </remarks>
internal static partial class LinuxFileApi
{
    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;

    public const int LOCK_SH = 1;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    public const int FALLOC_FL_KEEP_SIZE = 1;
    public const int FALLOC_FL_PUNCH_HOLE = 2;

    public const int EINTR = 4;
    public const int EWOULDBLOCK = 11;
    public const int EOPNOTSUPP = 95;
    public const int ENOTTY = 25;

    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_BASIC_STATS = 0x7ff;
    private const int S_IFMT = 0xF000;
    private const int S_IFBLK = 0x6000;
    private const int S_IFREG = 0x8000;

    // _IOR(0x12, 114, size_t), _IO(0x12, 104), _IO(0x12, 127)
    private const ulong BLKGETSIZE64 = 0x80081272;
    private const ulong BLKSSZGET = 0x1268;
    private const ulong BLKZEROOUT = 0x127F;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    public const uint SYNC_FILE_RANGE_WRITE = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    public static partial int SyncFileRange(int fd, long offset, long length, uint flags);

    public const int POSIX_FADV_WILLNEED = 3;

    /// <summary>posix_fadvise: returns the error number itself (0 on success), not -1 and errno.</summary>
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    public static partial int Fadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlU64(int fd, ulong request, out ulong value);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlI32(int fd, ulong request, out int value);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int IoctlRange(int fd, ulong request, ulong* range);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>File type, size and allocation of an open descriptor.</summary>
    public readonly record struct FileStatus(bool IsBlockDevice, bool IsRegularFile, long Size, long AllocatedBytes);

    public static unsafe FileStatus Stat(int fd, string nameForErrors)
    {
        // struct statx is 256 bytes; offsets from linux/stat.h.
        byte* buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        if (Statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buffer) != 0)
            throw Failure("statx", nameForErrors);
        int mode = *(ushort*)(buffer + 28);
        long size = *(long*)(buffer + 40);
        long blocks = *(long*)(buffer + 48);
        return new FileStatus((mode & S_IFMT) == S_IFBLK, (mode & S_IFMT) == S_IFREG, size, blocks * 512);
    }

    public static long BlockDeviceSize(int fd, string nameForErrors)
    {
        if (IoctlU64(fd, BLKGETSIZE64, out ulong size) != 0)
            throw Failure("ioctl(BLKGETSIZE64)", nameForErrors);
        return checked((long)size);
    }

    public static int BlockDeviceSectorSize(int fd, string nameForErrors)
    {
        if (IoctlI32(fd, BLKSSZGET, out int size) != 0)
            throw Failure("ioctl(BLKSSZGET)", nameForErrors);
        return size;
    }

    /// <summary>Zeroes a range of a block device, unmapping it where the device can; false when unsupported.</summary>
    public static unsafe bool BlockDeviceZeroOut(int fd, long offset, long length, string nameForErrors)
    {
        ulong* range = stackalloc ulong[2];
        range[0] = (ulong)offset;
        range[1] = (ulong)length;
        if (IoctlRange(fd, BLKZEROOUT, range) == 0)
            return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno is EOPNOTSUPP or ENOTTY or 22 /* EINVAL */)
            return false;
        throw Failure("ioctl(BLKZEROOUT)", nameForErrors, errno);
    }

    public static IOException Failure(string call, string name) => Failure(call, name, Marshal.GetLastPInvokeError());

    public static IOException Failure(string call, string name, int errno)
    {
        return new IOException($"{name}: {call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
