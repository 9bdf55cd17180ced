using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace MountFs.Fuse.Tests;

/// <summary>
/// Copies bytes to and from a memory mapping of a file on a mount that this process serves itself.
/// </summary>
/// <remarks>
/// Touching such a mapping from managed code can deadlock the test process: the page fault waits for a READ
/// that a server thread of this process must answer, while the faulting thread, still in cooperative mode,
/// keeps a stop-the-world GC (started by any thread) from ever completing; the server thread then waits for
/// that GC forever. Copying inside a P/Invoke puts the faulting thread in preemptive mode, where the GC does not
/// wait for it. (A mapping made by another process, as a user's is, never has this problem.)
/// </remarks>
internal static unsafe partial class MappedViewCopy
{
    [LibraryImport("libc", EntryPoint = "memcpy")]
    private static partial void* MemCopy(void* destination, void* source, nuint count);

    public static void Write(MemoryMappedViewAccessor view, long offset, ReadOnlySpan<byte> data)
    {
        CheckRange(view, offset, data.Length);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        try
        {
            fixed (byte* source = data) MemCopy(start + view.PointerOffset + offset, source, (nuint)data.Length);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    public static void Read(MemoryMappedViewAccessor view, long offset, Span<byte> into)
    {
        CheckRange(view, offset, into.Length);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        try
        {
            fixed (byte* destination = into) MemCopy(destination, start + view.PointerOffset + offset, (nuint)into.Length);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private static void CheckRange(MemoryMappedViewAccessor view, long offset, int length)
    {
        if (offset < 0 || offset > view.Capacity - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{offset}+{length} is outside the {view.Capacity}-byte view");
    }
}
