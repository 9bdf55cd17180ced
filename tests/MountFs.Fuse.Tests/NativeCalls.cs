using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MountFs.Fuse.Tests;

/// <summary>The system calls the tests make on the mount that .NET has no API for.</summary>
internal static partial class NativeCalls
{
    public const int SeekData = 3, SeekHole = 4;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkNative(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChownNative(string path, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LseekNative(nint fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string from, string to);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2Native(int oldDir, string from, int newDir, string to, uint flags);

    [LibraryImport("libc", EntryPoint = "setxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetXattrNative(string path, string name, byte[] value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetXattrNative(string path, string name, byte[]? value, nuint size);

    /// <summary>renameat2(2); returns 0 or -errno.</summary>
    public static int RenameAt2(string from, string to, uint flags) =>
        RenameAt2Native(-100, from, -100, to, flags) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    public static int SetXattr(string path, string name, byte[] value) =>
        SetXattrNative(path, name, value, (nuint)value.Length, 0) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>getxattr(2) into a buffer of <paramref name="size"/>; the value, or -errno as the length.</summary>
    public static (long Length, byte[] Value) GetXattr(string path, string name, int size)
    {
        var buffer = new byte[size];
        long n = GetXattrNative(path, name, size == 0 ? null : buffer, (nuint)size);
        return n < 0 ? (-Marshal.GetLastPInvokeError(), []) : (n, buffer[..(int)Math.Min(n, size)]);
    }

    public static void Link(string from, string to) => Check(LinkNative(from, to), "link");

    public static void Chown(string path, uint uid, uint gid) => Check(ChownNative(path, uid, gid), "chown");

    /// <summary>rename(2) itself: replaces directories too, which Directory.Move refuses.</summary>
    public static void Rename(string from, string to) => Check(RenameNative(from, to), "rename");

    /// <summary>lseek(2); returns -errno on failure so tests can assert ENXIO.</summary>
    public static long Lseek(SafeFileHandle handle, long offset, int whence)
    {
        long result = LseekNative(handle.DangerousGetHandle(), offset, whence);
        return result < 0 ? -Marshal.GetLastPInvokeError() : result;
    }

    private static void Check(int result, string call)
    {
        if (result != 0) throw new IOException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
