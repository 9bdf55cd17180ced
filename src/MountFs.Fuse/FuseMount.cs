using MountFs.Fuse.Mounting;
using MountFs.Fuse.Protocol;
using MountFs.Fuse.Uring;
using MountFs.Vfs;

namespace MountFs.Fuse;

/// <summary>
/// A live FUSE mount of one <see cref="IFileSystem"/>: mounted by <see cref="Start"/>, served by a
/// <see cref="FuseSession"/>, ended by any unmount (ours, fusermount3 -u, umount, a lazy detach).
/// </summary>
/// <remarks>
/// <see cref="Completion"/> completes after the last worker stopped, the descriptor closed and (when
/// owned) the file system was disposed, which syncs it, marks it clean and releases its image.
/// <see cref="Dispose"/> never leaves a mount behind: unmount, else lazy unmount, else abort the connection.
/// </remarks>
public sealed class FuseMount : IDisposable
{
    private static readonly TimeSpan InitTimeout = TimeSpan.FromSeconds(15);
    private readonly FuseSession _session;
    private readonly bool _viaFusermount;
    private readonly int? _connectionId;
    private FuseUringTransport? _uring;

    private FuseMount(string mountPoint, FuseSession session, Task completion, bool viaFusermount, int? connectionId, FuseDispatcher dispatcher)
    {
        MountPoint = mountPoint;
        _session = session;
        Completion = completion;
        _viaFusermount = viaFusermount;
        _connectionId = connectionId;
        Dispatcher = dispatcher;
    }

    public string MountPoint { get; }

    public FuseDispatcher Dispatcher { get; }

    /// <summary>Completes when the mount is gone and the file system is released.</summary>
    public Task Completion { get; }

    public int Threads => _session.Threads;

    /// <summary>Whether requests are served through io_uring queues (mount option io_uring, granted by the kernel).</summary>
    public bool UsesIoUring => _uring is not null;

    /// <summary>Requests read from /dev/fuse so far (with io_uring: INIT, FORGET, INTERRUPT and any fallback).</summary>
    public long DeviceRequests => _session.RequestsServed;

    /// <summary>Requests answered through io_uring so far.</summary>
    public long UringRequests => _uring?.RequestsServed ?? 0;

    /// <summary>Mounts <paramref name="fileSystem"/> on <paramref name="mountPoint"/> and returns once the kernel finished INIT.</summary>
    /// <exception cref="FuseMountException">Mount point missing, busy or not empty; /dev/fuse missing; mount refused.</exception>
    public static FuseMount Start(IFileSystem fileSystem, string mountPoint, FuseOptions options, Action<string>? log = null,
        bool ownsFileSystem = false)
    {
        string full = FuseMounter.CheckMountPoint(mountPoint, options.RequireEmptyMountPoint);
        // The rings are set up before INIT so io_uring is only asked for when it can be served.
        var uring = options.IoUring ? FuseUringTransport.TryCreate(options.IoUringDepth, log ?? (_ => { })) : null;
        var dispatcher = new FuseDispatcher(fileSystem, options with { IoUring = uring is not null }, log);
        using var initialized = new ManualResetEventSlim();
        dispatcher.Initialized += initialized.Set;
        uint rootMode = fileSystem.GetAttributes(fileSystem.RootNode).Mode;
        bool viaFusermount = options.UseFusermount ?? !FuseMounter.IsRoot;
        FuseDevice device;
        try
        {
            device = FuseMounter.Mount(full, options, rootMode);
        }
        catch
        {
            uring?.Dispose();
            throw;
        }
        var entry = MountTable.Find(full);
        int? connection = entry is { Major: 0 } ? entry.Minor : null;
        var session = new FuseSession(device, dispatcher, options.Threads, log, options.CloneDevicePerWorker);
        var served = uring is null ? session.Completion : Task.WhenAll(session.Completion, uring.Completion);
        var completion = served.ContinueWith(_ =>
        {
            if (options.LogRequestCounts)
            {
                log?.Invoke($"fuse: requests: {dispatcher.Counters.Describe()}");
                if (uring is not null)
                    log?.Invoke($"fuse: transports: /dev/fuse {session.RequestsServed}, io_uring {uring.RequestsServed}");
            }
            device.Dispose();
            if (ownsFileSystem) fileSystem.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        session.Start();
        var mount = new FuseMount(full, session, completion, viaFusermount, connection, dispatcher);
        int which = WaitHandle.WaitAny([initialized.WaitHandle, ((IAsyncResult)session.Completion).AsyncWaitHandle], InitTimeout);
        if (which != 0)
        {
            uring?.Dispose();
            mount.Dispose();
            throw new FuseMountException($"{mountPoint}: the kernel did not complete FUSE INIT");
        }
        if (uring is not null)
        {
            if (dispatcher.Negotiated is { } n && (n.Flags & InitFlags.OverIoUring) != 0)
            {
                uring.Start(device, dispatcher);
                mount._uring = uring;
            }
            else
            {
                log?.Invoke("fuse: io_uring: the kernel did not offer FUSE_OVER_IO_URING at INIT; serving through /dev/fuse");
                uring.Dispose();
            }
        }
        if (options.WritebackCache && options.LiftDirtyLimit && FuseMounter.IsRoot && entry is not null
            && BdiSettings.LiftDirtyLimit(entry.Major, entry.Minor) is { } refused)
            log?.Invoke($"fuse: keeping the kernel's dirty-page limit: {refused}");
        if (options.ReadAheadKb > 0 && FuseMounter.IsRoot && entry is not null
            && BdiSettings.SetReadAhead(entry.Major, entry.Minor, options.ReadAheadKb) is { } notSet)
            log?.Invoke($"fuse: keeping the kernel's read-ahead window: {notSet}");
        return mount;
    }

    /// <summary>Unmounts (as `mountfs unmount` does) and waits for the loop to end and the file system to be released.</summary>
    public void Unmount(bool lazy = false)
    {
        FuseMounter.Unmount(MountPoint, lazy, _viaFusermount);
        if (!lazy) Completion.Wait();
    }

    public bool WaitForExit(TimeSpan timeout) => Completion.Wait(timeout);

    public void Dispose()
    {
        if (Completion.IsCompleted) return;
        try
        {
            FuseMounter.Unmount(MountPoint, lazy: false, _viaFusermount);
        }
        catch (FuseMountException)
        {
            try { FuseMounter.Unmount(MountPoint, lazy: true, _viaFusermount); }
            catch (FuseMountException) { }
        }
        if (!SafeWait(TimeSpan.FromSeconds(10)) && _connectionId is { } id)
        {
            FuseMounter.Abort(id);
            SafeWait(TimeSpan.FromSeconds(5));
        }
    }

    private bool SafeWait(TimeSpan timeout)
    {
        try
        {
            return Completion.Wait(timeout);
        }
        catch (AggregateException)
        {
            return true;
        }
    }
}
