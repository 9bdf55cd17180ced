using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using MountFs.Fuse.Interop;
using MountFs.Fuse.Protocol;

namespace MountFs.Fuse.Uring;

/// <summary>
/// One FUSE io_uring queue (the kernel keeps one per possible CPU and routes a request to the queue of the
/// CPU its caller runs on): a thread with its own ring that registers the queue's entries, then for every
/// completion serves the request it carries and commits the reply while fetching the next request, in one
/// io_uring_enter.
/// </summary>
/// <remarks>
/// A request that may wait on the device (the dispatcher's MayWait: read, write, fsync, truncate...) is served
/// on one of the queue's helper threads instead, so that one stuck read cannot stall every later request of this CPU; the
/// helper leaves the reply in the entry and wakes the queue thread through an eventfd the ring polls, and
/// the queue thread (the ring's only submitter) commits it.
/// </remarks>
internal sealed unsafe class FuseUringQueue
{
    // EAGAIN to REGISTER only means the kernel has not processed our INIT reply yet. Giving up must wait for a
    // stalled worker on a loaded machine: once INIT granted io_uring, the kernel holds every request until
    // each queue has registered, so a queue that gave up too early would hang the whole mount.
    private static readonly TimeSpan RegisterPatience = TimeSpan.FromSeconds(30);
    private long _registerStarted;
    private const ulong WakeTag = ulong.MaxValue;
    private readonly ConcurrentQueue<(FuseUringEntry Entry, ulong CommitId)> _servedElsewhere = new();
    // Dedicated helper threads serve the requests that may wait: several, so that one stuck read still leaves
    // others for this CPU's next slow requests, and not the thread pool, which injects threads only slowly
    // when its threads block on the device. Left unpinned: pinned to the queue's CPU, read-ahead requests (all
    // issued from the reader's CPU) were served by one CPU (cold 1 MiB reads 528-805 MiB/s, unpinned 813-1185).
    private const int Helpers = 3;
    private readonly BlockingCollection<FuseUringEntry> _mayWait = new(new ConcurrentQueue<FuseUringEntry>());
    private readonly List<Thread> _helpers = [];
    private int _wakeFd = -1;
    private IoUring _ring;
    private readonly int _queueId;
    private readonly Action<string> _log;
    private FuseUringEntry[] _entries = [];
    private int _deviceFd;
    private FuseDispatcher? _dispatcher;
    private long _served;

    public FuseUringQueue(int queueId, int depth, Action<string> log)
    {
        _queueId = queueId;
        _log = log;
        Depth = depth;
        _ring = new IoUring((uint)depth + 1);
    }


    public int Depth { get; }

    public long RequestsServed => Volatile.Read(ref _served);

    /// <summary>Set when the kernel refused a REGISTER for good (it then serves the mount over /dev/fuse).</summary>
    public string? RegistrationError { get; private set; }

    public Thread Start(int deviceFd, FuseDispatcher dispatcher, int payloadCapacity, Action onStopped)
    {
        _deviceFd = deviceFd;
        _dispatcher = dispatcher;
        _entries = new FuseUringEntry[Depth];
        for (int i = 0; i < Depth; i++) _entries[i] = new FuseUringEntry(i, payloadCapacity);
        var thread = new Thread(() =>
        {
            try { Run(); }
            catch (Exception e) { _log($"fuse: io_uring queue {_queueId} stopped: {e}"); }
            finally
            {
                _mayWait.CompleteAdding();
                _ring.Dispose();
                // A helper still serving would write to the eventfd afterwards; closed, its number could by then
                // name another file (the image), so it is closed only once every helper is gone.
                bool helpersGone = _helpers.All(h => h.Join(TimeSpan.FromSeconds(30)));
                if (_wakeFd >= 0 && helpersGone) LibC.Close(_wakeFd);
                onStopped();
            }
        }) { IsBackground = true, Name = $"fuse-uring-{_queueId}" };
        thread.Start();
        return thread;
    }

