using MountFs.Memory;
using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>
/// One execution of an operation sequence against a subject and a fresh reference: picks targets
/// from the reference tree, runs each operation on both sides, and throws <see cref="Divergence"/>
/// at the first difference. This part holds the machinery; the operations and the tree comparison
/// are in the other parts of the class.
/// </summary>
internal sealed partial class ModelRun : IDisposable
{
    /// <summary>Raised inside a run; <see cref="ModelChecker"/> turns it into a <see cref="ModelCheckException"/>.</summary>
    internal sealed class Divergence(string reason, Exception? inner = null) : Exception(reason, inner);

    private sealed record OpenFile(string Path, ulong SubjectNode, ulong SubjectHandle, ulong ReferenceNode, ulong ReferenceHandle);

    /// <summary>The reference tree, listed once per change: what operations pick their targets from.</summary>
    private sealed class Snapshot
    {
        public List<string> Directories { get; } = ["/"];
        public List<string> Files { get; } = [];
        public List<string> Symlinks { get; } = [];
        public List<string> Entries { get; } = [];
        public List<string> NonDirectories { get; } = [];
    }

    private readonly record struct Result<T>(T? Value, Errno? Error)
    {
        public bool Ok => Error is null;
        public override string ToString() => Error is Errno e ? e.ToString() : Value is bool ? "ok" : $"ok {Value}";
    }

    private readonly ModelOptions _options;
    private readonly FileSystemCapabilities _capabilities;
    private readonly ModelSide _subject;
    private readonly ModelSide _reference;
    private readonly List<OpenFile> _open = [];
    private readonly HashSet<FallocateMode> _unsupportedFallocate = [];
    private readonly Queue<string> _recent = new();
    private readonly List<string>? _fullLog;
    private readonly Dictionary<OperationKind, Dictionary<string, int>> _outcomes = [];
    private Snapshot? _tree;
    private string _current = "";

    public ModelRun(IFileSystem subject, ModelOptions options, bool keepFullLog)
    {
        _options = options;
        _capabilities = options.Capabilities ?? subject.Capabilities;
        _subject = new ModelSide("subject", subject);
        _reference = new ModelSide("reference", new MemoryFileSystem(new MemoryFileSystemOptions
        {
            Capabilities = ReferenceCapabilities(_capabilities),
            CapacityBytes = 1L << 40,
            MaxNodes = 1L << 30,
        }));
        _fullLog = keepFullLog ? [] : null;
    }

    /// <summary>The index of the operation running (or the count, once all ran).</summary>
    public int Index { get; private set; }

    public IReadOnlyList<string> RecentOperations => [.. _recent];

    /// <summary>
    /// What kind of divergence ended the run: the operation kind plus the errnos and key words of the
    /// reason, without paths or numbers. Shrinking keeps only candidates that fail the same way, so
    /// it does not wander off to a different bug.
    /// </summary>
    public string? FailureSignature { get; private set; }

    private static string Signature(string kind, string reason) =>
        kind + "|" + string.Join(",", System.Text.RegularExpressions.Regex.Matches(reason,
            @"\b(E[A-Z0-9]{2,}|success|size|link count|mode|owner|rdev|type|bytes differ|lacks|missing|present|threw|mtime|atime|target|attributes|cookie|listed|wrote|read|one node|failed)\b")
            .Select(m => m.Value));

    public IReadOnlyList<string> FullLog => _fullLog ?? [];

    public IFileSystem Subject => _subject.Fs;

    /// <summary>The reference mirrors what the subject can hold, so that both answer alike.</summary>
    private static FileSystemCapabilities ReferenceCapabilities(FileSystemCapabilities subject) => new()
    {
        HardLinks = subject.HardLinks,
        Symlinks = subject.Symlinks,
        Permissions = subject.Permissions,
        SpecialFiles = subject.SpecialFiles,
        ExtendedAttributes = subject.ExtendedAttributes,
        SparseFiles = subject.SparseFiles,
        CaseInsensitive = subject.CaseInsensitive,
        MaxFileSize = subject.MaxFileSize,
        MaxNameLength = subject.MaxNameLength,
        TimeGranularity = subject.TimeGranularity,
    };

