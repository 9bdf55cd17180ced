namespace MountFs.Fuse;

/// <summary>How a file system is served over FUSE: caching, threads, and the mount itself.</summary>
public sealed record FuseOptions
{
    /// <summary>How long the kernel may trust a name → node answer (entry_valid).</summary>
    /// <remarks>Only this mount changes the image, and the kernel drops what its own operations change,
    /// so long time-outs are safe; they spare a round trip per stat and per path lookup.</remarks>
    public TimeSpan EntryTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the kernel may trust attributes (attr_valid).</summary>
    public TimeSpan AttributeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a missing name may be cached; zero answers ENOENT, which caches nothing.</summary>
    /// <remarks>Safe for the same reason as <see cref="EntryTimeout"/>: a name created through the mount
    /// (create, mkdir, link, rename) replaces the kernel's negative entry; it spares a LOOKUP each time a
    /// missing name is asked for again (search paths, build tools).</remarks>
    public TimeSpan NegativeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Worker threads each blocking in read() on /dev/fuse, so one slow request never stalls the rest.</summary>
    public int Threads { get; init; } = 4;

    /// <summary>
    /// Send FLUSH to the layout on every close(2) (true), or let the kernel skip it (FOPEN_NOFLUSH) and
    /// call <c>IFileSystem.Flush</c> once just before Release (false, default): close then costs no
    /// synchronous round trip. Durability is fsync's job either way.
    /// </summary>
    public bool FlushOnClose { get; init; }

    /// <summary>Give each worker its own descriptor (FUSE_DEV_IOC_CLONE), so replies do not share one
    /// processing queue; falls back to the shared descriptor where cloning is refused.</summary>
    public bool CloneDevicePerWorker { get; init; }

    /// <summary>Let the kernel keep directory listings (FOPEN_CACHE_DIR); it drops them itself whenever
    /// the directory changes through the mount, which is the only way this image changes while mounted.</summary>
    public bool CacheDirectories { get; init; } = true;

    /// <summary>Let the kernel buffer writes in its page cache (it then owns size, mtime and O_APPEND);
    /// mount option no_writeback_cache turns it off.</summary>
    public bool WritebackCache { get; init; } = true;

    /// <summary>As root, lift the kernel's 1 % strict dirty-page cap on this mount's bdi once it is live, so
    /// writers are not throttled to the server's write-back speed (see <see cref="Mounting.BdiSettings.LiftDirtyLimit"/>);
    /// mount option strict_dirty_limit keeps the kernel default.</summary>
    public bool LiftDirtyLimit { get; init; } = true;

    /// <summary>As root, the kernel's read-ahead window for this mount in KiB (see <see cref="Mounting.BdiSettings.SetReadAhead"/>);
    /// 0 keeps the kernel's default. Mount option read_ahead_kb=N.</summary>
    public int ReadAheadKb { get; init; } = 1024;

    /// <summary>Largest WRITE asked for; the kernel may grant less (max_pages_limit).</summary>
    public int MaxWrite { get; init; } = 1 << 20;

    public bool ReadOnly { get; init; }

    /// <summary>Serve requests through FUSE-over-io_uring queues where the kernel has it; falls back to /dev/fuse
    /// with a log line otherwise. As root it sets the fuse module's enable_uring. On by default: the queue of the
    /// requester's own CPU answers, so a synchronous round trip needs no cross-CPU wake-up, which on an idle
    /// virtual machine (guest halt without polling) cost about 4x in creates, stats and unlinks. Mount option
    /// no_io_uring turns it off.</summary>
    public bool IoUring { get; init; } = true;

    /// <summary>Ring entries (requests in flight) per io_uring queue; each holds a max_write payload buffer.</summary>
    public int IoUringDepth { get; init; } = 8;

    /// <summary>Log how many requests of each opcode arrived when the mount ends (mount option request_stats).</summary>
    public bool LogRequestCounts { get; init; }

    /// <summary>Let users other than the mounting one in (mount option allow_other).</summary>
    public bool AllowOther { get; init; }

    /// <summary>The kernel checks permissions from the mode bits (mount option default_permissions).</summary>
    public bool DefaultPermissions { get; init; } = true;

    /// <summary>Mount source shown in /proc/mounts (the image path).</summary>
    public string FsName { get; init; } = "mountfs";

    /// <summary>Shown as fuse.SUBTYPE in /proc/mounts.</summary>
    public string Subtype { get; init; } = "mountfs";

    /// <summary>Mount through fusermount3 even as root; null = only when not root.</summary>
    public bool? UseFusermount { get; init; }

    public bool NoExec { get; init; }
    public bool NoAtime { get; init; }
    /// <summary>nosuid and nodev, as fusermount3 forces for users.</summary>
    public bool NoSuidNoDev { get; init; } = true;

    /// <summary>Refuse a mount point that holds entries (mount option nonempty lifts it).</summary>
    public bool RequireEmptyMountPoint { get; init; } = true;
}