    /// <summary>Releases the ring of a queue that was never started.</summary>
    public void DisposeUnstarted() => _ring.Dispose();

    private void Run()
    {
        PinToCpu();
        StartHelpers();
        // A single-issuer ring belongs to the thread that created it, so the one made up front (which proved
        // io_uring usable before INIT asked for it) is replaced here; it stays if the kernel refuses the flags.
        try
        {
            var own = new IoUring((uint)Depth + 1, deferTaskRun: true);
            _ring.Dispose();
            _ring = own;
        }
        catch (IOException e)
        {
            _log($"fuse: io_uring queue {_queueId}: keeping a shared-issuer ring ({e.Message})");
        }
        _wakeFd = UringCalls.EventFd(0, UringCalls.EventFdCloseOnExecNonBlocking);
        if (_wakeFd < 0) throw new IOException($"eventfd: {LibC.Describe(LibC.LastError)}");
        QueueWakePoll();
        _registerStarted = Stopwatch.GetTimestamp();
        foreach (var entry in _entries) QueueRegister(entry);
        int live = _entries.Length;
        while (live > 0)
        {
            int r = _ring.SubmitAndWait(1);
            if (r == -LibC.EINTR) continue;
            if (r < 0)
            {
                _log($"fuse: io_uring queue {_queueId}: io_uring_enter failed: {LibC.Describe(-r)}");
                return;
            }
            while (_ring.TryTakeCompletion(out ulong userData, out int result))
            {
                if (userData == WakeTag)
                {
                    long drained;
                    LibC.Read(_wakeFd, (byte*)&drained, sizeof(long));
                    if (result >= 0) QueueWakePoll();
                    else _log($"fuse: io_uring queue {_queueId}: wake poll failed: {LibC.Describe(-result)}");
                    while (_servedElsewhere.TryDequeue(out var served)) QueueCommit(served.Entry, served.CommitId);
                    continue;
                }
                var entry = _entries[(int)userData];
                if (result == 0)
                {
                    entry.Registered = true;
                    if (MayWait(entry)) _mayWait.Add(entry);
                    else QueueCommit(entry, ServeOrFail(entry));
                    continue;
                }
                // EAGAIN: INIT's reply is not processed yet (we start as soon as we answered it).
                if (result == -LibC.EAGAIN && !entry.Registered && Stopwatch.GetElapsedTime(_registerStarted) < RegisterPatience)
                {
                    Thread.Sleep(1);
                    QueueRegister(entry);
                    continue;
                }
                live--;
                if (result is -LibC.ENOTCONN or -LibC.ECONNABORTED or -LibC.ENODEV) continue;
                string message = LibC.Describe(-result);
                if (!entry.Registered) RegistrationError ??= message;
                _log($"fuse: io_uring queue {_queueId} entry {entry.Index}: {(entry.Registered ? "commit" : "register")} failed: {message}");
            }
        }
    }

    private bool MayWait(FuseUringEntry entry)
    {
        // The dispatcher decides from the in header and the first bytes of the opcode's argument, which the
        // ring keeps apart (op_in); put them side by side as /dev/fuse delivers them.
        var headers = new ReadOnlySpan<byte>(entry.Headers, FuseUringLayout.HeaderSize);
        Span<byte> start = stackalloc byte[FuseInHeader.Size + 8];
        headers[..FuseInHeader.Size].CopyTo(start);
        headers.Slice(FuseUringLayout.OpIn, 8).CopyTo(start[FuseInHeader.Size..]);
        return _dispatcher!.MayWait(start);
    }

    private void StartHelpers()
    {
        for (int i = 0; i < Helpers; i++)
        {
            var helper = new Thread(() =>
            {
                try
                {
                    foreach (var entry in _mayWait.GetConsumingEnumerable()) ServeElsewhere(entry);
                }
                catch (Exception e)
                {
                    _log($"fuse: io_uring queue {_queueId} helper stopped: {e}");
                }
            }) { IsBackground = true, Name = $"fuse-uring-{_queueId}-helper-{i}" };
            _helpers.Add(helper);
            helper.Start();
        }
    }