    public void Execute(ModelOperation operation)
    {
        _current = operation.Kind.ToString();
        string outcome = "";
        bool failed = true;
        try
        {
            outcome = Dispatch(operation);
            failed = false;
            var byOutcome = _outcomes.TryGetValue(operation.Kind, out var known) ? known : _outcomes[operation.Kind] = [];
            string key = outcome.Split(' ', ',', ':')[0];
            byOutcome[key] = byOutcome.GetValueOrDefault(key) + 1;
        }
        catch (Divergence d)
        {
            outcome = "DIVERGED: " + d.Message;
            FailureSignature = Signature(operation.Kind.ToString(), d.Message);
            throw;
        }
        catch (Exception e) when (e is not Divergence)
        {
            outcome = "DIVERGED: " + e.Message;
            FailureSignature = Signature(operation.Kind.ToString(), e.GetType().Name);
            throw new Divergence($"{_current}: the kit caught {e.GetType().Name}: {e.Message}", e);
        }
        finally
        {
            Record($"#{Index} {_current} → {outcome}");
            if (!failed)
            {
                EndOperation();
                Index++;
            }
        }
    }

    /// <summary>Closes what is open and compares the whole tree.</summary>
    public void Finish()
    {
        _current = "final tree comparison";
        try
        {
            CloseAll();
            CompareTrees("final tree");
            Record($"#{Index} final tree comparison → ok");
        }
        catch (Divergence d)
        {
            Record($"#{Index} final tree comparison → DIVERGED: {d.Message}");
            FailureSignature = Signature("final", d.Message);
            throw;
        }
        finally
        {
            EndOperation();
        }
    }

    public ModelReport Report() =>
        new(Index, _outcomes.ToDictionary(k => k.Key, k => (IReadOnlyDictionary<string, int>)k.Value));

    public void Dispose()
    {
        // The subject belongs to the checker, which disposes it (and runs the final check) itself.
        _reference.Fs.Dispose();
    }

    private void Record(string line)
    {
        _recent.Enqueue(line);
        while (_recent.Count > Math.Max(1, _options.LogLength)) _recent.Dequeue();
        _fullLog?.Add(line);
    }

    private void EndOperation()
    {
        try
        {
            _subject.EndOperation();
            _reference.EndOperation();
        }
        catch (FsException e)
        {
            throw new Divergence($"Forget failed with {e.Errno}: {e.Message}", e);
        }
    }

    private static Divergence Fail(string reason) => new(reason);

    /// <summary>Runs <paramref name="action"/> on one side, turning FsException into an errno.</summary>
    private static Result<T> Try<T>(ModelSide side, Func<ModelSide, T> action, string what)
    {
        try
        {
            return new Result<T>(action(side), null);
        }
        catch (FsException e)
        {
            return new Result<T>(default, e.Errno);
        }
        catch (Exception e) when (e is not Divergence)
        {
            throw new Divergence($"{what}: {side.Label} threw {e.GetType().Name} instead of an FsException: {e.Message}", e);
        }
    }

    /// <summary>Runs <paramref name="action"/> on both sides and insists on the same success or errno.</summary>
    private (Result<T> Subject, Result<T> Reference) Both<T>(string what, Func<ModelSide, T> action)
    {
        var s = Try(_subject, action, what);
        var r = Try(_reference, action, what);
        if (s.Error != r.Error)
            throw Fail($"{what}: subject answered {Show(s)}, reference answered {Show(r)}");
        return (s, r);
    }

    private (Result<bool> Subject, Result<bool> Reference) Both(string what, Action<ModelSide> action) =>
        Both(what, side => { action(side); return true; });

    private static string Show<T>(Result<T> result) => result.Error is Errno e ? e.ToString() : "success";

    /// <summary>Resolves a path on both sides; both must agree on whether it exists and what it is.</summary>
    private (NodeAttributes? Subject, NodeAttributes? Reference) ResolveBoth(string path)
    {
        var (s, r) = Both($"resolve {path}", side => side.Resolve(path));
        if ((s.Value is null) != (r.Value is null))
            throw Fail($"{path}: {(s.Value is null ? "missing in the subject" : "present in the subject only")}");
        if (s.Value is not null && UnixFileMode.TypeOf(s.Value.Mode) != UnixFileMode.TypeOf(r.Value!.Mode))
            throw Fail($"{path}: subject type {TypeName(s.Value.Mode)}, reference type {TypeName(r.Value.Mode)}");
        return (s.Value, r.Value);
    }

