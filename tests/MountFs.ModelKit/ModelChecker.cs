using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>
/// Runs random operation sequences against a subject file system and the reference
/// <see cref="Memory.MemoryFileSystem"/> together, and fails at the first difference in a result,
/// an errno or the final tree. See README.md for the operations and how a layout plugs in.
/// </summary>
public sealed class ModelChecker
{
    private readonly Func<IFileSystem> _openSubject;
    private OperationGenerator? _generator;

    /// <param name="openSubject">Makes a fresh, empty subject (called once per run; shrinking calls it again per attempt).</param>
    public ModelChecker(Func<IFileSystem> openSubject, ModelOptions? options = null)
    {
        _openSubject = openSubject ?? throw new ArgumentNullException(nameof(openSubject));
        Options = options ?? new ModelOptions();
        // Case-insensitive subjects would merge names that differ only in case; the reference would not.
        if (Options.Names.Count == 0 || Options.Names.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Options.Names.Count)
            throw new ArgumentException("the name pool must be non-empty and distinct ignoring case", nameof(options));
        if (Options.Names.Any(n => n.Length == 0 || n.Contains('/') || n.Contains('\0') || n is "." or ".."))
            throw new ArgumentException("the name pool holds an invalid name", nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxFileBytes, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxWriteBytes, 0, nameof(options));
    }

    public ModelOptions Options { get; }

    /// <summary>
    /// Runs the deterministic sequence of <paramref name="operationCount"/> operations drawn from
    /// <paramref name="seed"/>, then compares the final trees.
    /// </summary>
    /// <exception cref="ModelCheckException">At the first divergence, with the seed, the operation index, the recent
    /// operations and (unless <see cref="ModelOptions.MaxShrinkRuns"/> is 0) a shrunk sequence that still fails.</exception>
    public ModelReport Run(int seed, int operationCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(operationCount);
        var subject = _openSubject();
        var operations = Generator(subject).Sequence(seed, operationCount);
        var (failure, report) = Execute(operations, subject, keepFullLog: false);
        if (failure is null) return report!;
        var (shrunk, shrunkLog) = Shrink(operations, failure);
        throw new ModelCheckException(failure.Reason, seed, failure.Index, operationCount, failure.Recent, shrunk, shrunkLog, failure.Cause);
    }

    /// <summary>Runs a given sequence (a replay of a shrunk failure, or one FsCheck generated).</summary>
    /// <exception cref="ModelCheckException">At the first divergence (no shrinking here).</exception>
    public ModelReport RunOperations(IReadOnlyList<ModelOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var (failure, report) = Execute(operations, _openSubject(), keepFullLog: false);
        if (failure is null) return report!;
        throw new ModelCheckException(failure.Reason, null, failure.Index, operations.Count, failure.Recent, null, null, failure.Cause);
    }

