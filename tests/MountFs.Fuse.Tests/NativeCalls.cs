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