    /// <summary>The ids of an existing directory on both sides (it exists in the reference, so it must in the subject).</summary>
    private (ulong Subject, ulong Reference) DirectoryBoth(string path)
    {
        var (s, r) = ResolveBoth(path);
        if (r is null) throw Fail($"{path}: directory vanished from the reference");
        return (s!.Node, r.Node);
    }

    private void CompareAttributes(string what, NodeAttributes s, NodeAttributes r)
    {
        if (UnixFileMode.TypeOf(s.Mode) != UnixFileMode.TypeOf(r.Mode))
            throw Fail($"{what}: subject type {TypeName(s.Mode)}, reference type {TypeName(r.Mode)}");
        if ((r.IsRegular || r.IsSymlink) && s.Size != r.Size)
            throw Fail($"{what}: subject size {s.Size}, reference size {r.Size}");
        if (_capabilities.HardLinks && s.Links != r.Links)
            throw Fail($"{what}: subject link count {s.Links}, reference link count {r.Links}");
        if (_capabilities.Permissions && !r.IsSymlink)
        {
            if ((s.Mode & UnixFileMode.PermissionMask) != (r.Mode & UnixFileMode.PermissionMask))
                throw Fail($"{what}: subject mode {Octal(s.Mode)}, reference mode {Octal(r.Mode)}");
            if (s.Uid != r.Uid || s.Gid != r.Gid)
                throw Fail($"{what}: subject owner {s.Uid}:{s.Gid}, reference owner {r.Uid}:{r.Gid}");
        }
        if (UnixFileMode.TypeOf(r.Mode) is UnixFileMode.CharacterDevice or UnixFileMode.BlockDevice && s.Rdev != r.Rdev)
            throw Fail($"{what}: subject rdev {s.Rdev:x}, reference rdev {r.Rdev:x}");
    }

    private static string Octal(uint mode) => Convert.ToString(mode & UnixFileMode.PermissionMask, 8).PadLeft(4, '0');

    private static string TypeName(uint mode) => UnixFileMode.TypeOf(mode) switch
    {
        UnixFileMode.Regular => "file",
        UnixFileMode.Directory => "directory",
        UnixFileMode.Symlink => "symlink",
        UnixFileMode.Fifo => "fifo",
        UnixFileMode.Socket => "socket",
        UnixFileMode.CharacterDevice => "char device",
        UnixFileMode.BlockDevice => "block device",
        _ => $"type {UnixFileMode.TypeOf(mode):x}",
    };

    private static void CompareBytes(string what, ReadOnlySpan<byte> s, ReadOnlySpan<byte> r, long baseOffset)
    {
        int at = s.CommonPrefixLength(r);
        if (at < s.Length || at < r.Length)
        {
            string sv = at < s.Length ? $"0x{s[at]:x2}" : "end", rv = at < r.Length ? $"0x{r[at]:x2}" : "end";
            throw Fail($"{what}: bytes differ at offset {baseOffset + at}: subject {sv}, reference {rv}");
        }
    }

    // ---- the reference tree, for picking targets ----

    private Snapshot Tree => _tree ??= TakeSnapshot();

    private void Changed() => _tree = null;

