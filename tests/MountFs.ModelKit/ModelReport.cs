namespace MountFs.ModelKit;

/// <summary>What a passing run exercised: per operation kind, how often each outcome ("ok", "ENOENT", ...) happened.</summary>
public sealed class ModelReport(int operations, IReadOnlyDictionary<OperationKind, IReadOnlyDictionary<string, int>> outcomes)
{
    public int Operations { get; } = operations;

    public IReadOnlyDictionary<OperationKind, IReadOnlyDictionary<string, int>> Outcomes { get; } = outcomes;

    /// <summary>How often <paramref name="kind"/> ended with <paramref name="outcome"/> ("ok" or an errno name).</summary>
    public int Count(OperationKind kind, string outcome) =>
        Outcomes.TryGetValue(kind, out var byOutcome) ? byOutcome.GetValueOrDefault(outcome) : 0;

    internal static ModelReport Merge(IEnumerable<ModelReport> reports)
    {
        var all = reports.ToList();
        var merged = new Dictionary<OperationKind, IReadOnlyDictionary<string, int>>();
        foreach (var kind in all.SelectMany(r => r.Outcomes.Keys).Distinct())
            merged[kind] = all.SelectMany(r => r.Outcomes.GetValueOrDefault(kind) ?? new Dictionary<string, int>())
                .GroupBy(p => p.Key)
                .ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
        return new ModelReport(all.Sum(r => r.Operations), merged);
    }

    public override string ToString() => string.Join(Environment.NewLine, Outcomes
        .OrderBy(k => k.Key)
        .Select(k => $"{k.Key}: {string.Join(", ", k.Value.OrderByDescending(v => v.Value).Select(v => $"{v.Key} {v.Value}"))}"));
}
