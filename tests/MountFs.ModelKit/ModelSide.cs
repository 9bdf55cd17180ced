using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>
/// One of the two file systems under comparison, seen the way a front end sees it: paths resolved by
/// Lookup from the root, node ids counted as a FUSE bridge counts them and forgotten when the kit holds
/// no more references.
/// </summary>
internal sealed class ModelSide(string label, IFileSystem fs)
{
    private readonly Dictionary<ulong, int> _holds = [];
    private readonly List<ulong> _temporary = [];

    public string Label { get; } = label;

    public IFileSystem Fs { get; private set; } = fs;

    /// <summary>Keeps <paramref name="node"/> until <see cref="Drop"/>.</summary>
    public void Hold(ulong node)
    {
        if (node == Fs.RootNode) return;
        _holds[node] = _holds.GetValueOrDefault(node) + 1;
    }

    public void Drop(ulong node)
    {
        if (node == Fs.RootNode || !_holds.TryGetValue(node, out int count)) return;
        if (count > 1)
        {
            _holds[node] = count - 1;
            return;
        }
        _holds.Remove(node);
        Fs.Forget(node);
    }

    /// <summary>Keeps <paramref name="node"/> until the current operation ends.</summary>
    public ulong HoldForOperation(ulong node)
    {
        Hold(node);
        _temporary.Add(node);
        return node;
    }

    public void EndOperation()
    {
        foreach (ulong node in _temporary) Drop(node);
        _temporary.Clear();
    }

    /// <summary>Attributes of the node at an absolute path, or null when some component is missing.</summary>
    public NodeAttributes? Resolve(string path)
    {
        var current = Fs.GetAttributes(Fs.RootNode);
        foreach (var component in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Fs.Lookup(current.Node, component);
            if (next is null) return null;
            HoldForOperation(next.Node);
            current = next;
        }
        return current;
    }

    /// <summary>Lists a directory fully (without "." and ".."), checking that those two appear exactly once.</summary>
    public List<DirectoryEntry> List(ulong directory, Action<string> fail)
    {
        var entries = new List<DirectoryEntry>();
        int dots = 0, dotdots = 0;
        ulong handle = Fs.OpenDirectory(directory);
        try
        {
            long cookie = 0;
            bool more = true;
            while (more)
            {
                more = false;
                int taken = 0;
                // Small batches: resuming from cookies is part of what is checked.
                Fs.ReadDirectory(directory, handle, cookie, (in DirectoryEntry e) =>
                {
                    if (taken == 16) { more = true; return false; }
                    taken++;
                    if (e.NextOffset <= 0) fail($"{Label} readdir gave cookie {e.NextOffset} for {e.Name}");
                    cookie = e.NextOffset;
                    if (e.Name == ".") dots++;
                    else if (e.Name == "..") dotdots++;
                    else entries.Add(e);
                    return true;
                });
            }
        }
        finally
        {
            Fs.ReleaseDirectory(directory, handle);
        }
        foreach (var e in entries) HoldForOperation(e.Node);
        if (dots != 1 || dotdots != 1) fail($"{Label} readdir listed \".\" {dots} times and \"..\" {dotdots} times");
        return entries;
    }

    /// <summary>The subject was reopened: ids held on the old instance mean nothing any more.</summary>
    public void Replace(IFileSystem fs)
    {
        Fs = fs;
        _holds.Clear();
        _temporary.Clear();
    }
}
