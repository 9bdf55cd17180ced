using System.Runtime.InteropServices;

namespace MountFs.Fuse.Uring;

/// <summary>The raw system calls behind io_uring (x86-64 / aarch64 numbers are the same: 425, 426).</summary>
internal static unsafe partial class UringCalls
{
    public const long SysIoUringSetup = 425;
    public const long SysIoUringEnter = 426;
    public const int ProtReadWrite = 0x1 | 0x2;
    public const int MapSharedPopulate = 0x01 | 0x8000;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall2(long number, long a, void* b);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall6(long number, long a, long b, long c, long d, void* e, long f);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    public const int EventFdCloseOnExecNonBlocking = 0x80000 | 0x800;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);
}
