namespace MountFs.Memory;

/// <summary>
/// The names in one directory. Each insertion takes the next sequence number of the directory,
/// and that number is the entry's readdir cookie: a listing resumed after cookie c continues with
/// the entries inserted after c that still exist, so an entry present throughout a listing is seen
/// exactly once whatever is added or removed meanwhile.
/// </summary>
/// <remarks>Not thread-safe: the owning file system serialises access.</remarks>
internal sealed class DirectoryTable
{
    /// <summary>Cookies 1 and 2 belong to "." and ".."; real entries start above.</summary>
    public const long FirstEntryCookie = 3;

    private readonly Dictionary<string, Slot> _byName;
    private readonly SortedSet<Slot> _bySequence = new(Comparer<Slot>.Create((a, b) => a.Sequence.CompareTo(b.Sequence)));
    private long _nextSequence = FirstEntryCookie;

    public DirectoryTable(bool caseInsensitive) =>
        _byName = new Dictionary<string, Slot>(caseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

    public int Count => _byName.Count;

    public sealed class Slot(long sequence, string name, MemoryNode node)
    {
        public long Sequence { get; } = sequence;
        public string Name { get; } = name;
        public MemoryNode Node { get; set; } = node;
    }

    public Slot? Find(string name) => _byName.GetValueOrDefault(name);

    public void Add(string name, MemoryNode node)
    {
        var slot = new Slot(_nextSequence++, name, node);
        _byName.Add(name, slot);
        _bySequence.Add(slot);
    }

    public void Remove(string name)
    {
        if (_byName.Remove(name, out var slot)) _bySequence.Remove(slot);
    }

    /// <summary>Up to <paramref name="max"/> entries whose cookie is above <paramref name="cookie"/>, in cookie order.</summary>
    public List<Slot> After(long cookie, int max)
    {
        var result = new List<Slot>();
        if (_bySequence.Count == 0 || cookie >= _bySequence.Max!.Sequence) return result;
        var probe = new Slot(cookie + 1, "", null!);
        foreach (var slot in _bySequence.GetViewBetween(probe, _bySequence.Max))
        {
            result.Add(slot);
            if (result.Count == max) break;
        }
        return result;
    }

    public IEnumerable<Slot> All => _bySequence;
}