    private void ServeElsewhere(FuseUringEntry entry)
    {
        _servedElsewhere.Enqueue((entry, ServeOrFail(entry)));
        long one = 1;
        // Best effort: the eventfd only fails when the queue is gone, and then nothing waits for this reply.
        LibC.Write(_wakeFd, (byte*)&one, sizeof(long));
    }

    /// <summary>A one-shot poll of the wake eventfd (IORING_OP_POLL_ADD for POLLIN).</summary>
    private void QueueWakePoll()
    {
        const byte OpPollAdd = 6;
        const uint PollIn = 1;
        var sqe = _ring.NextSqe();
        sqe[0] = OpPollAdd;
        BinaryPrimitives.WriteInt32LittleEndian(sqe[4..], _wakeFd);
        BinaryPrimitives.WriteUInt32LittleEndian(sqe[28..], PollIn);
        BinaryPrimitives.WriteUInt64LittleEndian(sqe[32..], WakeTag);
    }

    /// <summary>Requests of queue q come from callers running on CPU q; pinned there, the reply needs no cross-CPU
    /// wake-up (measured on this 2-core VM: unpinned, random 4 KiB reads went from ~26k to ~19k IOPS).</summary>
    private void PinToCpu()
    {
        if (_queueId >= 64) return;
        ulong mask = 1UL << _queueId;
        // Best effort: the requests of this queue come from callers on that CPU; a refusal only costs locality.
        UringCalls.SchedSetAffinity(0, sizeof(ulong), &mask);
    }

    private void QueueRegister(FuseUringEntry entry)
    {
        var sqe = Command(entry, FuseUringLayout.CmdRegister);
        BinaryPrimitives.WriteUInt64LittleEndian(sqe[16..], (ulong)entry.Iov);
        BinaryPrimitives.WriteUInt32LittleEndian(sqe[24..], FuseUringLayout.IovSegments);
    }

    private void QueueCommit(FuseUringEntry entry, ulong commitId)
    {
        var sqe = Command(entry, FuseUringLayout.CmdCommitAndFetch);
        BinaryPrimitives.WriteUInt64LittleEndian(sqe[(IoUring.SqeCommandOffset + FuseUringLayout.CmdCommitId)..], commitId);
    }

    /// <summary>An IORING_OP_URING_CMD on /dev/fuse for <paramref name="entry"/> (user_data = its index).</summary>
    private Span<byte> Command(FuseUringEntry entry, uint op)
    {
        const byte OpUringCmd = 46;
        var sqe = _ring.NextSqe();
        sqe[0] = OpUringCmd;
        BinaryPrimitives.WriteInt32LittleEndian(sqe[4..], _deviceFd);
        BinaryPrimitives.WriteUInt32LittleEndian(sqe[8..], op);
        BinaryPrimitives.WriteUInt64LittleEndian(sqe[32..], (ulong)entry.Index);
        BinaryPrimitives.WriteUInt16LittleEndian(sqe[(IoUring.SqeCommandOffset + FuseUringLayout.CmdQueueId)..], (ushort)_queueId);
        return sqe;
    }

    /// <summary>A queue thread must never die with the ring ready: the kernel would keep routing this CPU's
    /// requests to entries nobody serves. A bug outside the dispatcher's own error handling answers EIO.</summary>
    private ulong ServeOrFail(FuseUringEntry entry)
    {
        try
        {
            return Serve(entry);
        }
        catch (Exception e)
        {
            _log($"fuse: io_uring queue {_queueId}: request failed: {e.GetType().Name}: {e.Message}");
            var headers = new Span<byte>(entry.Headers, FuseUringLayout.HeaderSize);
            ulong commitId = BinaryPrimitives.ReadUInt64LittleEndian(headers[FuseUringLayout.CommitId..]);
            return Fail(entry, commitId, 5 /* EIO */);
        }
    }

