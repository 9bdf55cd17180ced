namespace MountFs.ModelKit;

/// <summary>The subject diverged from the reference (or broke the contract): where, why, and what led there.</summary>
public sealed class ModelCheckException : Exception
{
    internal ModelCheckException(string reason, int? seed, int operationIndex, int operationCount,
        IReadOnlyList<string> recentOperations, IReadOnlyList<ModelOperation>? shrunk, IReadOnlyList<string>? shrunkLog,
        Exception? inner = null)
        : base(Compose(reason, seed, operationIndex, operationCount, recentOperations, shrunk, shrunkLog), inner)
    {
        Reason = reason;
        Seed = seed;
        OperationIndex = operationIndex;
        RecentOperations = recentOperations;
        ShrunkOperations = shrunk;
        ShrunkLog = shrunkLog;
    }

    /// <summary>What differed, in one line.</summary>
    public string Reason { get; }

    /// <summary>The seed of <see cref="ModelChecker.Run"/>; null for a given sequence.</summary>
    public int? Seed { get; }

    /// <summary>Index of the first diverging operation (the operation count when the final tree comparison failed).</summary>
    public int OperationIndex { get; }

    /// <summary>The last operations executed, as readable lines, the diverging one last.</summary>
    public IReadOnlyList<string> RecentOperations { get; }

    /// <summary>A shorter sequence that still fails, when shrinking found one; replay it with <see cref="ModelChecker.RunOperations"/>.</summary>
    public IReadOnlyList<ModelOperation>? ShrunkOperations { get; }

    /// <summary>The readable log of the shrunk sequence.</summary>
    public IReadOnlyList<string>? ShrunkLog { get; }

    private static string Compose(string reason, int? seed, int index, int count, IReadOnlyList<string> recent,
        IReadOnlyList<ModelOperation>? shrunk, IReadOnlyList<string>? shrunkLog)
    {
        var text = new System.Text.StringBuilder();
        text.Append("Model check failed");
        if (seed is int s) text.Append($" (seed {s})");
        text.Append($" at operation #{index} of {count}: {reason}");
        text.AppendLine().AppendLine($"Last {recent.Count} operations:");
        foreach (var line in recent) text.Append("  ").AppendLine(line);
        if (shrunk is not null && shrunkLog is not null)
        {
            text.AppendLine($"Shrunk to {shrunk.Count} operations:");
            foreach (var line in shrunkLog) text.Append("  ").AppendLine(line);
            text.AppendLine("Replay with checker.RunOperations([");
            foreach (var op in shrunk) text.Append("    ").Append(op).AppendLine(",");
            text.AppendLine("]);");
        }
        return text.ToString();
    }
}
