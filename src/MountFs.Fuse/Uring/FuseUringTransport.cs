using MountFs.Fuse.Mounting;
using MountFs.Fuse.Protocol;

namespace MountFs.Fuse.Uring;

/// <summary>
/// FUSE over io_uring (mount option io_uring): one <see cref="FuseUringQueue"/> per possible CPU, so a request
/// costs one io_uring_enter (commit the previous reply and fetch the next) instead of a write and a read on
/// /dev/fuse. Opt-in; anything missing (kernel support, io_uring itself, the kernel's INIT offer) leaves the
/// mount on /dev/fuse with one log line.
/// </summary>
/// <remarks>
/// The rings exist before INIT, so FUSE_OVER_IO_URING is only asked for when they can be used: once granted,
/// the kernel holds every new request until each queue has an entry registered ("ring ready"), and a REGISTER
/// it refuses makes it fall back to /dev/fuse for good. FORGET and INTERRUPT keep coming through /dev/fuse,
/// so the classic workers keep reading it.
/// </remarks>
public sealed class FuseUringTransport : IDisposable
{
    private const string EnableParameter = "/sys/module/fuse/parameters/enable_uring";
    private readonly FuseUringQueue[] _queues;
    private readonly Action<string> _log;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private bool _started;

    private FuseUringTransport(FuseUringQueue[] queues, Action<string> log)
    {
        _queues = queues;
        _log = log;
    }

    public int Queues => _queues.Length;

    public int Depth => _queues.Length == 0 ? 0 : _queues[0].Depth;

    /// <summary>Requests answered through io_uring so far.</summary>
    public long RequestsServed => _queues.Sum(q => q.RequestsServed);

    /// <summary>Completes when every queue thread stopped (at once when never started).</summary>
    public Task Completion => _completion.Task;

    /// <summary>The rings for every queue, or null (logged) when this kernel or process cannot serve FUSE over io_uring.</summary>
    public static FuseUringTransport? TryCreate(int depth, Action<string> log)
    {
        if (!File.Exists(EnableParameter))
        {
            log("fuse: io_uring: this kernel has no FUSE-over-io_uring (no fuse enable_uring parameter); serving through /dev/fuse");
            return null;
        }
        if (!KernelEnabled(log)) return null;
        int queueCount = PossibleCpus();
        var queues = new List<FuseUringQueue>();
        try
        {
            // A second thread (and ring) per queue was tried: random 4 KiB reads lost a third, as requests then
            // alternate between two threads' caches.
            for (int q = 0; q < queueCount; q++) queues.Add(new FuseUringQueue(q, Math.Clamp(depth, 1, 256), log));
        }
        catch (IOException e)
        {
            foreach (var queue in queues) queue.DisposeUnstarted();
            log($"fuse: io_uring: cannot set up the rings ({e.Message}); serving through /dev/fuse");
            return null;
        }
        return new FuseUringTransport([.. queues], log);
    }

    private static bool KernelEnabled(Action<string> log)
    {
        try
        {
            if (File.ReadAllText(EnableParameter).Trim() is "Y" or "1") return true;
            if (!FuseMounter.IsRoot)
            {
                log($"fuse: io_uring: {EnableParameter} is N and only root may set it; serving through /dev/fuse");
                return false;
            }
            File.WriteAllText(EnableParameter, "Y");
            log($"fuse: io_uring: set {EnableParameter} to Y");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"fuse: io_uring: cannot enable it in the kernel ({e.Message}); serving through /dev/fuse");
            return false;
        }
    }

    /// <summary>The kernel sizes the ring by num_possible_cpus(), and is ready only when every queue has entries.</summary>
    internal static int PossibleCpus()
    {
        try
        {
            return CpuList.Count(File.ReadAllText("/sys/devices/system/cpu/possible"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>Starts the queue threads once INIT granted FUSE_OVER_IO_URING.</summary>
    public void Start(FuseDevice device, FuseDispatcher dispatcher)
    {
        var negotiated = dispatcher.Negotiated ?? throw new InvalidOperationException("INIT has not completed");
        // The kernel checks each payload buffer against max(8 KiB, max_write, max_pages pages).
        int payload = Math.Max(8192, Math.Max((int)negotiated.MaxWrite, negotiated.MaxPages * 4096));
        payload = (payload + 4095) & ~4095;
        _started = true;
        _running = _queues.Length;
        foreach (var queue in _queues) queue.Start(device.Descriptor, dispatcher, payload, QueueStopped);
        _log($"fuse: serving through io_uring: {_queues.Length} queues x {Depth} entries of {payload >> 10} KiB");
    }

    private void QueueStopped()
    {
        if (Interlocked.Decrement(ref _running) != 0) return;
        if (_queues.Select(q => q.RegistrationError).FirstOrDefault(e => e is not null) is { } error)
            _log($"fuse: io_uring: the kernel refused the ring entries ({error})");
        _completion.TrySetResult();
    }

    /// <summary>Releases the rings of a transport that was not started (a started one ends with the mount).</summary>
    public void Dispose()
    {
        if (_started) return;
        _started = true;
        foreach (var queue in _queues) queue.DisposeUnstarted();
        _completion.TrySetResult();
    }
}