    /// <summary>Runs the entry's request through the dispatcher and leaves the reply in the entry; returns the commit id.</summary>
    private ulong Serve(FuseUringEntry entry)
    {
        byte* h = entry.Headers;
        var headers = new Span<byte>(h, FuseUringLayout.HeaderSize);
        ulong commitId = BinaryPrimitives.ReadUInt64LittleEndian(headers[FuseUringLayout.CommitId..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(headers);
        uint payloadSize = BinaryPrimitives.ReadUInt32LittleEndian(headers[FuseUringLayout.PayloadSize..]);
        // The kernel splits a request into in_header, its first argument (op_in) and the rest (payload);
        // the first argument's size is what the total length leaves over.
        long opInSize = (long)length - FuseInHeader.Size - payloadSize;
        Interlocked.Increment(ref _served);
        if (length < FuseInHeader.Size || opInSize < 0 || opInSize > FuseUringLayout.OpInSize || payloadSize > entry.PayloadCapacity)
        {
            _log($"fuse: io_uring queue {_queueId}: malformed request (len {length}, payload {payloadSize})");
            return Fail(entry, commitId, 22 /* EINVAL */);
        }
        int opIn = (int)opInSize;
        var dispatcher = _dispatcher!;
        // Without a payload everything is in the header area and the request is assembled in the gap; with one,
        // its fixed part goes just before the payload buffer, so the payload is never copied.
        int start = payloadSize == 0 ? FuseUringEntry.GapOffset : FuseUringEntry.PayloadOffset - opIn - FuseInHeader.Size;
        var request = entry.Buffer.AsSpan(start, (int)length);
        headers[..FuseInHeader.Size].CopyTo(request);
        headers.Slice(FuseUringLayout.OpIn, opIn).CopyTo(request[FuseInHeader.Size..]);
        if (payloadSize == 0)
        {
            // The reply lands in place, its out header just before the payload buffer (a READ's data is then never copied).
            var reply = entry.Buffer.AsMemory(FuseUringEntry.PayloadOffset - FuseOutHeader.Size, FuseOutHeader.Size + entry.PayloadCapacity);
            int n = dispatcher.Process(request, reply);
            if (n < FuseOutHeader.Size) return Fail(entry, commitId, 5 /* EIO */);
            reply.Span[..FuseOutHeader.Size].CopyTo(headers);
            return Reply(entry, commitId, n - FuseOutHeader.Size);
        }
        else
        {
            int n = dispatcher.Process(request, entry.Reply);
            if (n < FuseOutHeader.Size || n - FuseOutHeader.Size > entry.PayloadCapacity)
                return Fail(entry, commitId, 5 /* EIO */);
            entry.Reply.AsSpan(0, FuseOutHeader.Size).CopyTo(headers);
            entry.Reply.AsSpan(FuseOutHeader.Size, n - FuseOutHeader.Size).CopyTo(entry.Buffer.AsSpan(FuseUringEntry.PayloadOffset));
            return Reply(entry, commitId, n - FuseOutHeader.Size);
        }
    }

    /// <summary>Records the reply's payload length (its out header is already in the header area); returns the commit id.</summary>
    private static ulong Reply(FuseUringEntry entry, ulong commitId, int payloadLength)
    {
        var headers = new Span<byte>(entry.Headers, FuseUringLayout.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(headers[FuseUringLayout.PayloadSize..], (uint)payloadLength);
        return commitId;
    }

    /// <summary>An error reply: an out header alone.</summary>
    private static ulong Fail(FuseUringEntry entry, ulong commitId, int errno)
    {
        new FuseOutHeader(FuseOutHeader.Size, -errno, commitId).WriteTo(new Span<byte>(entry.Headers, FuseUringLayout.HeaderSize));
        return Reply(entry, commitId, 0);
    }
}
