using MountFs.Vfs;

namespace MountFs.Tool.ImageFiles;

/// <summary>
/// The lookup counting IFileSystem leaves to front ends: every id this tool receives is counted,
/// and the layout is told (Forget) once the tool holds no reference to it any more.
/// </summary>
/// <remarks>Forgetting matters beyond memory: ext2 keeps an unlinked inode on the orphan list until it is forgotten.</remarks>
internal sealed class NodeReferences(IFileSystem fileSystem)
{
    private readonly Dictionary<ulong, int> _counts = [];

    public HeldNode Hold(NodeAttributes attributes)
    {
        if (attributes.Node != fileSystem.RootNode)
            _counts[attributes.Node] = _counts.GetValueOrDefault(attributes.Node) + 1;
        return new HeldNode(this, attributes);
    }

    public HeldNode Root() => new(this, fileSystem.GetAttributes(fileSystem.RootNode));

    public void Release(ulong node)
    {
        if (node == fileSystem.RootNode || !_counts.TryGetValue(node, out int count)) return;
        if (count > 1)
        {
            _counts[node] = count - 1;
            return;
        }
        _counts.Remove(node);
        fileSystem.Forget(node);
    }
}

/// <summary>One counted reference to a node; disposing it releases the reference.</summary>
internal sealed class HeldNode(NodeReferences references, NodeAttributes attributes) : IDisposable
{
    private bool _released;

    public NodeAttributes Attributes { get; } = attributes;

    public ulong Node => Attributes.Node;

    public void Dispose()
    {
        if (_released) return;
        _released = true;
        references.Release(Attributes.Node);
    }
}
