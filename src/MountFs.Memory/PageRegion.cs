using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace MountFs.Memory;

/// <summary>
/// A 2 MiB anonymous mapping that backs one densely written chunk of a file (<see cref="SparseChunk"/>). It reads
/// as zeros until written; owners keep every byte they do not use zero. Released by <see cref="SafeHandle.Dispose()"/>
/// or, if the owner forgets, by the finalizer.
/// </summary>
/// <remarks>
/// Fresh memory costs a page fault, a kernel page allocation and a zeroing per 4 KiB, and on this VM that, not
/// the copy, is what a streaming write into the memory layout paid (profile of the server: page-fault and clear_page
/// work several times the memcpy). <see cref="Take"/> therefore hands out regions that a background thread has
/// already faulted in (MADV_POPULATE_WRITE), a few ahead of need: the faults then run on the other core while the
/// serving thread only copies. Huge pages (MADV_HUGEPAGE) were tried: once recycled they filled at 3-6 GB/s, but
/// a fresh one cost more than 512 small pages here (first fill of 256 MiB 0.46-1.0 GB/s against 0.9-2.1).
/// </remarks>
internal sealed partial class PageRegion : SafeHandle
{
    public const int Size = 2 << 20;

    /// <summary>Regions kept faulted in ahead of need (16 MiB of memory held while idle).</summary>
    private const int Ready = 8;

    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20, MadvDontNeed = 4, MadvPopulateWrite = 23;

    private static readonly ConcurrentQueue<PageRegion> s_ready = new();
    private static readonly SemaphoreSlim s_refill = new(0);
    private static int s_refillerStarted;

    private PageRegion() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>A zeroed region, pre-faulted when the background thread kept up; null when the system has no mapping to give.</summary>
    public static PageRegion? Take()
    {
        if (!OperatingSystem.IsLinux()) return null;
        if (Interlocked.Exchange(ref s_refillerStarted, 1) == 0) StartRefiller();
        var region = s_ready.TryDequeue(out var ready) ? ready : Map();
        s_refill.Release();
        return region;
    }

    /// <summary>The bytes [offset, offset+length) of the region; valid until it is disposed (callers hold the file system's lock).</summary>
    public unsafe Span<byte> Slice(int offset, int length)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Size - offset);
        return new Span<byte>((byte*)handle + offset, length);
    }

    /// <summary>Faults in [offset, offset+length) now (fallocate: the memory is taken when asked for, as tmpfs does,
    /// not on the first write); best effort, the writer faults what this leaves.</summary>
    public void Populate(int offset, int length)
    {
        Slice(offset, length);
        _ = Madvise(handle + offset, (nuint)length, MadvPopulateWrite);
    }

    /// <summary>Zeroes [offset, offset+length) and gives its memory back to the system (a punched hole in a dense
    /// chunk would otherwise stay resident until the whole chunk goes); the next touch faults in a zeroed page.</summary>
    public void Discard(int offset, int length)
    {
        var bytes = Slice(offset, length);
        if (Madvise(handle + offset, (nuint)length, MadvDontNeed) != 0) bytes.Clear();
    }

    protected override bool ReleaseHandle() => Munmap(handle, Size) == 0;

    private static PageRegion? Map()
    {
        nint address = Mmap(0, Size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (address == -1) return null;
        var region = new PageRegion();
        region.SetHandle(address);
        return region;
    }

    private static void StartRefiller()
    {
        var thread = new Thread(() =>
        {
            while (true)
            {
                s_refill.Wait();
                while (s_ready.Count < Ready && Map() is { } region)
                {
                    // Best effort: a kernel without MADV_POPULATE_WRITE (before 5.14) leaves the faults to the writer.
                    _ = Madvise(region.handle, Size, MadvPopulateWrite);
                    s_ready.Enqueue(region);
                }
            }
        }) { IsBackground = true, Name = "memory-region-prefault", Priority = ThreadPriority.BelowNormal };
        thread.Start();
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
