namespace MountFs.Blocks;

/// <summary>
/// One state a power cut could leave: the device after the first <see cref="OperationCount"/> recorded
/// operations, with only the listed unflushed writes (or sectors) having reached the media.
/// </summary>
/// <param name="Device">The materialised device; the receiver owns and disposes it.</param>
public sealed record CrashState(int OperationCount, IReadOnlyList<int> SurvivingWrites, IReadOnlyList<SurvivingSector> SurvivingSectors, MemoryBlockDevice Device)
{
    public override string ToString() => SurvivingSectors.Count > 0
        ? $"crash after {OperationCount} operations, surviving sectors [{string.Join(", ", SurvivingSectors.Select(s => $"{s.OperationIndex}:{s.SectorIndex}"))}]"
        : $"crash after {OperationCount} operations, surviving writes [{string.Join(", ", SurvivingWrites)}]";
}

/// <summary>How <see cref="CrashRecordingDevice.EnumerateCrashStates"/> picks states.</summary>
public sealed record CrashEnumerationOptions
{
    /// <summary>At most this many states per crash point. When all subsets of the unflushed writes fit, all are
    /// produced; otherwise: none survived, all survived, every in-order prefix, then seeded random subsets.</summary>
    public int MaxStatesPerCrashPoint { get; init; } = 64;

    /// <summary>Seed of the random subsets, so a failing state can be reproduced.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Model torn writes: each sector of an unflushed write survives independently (what disks
    /// guarantee), instead of each write surviving whole or not at all.</summary>
    public bool TornWrites { get; init; }

    /// <summary>Crash points considered: operation counts from <see cref="FirstCrashPoint"/> up to the whole log.</summary>
    public int FirstCrashPoint { get; init; }

    /// <summary>When set, only these crash points (operation counts) are considered, and FirstCrashPoint is ignored.
    /// For long workloads, e.g. the points just before each flush (where most writes are in flight) plus a sample.</summary>
    public IReadOnlyList<int>? CrashPoints { get; init; }
}
