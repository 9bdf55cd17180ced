namespace MountFs.Blocks;

/// <summary>
/// Passes every request through to an inner device and records every write, discard and flush in order,
/// so that a test can rebuild the device as a power cut at any point could have left it.
/// </summary>
/// <remarks>
/// <para><b>Model.</b> The contents of the inner device when this wrapper is created are durable. A power cut after
/// the first <c>n</c> recorded operations leaves: every write and discard before the last flush among those
/// <c>n</c> operations, plus any subset of the writes and discards after that flush, applied in recorded order
/// (a later write to the same sector wins over an earlier one if both survived).</para>
/// <para><b>Granularity.</b> <see cref="MaterializeCrash(int, IEnumerable{int})"/> treats each write as atomic: it
/// survives whole or not at all. <see cref="MaterializeTornCrash"/> and <see cref="CrashEnumerationOptions.TornWrites"/>
/// model what disks actually promise: each <see cref="IBlockDevice.SectorSize"/> sector of a write is atomic, so a
/// multi-sector write can be torn. A journal must survive both.</para>
/// <para><b>Use.</b> Build the starting image (e.g. mkfs on a <see cref="MemoryBlockDevice"/>), wrap it, run the
/// workload against the wrapper, then call <see cref="EnumerateCrashStates"/> (or MaterializeCrash for one state)
/// and run recovery + fsck on each materialised device. Requests are recorded in the order they take effect,
/// so concurrent workloads are allowed. The whole device is copied at construction: meant for test-sized devices.</para>
/// </remarks>
public sealed class CrashRecordingDevice : IBlockDevice
{
    private readonly IBlockDevice _inner;
    private readonly bool _leaveOpen;
    private readonly byte[] _initial;
    private readonly List<CrashOperation> _operations = [];
    private readonly Lock _lock = new();

