using MountFs.Vfs;

namespace MountFs.ModelKit;

// Whole-tree comparison: after remounts and at the end of a run.
internal sealed partial class ModelRun
{
    /// <summary>Files up to this size are compared whole; larger (sparse) ones by data ranges and hole samples.</summary>
    private const long WholeComparisonLimit = 8 << 20;
    private const int Chunk = 1 << 20;

    private void CompareTrees(string what)
    {
        var subjectIds = new Dictionary<ulong, string>();
        var referenceIds = new Dictionary<ulong, (ulong Subject, string Path)>();
        var pending = new Queue<(string Path, ulong Subject, ulong Reference)>();
        pending.Enqueue(("/", _subject.Fs.RootNode, _reference.Fs.RootNode));
        while (pending.Count > 0)
        {
            var (path, sDir, rDir) = pending.Dequeue();
            var sEntries = _subject.List(sDir, reason => throw Fail($"{what}: {path}: {reason}"));
            if (path == "/") sEntries.RemoveAll(e => _options.IgnoredRootNames.Contains(e.Name));
            var rEntries = _reference.List(rDir, reason => throw Fail($"{what}: reference {path}: {reason}"));
            CompareListings($"{what}: {path}", sEntries, rEntries);
            foreach (var entry in rEntries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                string child = Join(path, entry.Name);
                var s = Lookup(_subject, sDir, entry.Name, what, child);
                var r = Lookup(_reference, rDir, entry.Name, what, child);
                CompareAttributes($"{what}: {child}", s, r);
                CheckIdentity(what, child, s.Node, r.Node, subjectIds, referenceIds);
                if (r.IsDirectory) pending.Enqueue((child, s.Node, r.Node));
                else if (r.IsRegular) CompareContent($"{what}: {child}", (s.Node, r.Node), r.Size);
                else if (r.IsSymlink) CompareLinkTarget($"{what}: {child}", (s.Node, r.Node));
                if (_capabilities.ExtendedAttributes) CompareExtendedAttributes($"{what}: {child}", (s.Node, r.Node));
            }
            // Listings and lookups hold ids; let them go per directory so big trees do not pile up.
            _subject.EndOperation();
            _reference.EndOperation();
        }
    }

    private static NodeAttributes Lookup(ModelSide side, ulong directory, string name, string what, string path)
    {
        NodeAttributes? found;
        try
        {
            found = side.Fs.Lookup(directory, name);
        }
        catch (FsException e)
        {
            throw Fail($"{what}: {side.Label} lookup of {path} failed with {e.Errno}: {e.Message}");
        }
        if (found is null) throw Fail($"{what}: {side.Label} lists {path} but its lookup finds nothing");
        side.HoldForOperation(found.Node);
        return found;
    }

    /// <summary>Two paths share a node in the subject exactly when they share one in the reference (hard links).</summary>
    private static void CheckIdentity(string what, string path, ulong s, ulong r,
        Dictionary<ulong, string> subjectIds, Dictionary<ulong, (ulong Subject, string Path)> referenceIds)
    {
        if (referenceIds.TryGetValue(r, out var earlier))
        {
            if (earlier.Subject != s)
                throw Fail($"{what}: {path} and {earlier.Path} are one node in the reference but two in the subject");
            return;
        }
        if (subjectIds.TryGetValue(s, out var other))
            throw Fail($"{what}: {path} and {other} are one node (id {s}) in the subject but two in the reference");
        referenceIds[r] = (s, path);
        subjectIds[s] = path;
    }

    private void CompareContent(string what, (ulong Subject, ulong Reference) nodes, long size)
    {
        var (sOpen, rOpen) = Both($"{what}: open", side => side.Fs.Open(Pick(side, nodes), OpenFlags.ReadOnly));
        if (!sOpen.Ok) throw Fail($"{what}: both sides refuse to open it ({sOpen.Error})");
        var handles = (sOpen.Value, rOpen.Value);
        try
        {
            if (size <= WholeComparisonLimit)
            {
                CompareRange(what, nodes, handles, 0, size + 1); // one byte more: both must stop at the end
                return;
            }
            // A large sparse file: the reference knows where its data is; the subject must agree there,
            // and read zeros at the start of every hole and at the end.
            long position = 0;
            while (position < size)
            {
                long data;
                try
                {
                    data = _reference.Fs.SeekData(nodes.Reference, position, findHole: false);
                }
                catch (FsException e) when (e.Errno == Errno.ENXIO)
                {
                    data = size;
                }
                if (data > position) CompareRange(what, nodes, handles, position, Math.Min(4096, data - position));
                if (data >= size) break;
                long hole = _reference.Fs.SeekData(nodes.Reference, data, findHole: true);
                CompareRange(what, nodes, handles, data, hole - data);
                position = hole;
            }
            CompareRange(what, nodes, handles, Math.Max(0, size - 4096), 4097);
        }
        finally
        {
            _subject.Fs.Release(nodes.Subject, handles.Item1);
            _reference.Fs.Release(nodes.Reference, handles.Item2);
        }
    }

    private void CompareRange(string what, (ulong Subject, ulong Reference) nodes, (ulong Subject, ulong Reference) handles,
        long offset, long length)
    {
        var sBuffer = new byte[(int)Math.Min(Chunk, length)];
        var rBuffer = new byte[sBuffer.Length];
        while (length > 0)
        {
            int want = (int)Math.Min(sBuffer.Length, length);
            long at = offset;
            var (s, r) = Both($"{what}: read [{at}, +{want})", side => side == _subject
                ? side.Fs.Read(nodes.Subject, handles.Subject, at, sBuffer.AsSpan(0, want))
                : side.Fs.Read(nodes.Reference, handles.Reference, at, rBuffer.AsSpan(0, want)));
            if (!s.Ok) throw Fail($"{what}: both sides fail to read at {at} ({s.Error})");
            if (s.Value != r.Value) throw Fail($"{what}: reading [{at}, +{want}) gave {s.Value} bytes in the subject, {r.Value} in the reference");
            CompareBytes($"{what}: content", sBuffer.AsSpan(0, s.Value), rBuffer.AsSpan(0, r.Value), at);
            if (r.Value < want) return;
            offset += want;
            length -= want;
        }
    }

    private void CompareLinkTarget(string what, (ulong Subject, ulong Reference) nodes)
    {
        var (s, r) = Both($"{what}: readlink", side => side.Fs.ReadLink(Pick(side, nodes)));
        if (s.Ok && s.Value != r.Value) throw Fail($"{what}: subject target {s.Value}, reference target {r.Value}");
    }

    private void CompareExtendedAttributes(string what, (ulong Subject, ulong Reference) nodes)
    {
        var (s, r) = Both($"{what}: listxattr", side => side.Fs.ListExtendedAttributes(Pick(side, nodes)));
        if (!s.Ok) return;
        var names = r.Value!.Order(StringComparer.Ordinal).ToList();
        if (!names.SequenceEqual(s.Value!.Order(StringComparer.Ordinal)))
            throw Fail($"{what}: subject attributes [{string.Join(",", s.Value!)}], reference [{string.Join(",", names)}]");
        foreach (var name in names)
        {
            var (sv, rv) = Both($"{what}: getxattr {name}", side => side.Fs.GetExtendedAttribute(Pick(side, nodes), name));
            if (sv.Ok) CompareBytes($"{what}: attribute {name}", sv.Value, rv.Value, 0);
        }
    }
}
