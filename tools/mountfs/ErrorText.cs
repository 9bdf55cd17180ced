using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Tool;

/// <summary>Turns the exceptions layouts and devices throw into the one-line messages users see.</summary>
public static class ErrorText
{
    public static string Describe(Errno errno) => errno switch
    {
        Errno.EPERM => "Operation not permitted",
        Errno.ENOENT => "No such file or directory",
        Errno.EIO => "Input/output error",
        Errno.ENXIO => "No such device or address",
        Errno.EBADF => "Bad file descriptor",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.EACCES => "Permission denied",
        Errno.EBUSY => "Device or resource busy",
        Errno.EEXIST => "File exists",
        Errno.EXDEV => "Invalid cross-device link",
        Errno.ENODEV => "No such device",
        Errno.ENOTDIR => "Not a directory",
        Errno.EISDIR => "Is a directory",
        Errno.EINVAL => "Invalid argument",
        Errno.EFBIG => "File too large",
        Errno.ENOSPC => "No space left on device",
        Errno.EROFS => "Read-only file system",
        Errno.EMLINK => "Too many links",
        Errno.ERANGE => "Numerical result out of range",
        Errno.ENAMETOOLONG => "File name too long",
        Errno.ENOSYS => "Function not implemented",
        Errno.ENOTEMPTY => "Directory not empty",
        Errno.ELOOP => "Too many levels of symbolic links",
        Errno.ENODATA => "No data available",
        Errno.EOVERFLOW => "Value too large for defined data type",
        Errno.EOPNOTSUPP => "Operation not supported",
        Errno.ESTALE => "Stale file handle",
        Errno.EUCLEAN => "Structure needs cleaning",
        _ => errno.ToString(),
    };

    /// <summary>The message of an FsException, with the errno's text when the layout gave none.</summary>
    public static string Describe(FsException e) =>
        e.Message == e.Errno.ToString() ? Describe(e.Errno) : e.Message;

    /// <summary>The message for a failure a command did not anticipate, or null for a programming error.</summary>
    public static string? DescribeExpected(Exception e) => e switch
    {
        FsException fs => Describe(fs),
        ReadOnlyDeviceException ro => ro.Message,
        FileNotFoundException nf => nf.FileName is null ? nf.Message : "No such file or directory",
        DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        IOException io => io.Message,
        _ => null,
    };
}
