using MountFs.Fuse.Interop;
using MountFs.Fuse.Mounting;
using MountFs.Fuse.Protocol;

namespace MountFs.Fuse;

/// <summary>
/// The request loop: <c>N</c> worker threads with their own pre-allocated request and reply buffers, taking
/// turns as the one reader of the /dev/fuse descriptor (leader/follower), so a slow request holds only its own thread.
/// </summary>
/// <remarks>
/// <para>
/// Only the worker holding the reader role is in read(). A request that answers from memory (lookup,
/// getattr, create, unlink, ...) is served by the worker that read it, which then reads again without
/// passing the role on: a run of synchronous metadata requests stays on one warm thread and the kernel
/// never has several readers contending for its queue (measured here with 4 workers on ext2: about 1.5–1.9×
/// the creates and 1.5× the unlinks per second of all workers reading at once). A request that may wait on the device (read, write,
/// fsync, truncate, the releases of written handles and forgets that free much data; see
/// <see cref="FuseDispatcher.MayWait"/>) hands the role to the next worker first,
/// so the mount keeps answering while it runs.
/// </para>
/// <para>
/// The kernel hands each request to exactly one reader and expects the reply on the same descriptor.
/// The loop ends when read() returns ENODEV (unmounted) or ECONNABORTED (aborted): every blocked reader
/// wakes with it, so all workers stop together and <see cref="Completion"/> completes.
/// </para>
/// </remarks>
public sealed class FuseSession
{
    private readonly FuseDevice _device;
    private readonly FuseDispatcher _dispatcher;
    private readonly Action<string> _log;
    private readonly List<Thread> _workers = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private readonly SemaphoreSlim _readerRole = new(1, 1);

    private readonly bool _clonePerWorker;
    private readonly List<FuseDevice> _clones = [];

    public FuseSession(FuseDevice device, FuseDispatcher dispatcher, int threads, Action<string>? log = null, bool clonePerWorker = false)
    {
        _device = device;
        _clonePerWorker = clonePerWorker;
        _dispatcher = dispatcher;
        _log = log ?? (_ => { });
        Threads = Math.Clamp(threads, 1, 64);
    }

    public int Threads { get; }

    /// <summary>Requests read from /dev/fuse so far.</summary>
    public long RequestsServed => Volatile.Read(ref _served);

    private long _served;

    /// <summary>Completes when every worker has stopped.</summary>
    public Task Completion => _completion.Task;

    public void Start()
    {
        _running = Threads;
        for (int i = 0; i < Threads; i++)
        {
            var device = i > 0 && _clonePerWorker ? TryClone() : _device;
            var thread = new Thread(() => Work(device)) { IsBackground = true, Name = $"fuse-worker-{i}" };
            _workers.Add(thread);
            thread.Start();
        }
    }

    private FuseDevice TryClone()
    {
        try
        {
            var clone = _device.Clone();
            _clones.Add(clone);
            return clone;
        }
        catch (Exception e) when (e is IOException or FuseMountException)
        {
            _log($"fuse: sharing one descriptor: {e.Message}");
            return _device;
        }
    }

    private unsafe void Work(FuseDevice device)
    {
        byte[] request = GC.AllocateUninitializedArray<byte>(_dispatcher.RequestBufferSize, pinned: true);
        byte[] reply = GC.AllocateUninitializedArray<byte>(_dispatcher.ReplyBufferSize, pinned: true);
        bool reader = false;
        try
        {
            fixed (byte* requestPointer = request)
            fixed (byte* replyPointer = reply)
            {
                while (true)
                {
                    if (!reader)
                    {
                        _readerRole.Wait();
                        reader = true;
                    }
                    nint n = LibC.Read(device.Descriptor, requestPointer, request.Length);
                    if (n < 0)
                    {
                        int errno = LibC.LastError;
                        // ENOENT: the request was interrupted before we got it.
                        if (errno is LibC.EINTR or LibC.EAGAIN or LibC.ENOENT) continue;
                        if (errno is not (LibC.ENODEV or LibC.ECONNABORTED or 9 /* EBADF: closed */))
                            _log($"fuse: read from /dev/fuse failed: {LibC.Describe(errno)}");
                        return;
                    }
                    if (n == 0) return;
                    Interlocked.Increment(ref _served);
                    if (_dispatcher.MayWait(request.AsSpan(0, (int)n)))
                    {
                        _readerRole.Release();
                        reader = false;
                    }
                    int length = _dispatcher.Process(request.AsSpan(0, (int)n), reply);
                    if (length == 0) continue;
                    if (LibC.Write(device.Descriptor, replyPointer, length) < 0)
                    {
                        int errno = LibC.LastError;
                        // ENOENT: the kernel no longer waits for this request (aborted).
                        if (errno is LibC.ENODEV or LibC.ECONNABORTED) return;
                        if (errno != LibC.ENOENT) _log($"fuse: reply write failed: {LibC.Describe(errno)}");
                    }
                }
            }
        }
        catch (Exception e)
        {
            _log($"fuse: worker {Thread.CurrentThread.Name} stopped: {e}");
        }
        finally
        {
            // The next worker then reads too and meets the same ENODEV, so every worker stops.
            if (reader) _readerRole.Release();
            if (Interlocked.Decrement(ref _running) == 0)
            {
                foreach (var clone in _clones) clone.Dispose();
                _completion.TrySetResult();
            }
        }
    }
}
