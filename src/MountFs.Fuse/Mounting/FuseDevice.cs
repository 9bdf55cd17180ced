using MountFs.Fuse.Interop;

namespace MountFs.Fuse.Mounting;

/// <summary>An open /dev/fuse connection: one file descriptor, closed once.</summary>
public sealed class FuseDevice : IDisposable
{
    private int _fd;

    public FuseDevice(int fd) => _fd = fd;

    public int Descriptor => _fd;

    /// <summary>Opens /dev/fuse; a missing device is a <see cref="FuseMountException"/> with mount(8)'s wording.</summary>
    public static FuseDevice Open()
    {
        int fd = LibC.Open("/dev/fuse", LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (fd >= 0) return new FuseDevice(fd);
        int errno = LibC.LastError;
        throw errno == LibC.ENOENT || errno == 6 /* ENXIO */ || errno == LibC.ENODEV
            ? new FuseMountException("fuse: device /dev/fuse not found, try 'modprobe fuse' first", FuseMountException.MountFailure)
            : new FuseMountException($"fuse: cannot open /dev/fuse: {LibC.Describe(errno)}",
                errno is 13 or LibC.EPERM ? FuseMountException.Permission : FuseMountException.MountFailure);
    }

    /// <summary>A second descriptor on the same connection (FUSE_DEV_IOC_CLONE) with its own request queue.</summary>
    public unsafe FuseDevice Clone()
    {
        var clone = Open();
        uint master = (uint)_fd;
        if (LibC.Ioctl(clone._fd, LibC.FUSE_DEV_IOC_CLONE, &master) != 0)
        {
            int errno = LibC.LastError;
            clone.Dispose();
            throw new IOException($"fuse: cannot clone /dev/fuse descriptor: {LibC.Describe(errno)}");
        }
        return clone;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.Close(fd);
    }
}

/// <summary>A mount or unmount failed; carries mount(8)'s exit code (1 usage/permissions, 32 mount failure).</summary>
public sealed class FuseMountException(string message, int exitCode = FuseMountException.MountFailure) : Exception(message)
{
    public const int Permission = 1;
    public const int MountFailure = 32;

    public int ExitCode { get; } = exitCode;
}
