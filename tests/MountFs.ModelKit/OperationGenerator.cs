using FsCheck;
using FsCheck.Fluent;
using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>
/// Draws operations with frequencies that suit the subject: kinds it cannot do (hard links without
/// HardLinks, xattrs without ExtendedAttributes, ...) get weight zero.
/// </summary>
public sealed class OperationGenerator
{
    /// <summary>Default relative frequencies, before capabilities and <see cref="ModelOptions.Weights"/> apply.</summary>
    public static IReadOnlyDictionary<OperationKind, int> DefaultWeights { get; } = new Dictionary<OperationKind, int>
    {
        [OperationKind.Create] = 10,
        [OperationKind.Mkdir] = 6,
        [OperationKind.Mknod] = 2,
        [OperationKind.Symlink] = 3,
        [OperationKind.Link] = 4,
        [OperationKind.Unlink] = 6,
        [OperationKind.Rmdir] = 4,
        [OperationKind.Rename] = 10,
        [OperationKind.Write] = 14,
        [OperationKind.Read] = 10,
        [OperationKind.Truncate] = 5,
        [OperationKind.Chmod] = 3,
        [OperationKind.Chown] = 1,
        [OperationKind.Utimens] = 3,
        [OperationKind.Stat] = 6,
        [OperationKind.Readdir] = 5,
        [OperationKind.Readlink] = 2,
        [OperationKind.Fsync] = 2,
        [OperationKind.Sync] = 1,
        [OperationKind.Open] = 2,
        [OperationKind.HandleWrite] = 3,
        [OperationKind.HandleRead] = 2,
        [OperationKind.HandleStat] = 1,
        [OperationKind.Close] = 2,
        [OperationKind.SetXattr] = 2,
        [OperationKind.GetXattr] = 1,
        [OperationKind.ListXattr] = 1,
        [OperationKind.RemoveXattr] = 1,
        [OperationKind.Fallocate] = 2,
        [OperationKind.Statfs] = 1,
        [OperationKind.WriteBeyondLimit] = 1,
        [OperationKind.WriteFar] = 1,
        [OperationKind.Remount] = 1,
    };

    private readonly (OperationKind Kind, int Weight)[] _weights;
    private readonly int _total;

    public OperationGenerator(FileSystemCapabilities capabilities, ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        ArgumentNullException.ThrowIfNull(options);
        _weights = [.. Enum.GetValues<OperationKind>()
            .Select(kind => (kind, Allowed(kind, capabilities, options)
                ? options.Weights?.GetValueOrDefault(kind, DefaultWeights[kind]) ?? DefaultWeights[kind]
                : 0))
            .Where(w => w.Item2 > 0)];
        _total = _weights.Sum(w => w.Weight);
        if (_total == 0) throw new ArgumentException("every operation kind has weight zero", nameof(options));
    }

    private static bool Allowed(OperationKind kind, FileSystemCapabilities capabilities, ModelOptions options) => kind switch
    {
        OperationKind.Link => capabilities.HardLinks,
        OperationKind.Symlink or OperationKind.Readlink => capabilities.Symlinks,
        OperationKind.Mknod => capabilities.SpecialFiles,
        OperationKind.Chmod or OperationKind.Chown => capabilities.Permissions,
        OperationKind.SetXattr or OperationKind.GetXattr or OperationKind.ListXattr or OperationKind.RemoveXattr =>
            capabilities.ExtendedAttributes,
        OperationKind.Fallocate => options.AllowFallocate,
        OperationKind.Remount => options.Remount is not null,
        _ => true,
    };

    /// <summary>The kinds that can be drawn, with their weights.</summary>
    public IReadOnlyList<(OperationKind Kind, int Weight)> Weights => _weights;

    public ModelOperation Next(Random random)
    {
        int pick = random.Next(_total);
        var kind = _weights[^1].Kind;
        foreach (var (k, weight) in _weights)
        {
            if (pick < weight) { kind = k; break; }
            pick -= weight;
        }
        return new ModelOperation(kind, random.Next(), random.Next(), random.Next(), random.Next(), random.NextInt64(0, long.MaxValue));
    }

    /// <summary>The deterministic sequence <see cref="ModelChecker.Run"/> executes for a seed.</summary>
    public ModelOperation[] Sequence(int seed, int count)
    {
        var random = new Random(seed);
        var operations = new ModelOperation[count];
        for (int i = 0; i < count; i++) operations[i] = Next(random);
        return operations;
    }

    /// <summary>An FsCheck generator of one operation.</summary>
    public Gen<ModelOperation> Operation()
    {
        var selector = Gen.Choose(0, int.MaxValue);
        var kinds = Gen.Frequency(_weights.Select(w => (w.Weight, Gen.Constant(w.Kind))));
        return from kind in kinds
               from a in selector
               from b in selector
               from c in selector
               from d in selector
               from e1 in selector
               from e2 in selector
               select new ModelOperation(kind, a, b, c, d, ((long)e1 << 31) | (uint)e2);
    }

    /// <summary>An FsCheck generator of sequences of 1..<paramref name="maxLength"/> operations.</summary>
    public Gen<ModelOperation[]> Sequences(int maxLength) =>
        Gen.Choose(1, Math.Max(1, maxLength)).SelectMany(n => Gen.ArrayOf(Operation(), n));

    /// <summary>
    /// Shorter candidates for a failing sequence: halves and quarters first, then single operations
    /// from the end. Any subsequence is valid, because operations pick their targets when they run.
    /// </summary>
    public static IEnumerable<ModelOperation[]> Shrink(ModelOperation[] operations)
    {
        for (int parts = 2; parts <= Math.Min(8, operations.Length); parts *= 2)
        {
            int size = operations.Length / parts;
            for (int start = 0; start < operations.Length && size > 0; start += size)
                yield return [.. operations[..start], .. operations[Math.Min(operations.Length, start + size)..]];
        }
        for (int i = operations.Length - 1; i >= 0; i--)
            yield return [.. operations[..i], .. operations[(i + 1)..]];
    }
}
