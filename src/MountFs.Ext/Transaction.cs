namespace MountFs.Ext;

/// <summary>
/// One file-system operation's metadata changes: every block, group descriptor and superblock change an
/// operation makes goes through here, so it either commits whole or (on an exception) is rolled back in memory.
/// </summary>
/// <remarks>
/// <para>Usage (under the file system's lock): <c>using var tx = fs.Begin(); ... tx.Commit();</c>. Disposing without
/// <see cref="Commit"/> restores every touched block, descriptor and the superblock to their state at the start.</para>
/// <para>For plain ext2 a committed transaction only leaves dirty blocks in the <see cref="BlockCache"/>; their order on
/// disk is fixed at write-back. The journal (ext3/jbd2) will write <see cref="Blocks"/> of a committed transaction as
/// one journal transaction: data blocks (<see cref="BlockKind.Data"/>) are not logged (ordered mode), everything else is.</para>
/// </remarks>
internal sealed class Transaction : IDisposable
{
    private readonly BlockCache _cache;
    private readonly Action<Transaction> _onAbort;
    private readonly Dictionary<uint, (byte[]? Before, bool WasDirty, BlockKind Kind)> _blocks = [];
    private readonly Dictionary<int, GroupDescriptor> _groupsBefore = [];
    private readonly HashSet<uint> _freed = [];
    private bool _done;

    internal Transaction(BlockCache cache, Action<Transaction> onAbort)
    {
        _cache = cache;
        _onAbort = onAbort;
    }

    /// <summary>Blocks changed by this transaction, with their kind.</summary>
    public IEnumerable<(uint Block, BlockKind Kind)> Blocks => _blocks.Select(b => (b.Key, b.Value.Kind));

    /// <summary>Groups whose descriptor changed, with the descriptor before the first change.</summary>
    public IReadOnlyDictionary<int, GroupDescriptor> GroupsBefore => _groupsBefore;

    /// <summary>The superblock before the first change, or null if untouched.</summary>
    public SuperBlock? SuperBlockBefore { get; private set; }

    /// <summary>Finished (committed or rolled back): the file system may start its next operation with this object.</summary>
    internal bool IsFinished => _done;

    /// <summary>Makes a finished transaction new again, so each operation does not allocate its bookkeeping.</summary>
    internal void Reuse()
    {
        if (!_done) throw new InvalidOperationException("transaction still running");
        _blocks.Clear();
        _groupsBefore.Clear();
        _freed.Clear();
        SuperBlockBefore = null;
        _done = false;
    }

    /// <summary>The block's buffer, to modify in place (read first).</summary>
    public byte[] Modify(uint block, BlockKind kind) => Get(block, kind, fresh: false);

    /// <summary>A zeroed buffer for a block just allocated (not read from the device).</summary>
    public byte[] Create(uint block, BlockKind kind) => Get(block, kind, fresh: true);

    private byte[] Get(uint block, BlockKind kind, bool fresh)
    {
        if (_done) throw new InvalidOperationException("transaction already finished");
        if (!_blocks.ContainsKey(block))
        {
            byte[]? before = null;
            bool wasDirty = _cache.IsDirty(block);
            // Data blocks are not restored on abort (as in ordered journaling, data is not transactional),
            // so they need no before-image; a fresh block is dropped on abort because its allocation is undone.
            if (!fresh && kind != BlockKind.Data) before = _cache.CopyOf(_cache.Read(block));
            _blocks[block] = (fresh ? null : before ?? Array.Empty<byte>(), wasDirty, kind);
        }
        return _cache.GetForWrite(block, kind, fresh);
    }

    /// <summary>Records a group descriptor's value before its first change in this transaction.</summary>
    public void TouchGroup(int group, in GroupDescriptor current) => _groupsBefore.TryAdd(group, current);

    /// <summary>Records the superblock before its first change in this transaction.</summary>
    public void TouchSuperBlock(SuperBlock current) => SuperBlockBefore ??= current.Clone();

    /// <summary>A block this transaction freed: its cached contents are dropped at commit (never written for nobody).</summary>
    public void Freed(uint block) => _freed.Add(block);

    /// <summary>A block freed earlier in this transaction was allocated again: keep its new contents.</summary>
    public void Allocated(uint block) => _freed.Remove(block);

    public void Commit()
    {
        if (_done) throw new InvalidOperationException("transaction already finished");
        _done = true;
        foreach (uint b in _freed) _cache.Drop(b);
        ReturnBeforeImages();
    }

    /// <summary>Hands the before-images back to the cache's pool: one per touched metadata block per operation would
    /// otherwise be the largest allocation of a create or unlink.</summary>
    private void ReturnBeforeImages()
    {
        foreach (var (before, _, _) in _blocks.Values)
            if (before is { Length: > 0 }) _cache.ReturnCopy(before);
        _blocks.Clear();
    }

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        foreach (var (block, (before, wasDirty, _)) in _blocks)
        {
            if (before is { Length: 0 }) continue; // data block overwritten in place: kept as written
            _cache.Restore(block, before, wasDirty);
        }
        _onAbort(this);
        ReturnBeforeImages();
    }
}
