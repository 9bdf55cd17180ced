using System.Buffers.Binary;
using MountFs.Fuse.Interop;

namespace MountFs.Fuse.Uring;

/// <summary>
/// One io_uring instance with 128-byte submission entries (IORING_SETUP_SQE128, which uring_cmd needs for its
/// inline command), driven by one thread: it fills entries, submits and waits in one io_uring_enter, and
/// drains completions.
/// </summary>
/// <remarks>Only the owning thread touches the rings, so the only ordering needed is against the kernel:
/// release when publishing the SQ tail and the CQ head, acquire when reading the CQ tail.</remarks>
internal sealed unsafe class IoUring : IDisposable
{
    public const int SqeSize = 128;
    /// <summary>Where the uring_cmd payload starts in an SQE (io_uring_sqe.cmd).</summary>
    public const int SqeCommandOffset = 48;
    public const int CommandSize = SqeSize - SqeCommandOffset;
    private const uint SetupSqe128 = 1 << 10;
    private const uint SetupSingleIssuer = 1 << 12;
    private const uint SetupDeferTaskRun = 1 << 13;
    private const uint EnterGetEvents = 1;
    private const long OffSqRing = 0, OffCqRing = 0x8000000, OffSqes = 0x10000000;

    private readonly int _fd;
    private readonly byte* _sqRing, _cqRing, _sqes;
    private readonly nuint _sqRingSize, _cqRingSize, _sqesSize;
    private readonly uint* _sqTail, _sqArray, _cqHead, _cqTail;
    private readonly uint _sqMask, _cqMask;
    private readonly byte* _cqes;
    private uint _pending, _unsubmitted;

    /// <exception cref="IOException">io_uring_setup or the ring mappings were refused (errno in the message).</exception>
    public IoUring(uint entries, bool deferTaskRun = false)
    {
        byte* p = stackalloc byte[120];
        new Span<byte>(p, 120).Clear();
        // DEFER_TASKRUN (needs SINGLE_ISSUER): completions are run only when the owning thread waits in
        // io_uring_enter, instead of interrupting it with task work while it serves a request.
        uint flags = SetupSqe128 | (deferTaskRun ? SetupSingleIssuer | SetupDeferTaskRun : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(p + 8, 4), flags);
        long fd = UringCalls.Syscall2(UringCalls.SysIoUringSetup, entries, p);
        if (fd < 0) throw Fail("io_uring_setup");
        _fd = (int)fd;
        uint U(int offset) => *(uint*)(p + offset);
        uint sqEntries = U(0), cqEntries = U(4);
        // io_sqring_offsets at 40, io_cqring_offsets at 80.
        _sqRingSize = U(40 + 24) + sqEntries * 4;
        _cqRingSize = U(80 + 20) + cqEntries * 16;
        _sqesSize = sqEntries * SqeSize;
        _sqRing = Map(_sqRingSize, OffSqRing);
        _cqRing = Map(_cqRingSize, OffCqRing);
        _sqes = Map(_sqesSize, OffSqes);
        _sqTail = (uint*)(_sqRing + U(40 + 4));
        _sqMask = *(uint*)(_sqRing + U(40 + 8));
        _sqArray = (uint*)(_sqRing + U(40 + 24));
        _cqHead = (uint*)(_cqRing + U(80 + 0));
        _cqTail = (uint*)(_cqRing + U(80 + 4));
        _cqMask = *(uint*)(_cqRing + U(80 + 8));
        _cqes = _cqRing + U(80 + 20);
        Capacity = sqEntries;
    }

    public uint Capacity { get; }

    private byte* Map(nuint size, long offset)
    {
        void* address = UringCalls.Mmap(null, size, UringCalls.ProtReadWrite, UringCalls.MapSharedPopulate, _fd, offset);
        if (address == (void*)-1)
        {
            var error = Fail("mmap of the io_uring rings");
            Dispose();
            throw error;
        }
        return (byte*)address;
    }

    /// <summary>A cleared SQE queued for the next <see cref="SubmitAndWait"/>; the caller fills it before then.</summary>
    public Span<byte> NextSqe()
    {
        uint tail = *_sqTail + _pending;
        uint index = tail & _sqMask;
        var sqe = new Span<byte>(_sqes + index * SqeSize, SqeSize);
        sqe.Clear();
        _sqArray[index] = index;
        _pending++;
        return sqe;
    }

    /// <summary>Submits the queued SQEs and waits for at least <paramref name="waitFor"/> completions.
    /// Returns 0 or a negative errno (EINTR: call again; queued SQEs not taken stay queued).</summary>
    public int SubmitAndWait(uint waitFor)
    {
        if (_pending > 0)
        {
            Volatile.Write(ref *_sqTail, *_sqTail + _pending);
            _unsubmitted += _pending;
            _pending = 0;
        }
        long r = UringCalls.Syscall6(UringCalls.SysIoUringEnter, _fd, _unsubmitted, waitFor, EnterGetEvents, null, 0);
        // Without SQPOLL the kernel only takes what to_submit names: entries it left stay counted for the next call.
        if (r < 0) return -LibC.LastError;
        _unsubmitted -= Math.Min(_unsubmitted, (uint)r);
        return 0;
    }

    /// <summary>Takes the next completion, if any.</summary>
    public bool TryTakeCompletion(out ulong userData, out int result)
    {
        uint head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail))
        {
            userData = 0;
            result = 0;
            return false;
        }
        byte* cqe = _cqes + (head & _cqMask) * 16;
        userData = *(ulong*)cqe;
        result = *(int*)(cqe + 8);
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    private static IOException Fail(string what)
    {
        int errno = LibC.LastError;
        return new IOException($"{what}: {LibC.Describe(errno)}") { HResult = errno };
    }

    public void Dispose()
    {
        if (_sqes != null) UringCalls.Munmap(_sqes, _sqesSize);
        if (_cqRing != null) UringCalls.Munmap(_cqRing, _cqRingSize);
        if (_sqRing != null) UringCalls.Munmap(_sqRing, _sqRingSize);
        if (_fd > 0) LibC.Close(_fd);
    }
}
