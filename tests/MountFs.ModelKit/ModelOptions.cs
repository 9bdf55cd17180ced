using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>How a <see cref="ModelChecker"/> drives and judges a subject file system.</summary>
public sealed record ModelOptions
{
    /// <summary>
    /// Disposes the subject and opens it again from its device, returning the new instance; the kit then
    /// compares the whole tree, so persistence is checked mid-sequence. Null: no remount operations.
    /// </summary>
    public Func<IFileSystem, IFileSystem>? Remount { get; init; }

    /// <summary>Runs after the last operation, the final tree comparison and the subject's disposal (for example e2fsck on the image).</summary>
    public Action? FinalCheck { get; init; }

    /// <summary>Generate RENAME_EXCHANGE (when false, renames use only no flags and RENAME_NOREPLACE).</summary>
    public bool AllowExchange { get; init; } = true;

    /// <summary>Generate fallocate; modes the subject answers EOPNOTSUPP for are skipped (not applied to the reference).</summary>
    public bool AllowFallocate { get; init; } = true;

    /// <summary>Ordinary writes and truncations keep files at or below this size.</summary>
    public int MaxFileBytes { get; init; } = 2 << 20;

    /// <summary>Largest ordinary single write; about one write in fifty is up to four times larger.</summary>
    public int MaxWriteBytes { get; init; } = 256 << 10;

    /// <summary>
    /// Also write a few bytes past 4 GiB now and then (only when the subject has sparse files and a
    /// MaxFileSize above 8 GiB); comparisons then read data ranges and samples of the holes.
    /// </summary>
    public bool LargeSparseFiles { get; init; } = true;

    /// <summary>Above this many entries, operations that add names remove one instead, to keep trees small.</summary>
    public int MaxEntries { get; init; } = 80;

    /// <summary>Compare explicit times set by utimens (mtime within the subject's TimeGranularity; atime too when that is ≤ 1 s).</summary>
    public bool CompareTimes { get; init; } = true;

    /// <summary>Relative frequency of each operation; missing kinds keep their default. Zero disables a kind.</summary>
    public IReadOnlyDictionary<OperationKind, int>? Weights { get; init; }

    /// <summary>Names operations pick from (besides a maximal and a too-long name). Keep them distinct ignoring case.</summary>
    public IReadOnlyList<string> Names { get; init; } = ["a", "b", "c", "d0", "file.txt", "sub", "ñ", "x y"];

    /// <summary>Names the subject may have in its root from the start (ext2's lost+found); tree comparisons skip them.</summary>
    public IReadOnlyList<string> IgnoredRootNames { get; init; } = ["lost+found"];

    /// <summary>How many executed operations a failure report shows.</summary>
    public int LogLength { get; init; } = 30;

    /// <summary>After a failure, how many re-runs <see cref="ModelChecker.Run"/> may spend shrinking the sequence (0: no shrinking).</summary>
    public int MaxShrinkRuns { get; init; } = 300;

    /// <summary>Wall-clock budget for shrinking.</summary>
    public TimeSpan ShrinkTimeLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Capabilities of the subject as the kit should see them; null = the subject's own. Lets a test narrow
    /// what is generated (say no symlinks) without touching the layout.
    /// </summary>
    public FileSystemCapabilities? Capabilities { get; init; }
}
