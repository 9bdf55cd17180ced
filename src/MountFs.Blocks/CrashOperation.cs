namespace MountFs.Blocks;

public enum CrashOperationKind
{
    Write,
    /// <summary>A discard: its range reads as zeros if it survives, like a write of zeros.</summary>
    Discard,
    Flush,
}

/// <summary>One request recorded by a <see cref="CrashRecordingDevice"/>, at position <see cref="Index"/> in its log.</summary>
/// <param name="Data">A private copy of the written bytes; empty for discards and flushes.</param>
public sealed record CrashOperation(int Index, CrashOperationKind Kind, long Offset, long Length, byte[] Data)
{
    public bool IsFlush => Kind == CrashOperationKind.Flush;
}

/// <summary>Sector <see cref="SectorIndex"/> (counted from the start of the request) of the write or discard at
/// <see cref="OperationIndex"/>: the unit that survives or not when torn writes are modelled.</summary>
public readonly record struct SurvivingSector(int OperationIndex, int SectorIndex);