    private Snapshot TakeSnapshot()
    {
        var snapshot = new Snapshot();
        var pending = new Queue<(string Path, ulong Node)>();
        pending.Enqueue(("/", _reference.Fs.RootNode));
        while (pending.Count > 0)
        {
            var (path, node) = pending.Dequeue();
            var entries = _reference.List(node, reason => throw Fail("reference: " + reason));
            foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                string child = Join(path, entry.Name);
                snapshot.Entries.Add(child);
                switch ((uint)entry.Type << 12)
                {
                    case UnixFileMode.Directory:
                        snapshot.Directories.Add(child);
                        pending.Enqueue((child, entry.Node));
                        break;
                    case UnixFileMode.Regular:
                        snapshot.Files.Add(child);
                        snapshot.NonDirectories.Add(child);
                        break;
                    case UnixFileMode.Symlink:
                        snapshot.Symlinks.Add(child);
                        snapshot.NonDirectories.Add(child);
                        break;
                    default:
                        snapshot.NonDirectories.Add(child);
                        break;
                }
            }
        }
        _reference.EndOperation();
        return snapshot;
    }

    private static string Join(string directory, string name) => directory == "/" ? "/" + name : directory + "/" + name;

    private static (string Parent, string Name) Split(string path)
    {
        int slash = path.LastIndexOf('/');
        return (slash == 0 ? "/" : path[..slash], path[(slash + 1)..]);
    }

    private static string Pick(List<string> list, int selector) => list[(int)((uint)selector % (uint)list.Count)];

    private string PickDirectory(int selector) => Pick(Tree.Directories, selector);

    private string PickEntry(int selector) =>
        Tree.Entries.Count > 0 ? Pick(Tree.Entries, selector) : Join("/", Name(selector));

    /// <summary>An existing regular file; with none, a name that never exists (the kit never opens other types).</summary>
    private string PickFile(int selector) => Tree.Files.Count > 0 ? Pick(Tree.Files, selector) : "/nofile";

    /// <summary>
    /// An existing entry other than the root (whose attributes differ between layouts: ext2's lost+found
    /// adds a link), or null when the tree is empty.
    /// </summary>
    private string? PickNonRoot(int selector, bool symlinks = true)
    {
        var candidates = symlinks ? Tree.Entries : Tree.Entries.Except(Tree.Symlinks).ToList();
        return candidates.Count > 0 ? Pick(candidates, selector) : null;
    }

    /// <summary>Extended attributes go to a few nodes (the root and the first entries), so that they meet again.</summary>
    private string PickXattrTarget(int selector) => Pick(Tree.Entries.Take(5).Prepend("/").ToList(), selector);

    /// <summary>Mostly an existing entry, sometimes a pool name in some directory (which may not exist).</summary>
    private string PickEntryOrName(int selector, int nameSelector) =>
        (uint)selector % 100 < 80 && Tree.Entries.Count > 0
            ? Pick(Tree.Entries, selector / 100)
            : Join(PickDirectory(selector / 100), Name(nameSelector));

    /// <summary>A pool name; rarely the longest allowed name or one byte more.</summary>
    private string Name(int selector)
    {
        var pool = _options.Names;
        int k = (int)((uint)selector % (uint)(pool.Count * 50));
        return k switch
        {
            0 => new string('m', _capabilities.MaxNameLength),
            1 => new string('n', _capabilities.MaxNameLength + 1),
            _ => pool[k % pool.Count],
        };
    }

    /// <summary>A length: mostly small, sometimes up to MaxWriteBytes, rarely four times that.</summary>
    private int Length(int selector)
    {
        uint s = (uint)selector;
        uint bucket = s % 100, value = s / 100;
        return bucket switch
        {
            < 60 => (int)(value % 4097),
            < 85 => (int)(value % 65537),
            < 98 => (int)(value % (uint)(_options.MaxWriteBytes + 1)),
            _ => (int)(value % (uint)(4 * _options.MaxWriteBytes + 1)),
        };
    }

    /// <summary>An offset relative to the current size: inside, at the end, past it (a hole), page-aligned or anywhere allowed.</summary>
    private long Offset(int selector, long size)
    {
        uint s = (uint)selector;
        uint bucket = s % 100, value = s / 100;
        return bucket switch
        {
            < 35 => (long)(value % (ulong)(size + 1)),
            < 55 => size,
            < 75 => size + value % 65536,
            < 90 => value % 64 * 4096L,
            _ => (long)(value % (ulong)Math.Max(1, MaxFileBytes)),
        };
    }

    /// <summary>The size ordinary operations keep files under: the option, or less when the subject's limit is lower.</summary>
    private long MaxFileBytes => Math.Min(_options.MaxFileBytes, _capabilities.MaxFileSize);

    /// <summary>Keeps [offset, offset+length) within MaxFileBytes.</summary>
    private (long Offset, int Length) Clip(long offset, int length)
    {
        long limit = MaxFileBytes;
        if (offset > limit) offset = offset % (limit + 1);
        if (offset + length > limit) length = (int)(limit - offset);
        return (offset, Math.Max(0, length));
    }

    /// <summary>Deterministic bytes for a write; about one write in twenty is all zeros.</summary>
    private static byte[] Pattern(long seed, int length)
    {
        var data = new byte[length];
        if (seed % 20 == 0) return data;
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL | 1;
        for (int i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data[i] = (byte)x;
        }
        return data;
    }
}