    public CrashRecordingDevice(IBlockDevice inner, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner.Length > Array.MaxLength)
            throw new ArgumentException($"{inner.Name}: too large to record ({inner.Length} bytes)", nameof(inner));
        _inner = inner;
        _leaveOpen = leaveOpen;
        _initial = new byte[inner.Length];
        inner.Read(0, _initial);
    }

    public string Name => _inner.Name;
    public long Length => _inner.Length;
    public int SectorSize => _inner.SectorSize;
    public bool IsReadOnly => _inner.IsReadOnly;

    /// <summary>A snapshot of the log so far.</summary>
    public IReadOnlyList<CrashOperation> Operations
    {
        get
        {
            lock (_lock)
                return _operations.ToArray();
        }
    }

    public int OperationCount
    {
        get
        {
            lock (_lock)
                return _operations.Count;
        }
    }

    public void Read(long offset, Span<byte> buffer) => _inner.Read(offset, buffer);

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            _inner.Write(offset, data);
            _operations.Add(new CrashOperation(_operations.Count, CrashOperationKind.Write, offset, data.Length, data.ToArray()));
        }
    }

    public void Discard(long offset, long length)
    {
        lock (_lock)
        {
            _inner.Discard(offset, length);
            _operations.Add(new CrashOperation(_operations.Count, CrashOperationKind.Discard, offset, length, []));
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            _inner.Flush();
            _operations.Add(new CrashOperation(_operations.Count, CrashOperationKind.Flush, 0, 0, []));
        }
    }

    /// <summary>Index of the last flush among the first <paramref name="operationCount"/> operations, or -1.</summary>
    public int LastFlushBefore(int operationCount) => LastFlushOf(Log(operationCount), operationCount);

    /// <summary>Indices of the writes and discards that a power cut after <paramref name="operationCount"/>
    /// operations may or may not have persisted (those after the last flush), ascending.</summary>
    public IReadOnlyList<int> UnflushedWrites(int operationCount) => UnflushedWritesOf(Log(operationCount), operationCount);

    /// <summary>The device after a power cut following the first <paramref name="operationCount"/> operations, where
    /// of the unflushed writes exactly <paramref name="survivingWriteIndices"/> (operation indices) reached the media whole.</summary>
    /// <exception cref="ArgumentException">An index is not an unflushed write or discard of that crash point.</exception>
    public MemoryBlockDevice MaterializeCrash(int operationCount, IEnumerable<int> survivingWriteIndices)
    {
        ArgumentNullException.ThrowIfNull(survivingWriteIndices);
        var log = Log(operationCount);
        var durable = new DurableImage(_initial);
        durable.AdvanceTo(log, LastFlushOf(log, operationCount));
        return Materialize(durable.Bytes, log, operationCount, survivingWriteIndices);
    }

    /// <summary>Like <see cref="MaterializeCrash(int, IEnumerable{int})"/>, but sector by sector: exactly the listed
    /// sectors of the unflushed writes reached the media.</summary>
    public MemoryBlockDevice MaterializeTornCrash(int operationCount, IEnumerable<SurvivingSector> survivingSectors)
    {
        ArgumentNullException.ThrowIfNull(survivingSectors);
        var log = Log(operationCount);
        var durable = new DurableImage(_initial);
        durable.AdvanceTo(log, LastFlushOf(log, operationCount));
        return MaterializeTorn(durable.Bytes, log, operationCount, survivingSectors);
    }

    /// <summary>
    /// Crash states for every crash point from <see cref="CrashEnumerationOptions.FirstCrashPoint"/> to the whole log
    /// (or the listed <see cref="CrashEnumerationOptions.CrashPoints"/>): all of them when the subsets of unflushed
    /// writes (or sectors) fit in the per-point budget, otherwise a deterministic sample (see
    /// <see cref="CrashEnumerationOptions.MaxStatesPerCrashPoint"/>). States are made lazily, one device copy each;
    /// the caller disposes each device.
    /// </summary>
    public IEnumerable<CrashState> EnumerateCrashStates(CrashEnumerationOptions? options = null)
    {
        options ??= new CrashEnumerationOptions();
        if (options.MaxStatesPerCrashPoint < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "MaxStatesPerCrashPoint must be at least 1");
        var log = Operations;
        var points = options.CrashPoints is { } chosen
            ? chosen.Distinct().Order().ToArray()
            : Enumerable.Range(Math.Max(0, options.FirstCrashPoint), Math.Max(0, log.Count + 1 - Math.Max(0, options.FirstCrashPoint))).ToArray();
        foreach (int point in points)
            if (point < 0 || point > log.Count)
                throw new ArgumentOutOfRangeException(nameof(options), point, $"crash point outside the log of {log.Count} operations");
        return Enumerate(log, points, options);
    }

    private IEnumerable<CrashState> Enumerate(IReadOnlyList<CrashOperation> log, int[] points, CrashEnumerationOptions options)
    {
        // Points ascend, so the durable image only ever moves forward: each flush's writes are applied once.
        var durable = new DurableImage(_initial);
        foreach (int point in points)
        {
            durable.AdvanceTo(log, LastFlushOf(log, point));
            var pending = UnflushedWritesOf(log, point);
            if (options.TornWrites)
            {
                var units = pending.SelectMany(i => Enumerable.Range(0, (int)(log[i].Length / SectorSize)).Select(s => new SurvivingSector(i, s))).ToArray();
                foreach (var subset in Subsets(units.Length, options.MaxStatesPerCrashPoint, options.Seed ^ point))
                {
                    var sectors = subset.Select(u => units[u]).ToArray();
                    yield return new CrashState(point, [], sectors, MaterializeTorn(durable.Bytes, log, point, sectors));
                }
            }
            else
            {
                foreach (var subset in Subsets(pending.Count, options.MaxStatesPerCrashPoint, options.Seed ^ point))
                {
                    var writes = subset.Select(u => pending[u]).ToArray();
                    yield return new CrashState(point, writes, [], Materialize(durable.Bytes, log, point, writes));
                }
            }
        }
    }

    private MemoryBlockDevice Materialize(byte[] durable, IReadOnlyList<CrashOperation> log, int operationCount, IEnumerable<int> survivingWriteIndices)
    {
        var pending = UnflushedWritesOf(log, operationCount).ToHashSet();
        var survivors = survivingWriteIndices.Distinct().Order().ToArray();
        foreach (int index in survivors)
            if (!pending.Contains(index))
                throw new ArgumentException($"operation {index} is not an unflushed write at crash point {operationCount}", nameof(survivingWriteIndices));
        byte[] image = (byte[])durable.Clone();
        foreach (int index in survivors)
            Apply(image, log[index], 0, log[index].Length);
        return new MemoryBlockDevice(image, SectorSize, $"{Name} (crash after {operationCount} operations)");
    }

    private MemoryBlockDevice MaterializeTorn(byte[] durable, IReadOnlyList<CrashOperation> log, int operationCount, IEnumerable<SurvivingSector> survivingSectors)
    {
        var pending = UnflushedWritesOf(log, operationCount).ToHashSet();
        var survivors = survivingSectors.Distinct().OrderBy(s => s.OperationIndex).ThenBy(s => s.SectorIndex).ToArray();
        foreach (var sector in survivors)
            if (!pending.Contains(sector.OperationIndex) || sector.SectorIndex < 0 || sector.SectorIndex >= log[sector.OperationIndex].Length / SectorSize)
                throw new ArgumentException($"{sector} is not a sector of an unflushed write at crash point {operationCount}", nameof(survivingSectors));
        byte[] image = (byte[])durable.Clone();
        foreach (var sector in survivors)
            Apply(image, log[sector.OperationIndex], (long)sector.SectorIndex * SectorSize, SectorSize);
        return new MemoryBlockDevice(image, SectorSize, $"{Name} (torn crash after {operationCount} operations)");
    }

    /// <summary>The media contents once every write before a given flush is durable.</summary>
    private sealed class DurableImage(byte[] initial)
    {
        private int _appliedUpTo;

        public byte[] Bytes { get; } = (byte[])initial.Clone();

        /// <summary>Applies the writes before <paramref name="flushIndex"/> not applied yet (-1: none).</summary>
        public void AdvanceTo(IReadOnlyList<CrashOperation> log, int flushIndex)
        {
            for (; _appliedUpTo < flushIndex; _appliedUpTo++)
                Apply(Bytes, log[_appliedUpTo], 0, log[_appliedUpTo].Length);
        }
    }

    public void Dispose()
    {
        if (!_leaveOpen)
            _inner.Dispose();
    }

    private IReadOnlyList<CrashOperation> Log(int operationCount)
    {
        lock (_lock)
        {
            if (operationCount < 0 || operationCount > _operations.Count)
                throw new ArgumentOutOfRangeException(nameof(operationCount), operationCount, $"the log holds {_operations.Count} operations");
            return _operations.GetRange(0, operationCount);
        }
    }

    private static int LastFlushOf(IReadOnlyList<CrashOperation> log, int operationCount)
    {
        for (int i = operationCount - 1; i >= 0; i--)
            if (log[i].IsFlush)
                return i;
        return -1;
    }

    private static List<int> UnflushedWritesOf(IReadOnlyList<CrashOperation> log, int operationCount)
    {
        var pending = new List<int>();
        for (int i = operationCount - 1; i >= 0 && !log[i].IsFlush; i--)
            pending.Add(i);
        pending.Reverse();
        return pending;
    }

    /// <summary>Applies bytes [from, from+length) of a recorded write or discard.</summary>
    private static void Apply(byte[] image, CrashOperation operation, long from, long length)
    {
        var target = image.AsSpan((int)(operation.Offset + from), (int)length);
        switch (operation.Kind)
        {
            case CrashOperationKind.Write:
                operation.Data.AsSpan((int)from, (int)length).CopyTo(target);
                break;
            case CrashOperationKind.Discard:
                target.Clear();
                break;
        }
    }

    /// <summary>Subsets of {0..n-1} as ascending index lists: all 2^n when they fit in <paramref name="budget"/>;
    /// otherwise none, all, each proper prefix, then distinct random subsets, up to the budget.</summary>
    private static IEnumerable<int[]> Subsets(int n, int budget, int seed)
    {
        if (n < 31 && (1L << n) <= budget)
        {
            for (long mask = 0; mask < 1L << n; mask++)
                yield return Enumerable.Range(0, n).Where(i => (mask & (1L << i)) != 0).ToArray();
            yield break;
        }
        var seen = new HashSet<string>();
        int produced = 0;
        IEnumerable<int[]> Planned()
        {
            yield return [];
            yield return Enumerable.Range(0, n).ToArray();
            for (int length = 1; length < n; length++)
                yield return Enumerable.Range(0, length).ToArray();
        }
        foreach (var subset in Planned())
        {
            if (produced >= budget)
                yield break;
            if (seen.Add(string.Join(',', subset)))
            {
                produced++;
                yield return subset;
            }
        }
        var random = new Random(seed);
        for (int tries = 0; produced < budget && tries < budget * 8; tries++)
        {
            var subset = Enumerable.Range(0, n).Where(_ => random.Next(2) == 1).ToArray();
            if (seen.Add(string.Join(',', subset)))
            {
                produced++;
                yield return subset;
            }
        }
    }
}
