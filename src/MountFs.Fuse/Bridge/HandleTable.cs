using MountFs.Vfs;

namespace MountFs.Fuse.Bridge;

/// <summary>What the bridge keeps per open file or directory: the layout's handle and the open flags.</summary>
public sealed record OpenHandle(ulong LayoutNode, ulong LayoutHandle, OpenFlags Flags, bool IsDirectory)
{
    /// <summary>Set once the first write through this handle has dropped the file's capability attribute.</summary>
    public bool CapabilitiesDropped { get; set; }

    /// <summary>Set once data or size changed through this handle: its flush and release may then wait on the device.</summary>
    public bool Changed { get; set; }
}

/// <summary>
/// The fh values the kernel sees: our own numbers (never reused while open), mapped to the layout's
/// handle and the flags the bridge needs later (O_APPEND is resolved per write).
/// </summary>
public sealed class HandleTable
{
    private readonly Dictionary<ulong, OpenHandle> _handles = new();
    private readonly Lock _lock = new();
    private ulong _next;

    public ulong Add(OpenHandle handle)
    {
        lock (_lock)
        {
            ulong fh = ++_next;
            _handles[fh] = handle;
            return fh;
        }
    }

    /// <summary>The handle behind <paramref name="fh"/>; EBADF when the kernel names one we never gave out.</summary>
    public OpenHandle Get(ulong fh)
    {
        lock (_lock)
        {
            return _handles.TryGetValue(fh, out var h) ? h : throw new FsException(Errno.EBADF, $"unknown file handle {fh}");
        }
    }

    public bool TryGet(ulong fh, out OpenHandle? handle)
    {
        lock (_lock) return _handles.TryGetValue(fh, out handle);
    }

    public OpenHandle Remove(ulong fh)
    {
        lock (_lock)
        {
            return _handles.Remove(fh, out var h) ? h : throw new FsException(Errno.EBADF, $"unknown file handle {fh}");
        }
    }

    public int Count
    {
        get { lock (_lock) return _handles.Count; }
    }
}
