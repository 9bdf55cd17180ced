namespace MountFs.Fuse.Bridge;

/// <summary>
/// FUSE node ids and the kernel's lookup counts.
/// </summary>
/// <remarks>
/// <para>Ids: FUSE fixes the root at 1, so the layout's root and the layout's id 1 trade places
/// (an involution, so no table is needed for ids).</para>
/// <para>Counts: every reply that hands the kernel a node (entry replies, READDIRPLUS entries other
/// than "." and "..") adds one before the reply is written; FORGET subtracts. When a count reaches
/// zero the caller tells the layout once. The root is never counted or forgotten. A reply the kernel
/// refuses after reading the request happens only when the connection is aborted, so counts are not
/// rolled back.</para>
/// </remarks>
public sealed class NodeTable(ulong layoutRoot)
{
    public const ulong RootId = 1;

    private readonly Dictionary<ulong, ulong> _lookups = new();
    private readonly Lock _lock = new();

    public ulong LayoutRoot => layoutRoot;

    /// <summary>The FUSE id of a layout node; EIO for a layout id that would become 0 (FUSE's "no node").</summary>
    public ulong ToFuse(ulong layoutId)
    {
        ulong id = layoutId == layoutRoot ? RootId : layoutId == RootId ? layoutRoot : layoutId;
        return id != 0 ? id : throw new Vfs.FsException(Vfs.Errno.EIO, $"layout node {layoutId} maps to FUSE id 0");
    }

    /// <summary>The layout id of a FUSE node; EIO for 0, which names no node.</summary>
    public ulong ToLayout(ulong fuseId) =>
        fuseId == 0 ? throw new Vfs.FsException(Vfs.Errno.EIO, "request for FUSE node id 0")
        : fuseId == RootId ? layoutRoot : fuseId == layoutRoot ? RootId : fuseId;

    /// <summary>The kernel now holds one more reference to <paramref name="fuseId"/>.</summary>
    public void Acquire(ulong fuseId)
    {
        if (fuseId == RootId) return;
        lock (_lock)
        {
            _lookups.TryGetValue(fuseId, out ulong n);
            _lookups[fuseId] = n + 1;
        }
    }

    /// <summary>Drops <paramref name="count"/> references; true when none remain (the layout must be told).</summary>
    /// <remarks>A FORGET for more than we handed out (a kernel bug or a forged request) clamps at zero.</remarks>
    public bool Release(ulong fuseId, ulong count)
    {
        if (fuseId == RootId) return false;
        lock (_lock)
        {
            if (!_lookups.TryGetValue(fuseId, out ulong n)) return false;
            if (count >= n)
            {
                _lookups.Remove(fuseId);
                return true;
            }
            _lookups[fuseId] = n - count;
            return false;
        }
    }

    public ulong LookupCount(ulong fuseId)
    {
        lock (_lock) return _lookups.GetValueOrDefault(fuseId);
    }

    public int Count
    {
        get { lock (_lock) return _lookups.Count; }
    }
}