    /// <summary>
    /// Runs <paramref name="threads"/> sequences at once on one subject, each in its own top-level directory
    /// ("thread0", ...) against its own reference: what the subject answers in a subtree must not depend
    /// on what other threads do elsewhere (shared allocation maps, caches, locks). Thread t runs the
    /// sequence of seed <paramref name="seed"/> + t. No remounts and no shrinking (interleavings do not replay).
    /// </summary>
    /// <exception cref="ModelCheckException">The first divergence of any thread, naming the thread.</exception>
    public ModelReport RunConcurrently(int seed, int threads, int operationsPerThread)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(operationsPerThread);
        var subject = _openSubject();
        var generator = Generator(subject);
        var options = Options with { Remount = null };
        var reports = new ModelReport?[threads];
        var failures = new (ModelRun.Divergence Error, ModelRun Run)?[threads];
        var views = new IFileSystem[threads];
        for (int t = 0; t < threads; t++)
        {
            var top = subject.MakeDirectory(subject.RootNode, $"thread{t}", 0x1ED, Credentials.Root);
            views[t] = new SubtreeView(subject, top.Node);
        }
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var run = new ModelRun(views[t], options, keepFullLog: false);
            try
            {
                foreach (var operation in generator.Sequence(seed + t, operationsPerThread)) run.Execute(operation);
                run.Finish();
                reports[t] = run.Report();
            }
            catch (ModelRun.Divergence d)
            {
                failures[t] = (d, run);
            }
            finally
            {
                run.Dispose();
            }
        }) { IsBackground = true, Name = $"model thread {t}" }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        int failed = Array.FindIndex(failures, f => f is not null);
        Exception? disposeError = null;
        try
        {
            subject.Dispose();
        }
        catch (Exception e)
        {
            disposeError = e;
        }
        if (failed >= 0)
        {
            var (error, run) = failures[failed]!.Value;
            throw new ModelCheckException($"thread {failed} (in /thread{failed}): {error.Message}", seed + failed,
                run.Index, operationsPerThread, run.RecentOperations, null, null, error.InnerException);
        }
        if (disposeError is not null)
            throw new ModelCheckException($"disposing the subject threw {disposeError.GetType().Name}: {disposeError.Message}",
                seed, threads * operationsPerThread, threads * operationsPerThread, [], null, null, disposeError);
        try
        {
            Options.FinalCheck?.Invoke();
        }
        catch (Exception e)
        {
            throw new ModelCheckException($"final check failed: {e.Message}", seed, threads * operationsPerThread,
                threads * operationsPerThread, [], null, null, e);
        }
        return ModelReport.Merge(reports!);
    }

    /// <summary>
    /// An FsCheck property over sequences of up to <paramref name="maxLength"/> operations; FsCheck
    /// shrinks a failing sequence by dropping operations.
    /// </summary>
    public Property Property(int maxLength = 100)
    {
        var generator = Generator(null);
        var arbitrary = Arb.From(generator.Sequences(maxLength), OperationGenerator.Shrink);
        return Prop.ForAll(arbitrary, operations => { RunOperations(operations); });
    }

    /// <summary>Checks <see cref="Property"/> on <paramref name="maxTest"/> sequences; throws FsCheck's failure (with the shrunk sequence).</summary>
    public void Check(int maxTest = 20, int maxLength = 100) =>
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTest).WithQuietOnSuccess(true), Property(maxLength));

    /// <summary>The generator for this subject's capabilities (opening a subject once to learn them when needed).</summary>
    private OperationGenerator Generator(IFileSystem? subject)
    {
        if (_generator is not null) return _generator;
        var capabilities = Options.Capabilities ?? subject?.Capabilities;
        if (capabilities is null)
        {
            using var probe = _openSubject();
            capabilities = probe.Capabilities;
        }
        return _generator = new OperationGenerator(capabilities, Options);
    }

    private sealed record Failure(string Reason, int Index, IReadOnlyList<string> Recent, IReadOnlyList<string> FullLog, Exception? Cause)
    {
        public string Signature { get; init; } = "";
    }

    private (Failure? Failure, ModelReport? Report) Execute(IReadOnlyList<ModelOperation> operations, IFileSystem subject, bool keepFullLog)
    {
        Failure? failure = null;
        ModelReport? report = null;
        var run = new ModelRun(subject, Options, keepFullLog);
        try
        {
            foreach (var operation in operations) run.Execute(operation);
            run.Finish();
            report = run.Report();
        }
        catch (ModelRun.Divergence d)
        {
            failure = new Failure(d.Message, run.Index, run.RecentOperations, run.FullLog, d.InnerException)
            {
                Signature = run.FailureSignature ?? "",
            };
        }
        finally
        {
            run.Dispose();
        }
        try
        {
            run.Subject.Dispose();
        }
        catch (Exception e) when (failure is null)
        {
            failure = new Failure($"disposing the subject threw {e.GetType().Name}: {e.Message}", run.Index, run.RecentOperations, run.FullLog, e);
        }
        catch (Exception)
        {
            // Already failed; a subject in a diverged state may well fail to close too.
        }
        if (failure is null && Options.FinalCheck is { } finalCheck)
        {
            try
            {
                finalCheck();
            }
            catch (Exception e)
            {
                failure = new Failure($"final check failed: {e.Message}", run.Index, run.RecentOperations, run.FullLog, e)
                {
                    Signature = "final check",
                };
            }
        }
        return (failure, report);
    }

    /// <summary>Greedy delta debugging: keep dropping chunks of the failing prefix while it still fails the same way.</summary>
    private (IReadOnlyList<ModelOperation>? Shrunk, IReadOnlyList<string>? Log) Shrink(ModelOperation[] operations, Failure failure)
    {
        if (Options.MaxShrinkRuns <= 0) return (null, null);
        var clock = Stopwatch.StartNew();
        int runs = 0;
        var candidate = operations[..Math.Min(operations.Length, failure.Index + 1)];
        bool improved = true;
        while (improved)
        {
            improved = false;
            foreach (var smaller in OperationGenerator.Shrink(candidate))
            {
                if (runs++ >= Options.MaxShrinkRuns || clock.Elapsed > Options.ShrinkTimeLimit) goto done;
                var (f, _) = Execute(smaller, _openSubject(), keepFullLog: false);
                if (f is null || f.Signature != failure.Signature) continue;
                candidate = smaller[..Math.Min(smaller.Length, f.Index + 1)];
                improved = true;
                break;
            }
        }
    done:
        var (last, _) = Execute(candidate, _openSubject(), keepFullLog: true);
        return last is null || last.Signature != failure.Signature ? (null, null) : (candidate, last.FullLog);
    }
}
