using MountFs.Vfs;

using UnixFileMode = MountFs.Vfs.UnixFileMode;

namespace MountFs.Tool.ImageFiles;

/// <summary>
/// The files inside a mounted image as an <see cref="IFileTree"/>: paths are resolved by Lookup from
/// the root, one component at a time, and every id received is counted and forgotten when done.
/// </summary>
/// <remarks>Symlinks inside the image are never followed: the copy commands copy them as symlinks.</remarks>
public sealed class ImageTree : IFileTree
{
    private readonly IFileSystem _fileSystem;
    private readonly NodeReferences _references;
    private readonly Credentials _owner;

    /// <param name="image">The image's path as the user gave it, for messages.</param>
    /// <param name="owner">Who new files and directories belong to.</param>
    public ImageTree(string image, IFileSystem fileSystem, Credentials owner)
    {
        Image = image;
        _fileSystem = fileSystem;
        _references = new NodeReferences(fileSystem);
        _owner = owner;
    }

    public string Image { get; }

    public IFileSystem FileSystem => _fileSystem;

    public bool SupportsHoles => _fileSystem.Capabilities.SparseFiles;

    public string Display(string path) => $"{Image}:{path}";

    public string Combine(string directory, string name) => ImagePath.Combine(ImagePath.Normalise(directory), name);

    public string FileName(string path) => ImagePath.FileName(ImagePath.Normalise(path));

    public TreeEntry? Stat(string path)
    {
        using var node = Resolve(path);
        return node is null ? null : ToEntry(path, node.Attributes);
    }

    /// <summary>The attributes of <paramref name="path"/>, or null if it does not exist.</summary>
    public NodeAttributes? GetAttributes(string path)
    {
        using var node = Resolve(path);
        return node?.Attributes;
    }

    public IReadOnlyList<string> List(string path)
    {
        using var node = Resolve(path) ?? throw Missing(path);
        if (!node.Attributes.IsDirectory) throw new ToolException(Display(path), ErrorText.Describe(Errno.ENOTDIR));
        var names = new List<string>();
        var unique = new HashSet<string>(StringComparer.Ordinal);
        Guard(path, () =>
        {
            ulong handle = _fileSystem.OpenDirectory(node.Node);
            try
            {
                long offset = 0;
                while (true)
                {
                    int seen = 0;
                    long start = offset;
                    _fileSystem.ReadDirectory(node.Node, handle, offset, (in DirectoryEntry entry) =>
                    {
                        seen++;
                        if (entry.Name is not ("." or "..") && unique.Add(entry.Name)) names.Add(entry.Name);
                        offset = entry.NextOffset;
                        return true;
                    });
                    // One call lists to the end; a layout that stops early is resumed until it adds nothing,
                    // and one whose cookies do not advance is not asked forever.
                    if (seen == 0 || offset == start) break;
                }
            }
            finally
            {
                _fileSystem.ReleaseDirectory(node.Node, handle);
            }
            return 0;
        });
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public Stream OpenRead(string path)
    {
        var node = Resolve(path) ?? throw Missing(path);
        try
        {
            if (node.Attributes.IsDirectory) throw new ToolException(Display(path), ErrorText.Describe(Errno.EISDIR));
            ulong handle = Guard(path, () => _fileSystem.Open(node.Node, OpenFlags.ReadOnly));
            return new ImageFileStream(_fileSystem, node, handle, writable: false, node.Attributes.Size, e => CommandRunner.At(Display(path), e));
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    public Stream Create(string path, uint mode)
    {
        using var parent = ResolveParent(path, out string name);
        var existing = Guard(path, () => _fileSystem.Lookup(parent.Node, name));
        HeldNode node;
        ulong handle;
        if (existing is not null)
        {
            node = _references.Hold(existing);
            if (!existing.IsRegular)
            {
                node.Dispose();
                throw new ToolException(Display(path), existing.IsDirectory ? ErrorText.Describe(Errno.EISDIR) : "not a regular file");
            }
            try
            {
                handle = Guard(path, () => _fileSystem.Open(node.Node, OpenFlags.WriteOnly | OpenFlags.Truncate));
                Guard(path, () => _fileSystem.SetAttributes(node.Node, new SetAttributes { Size = 0 }, handle));
            }
            catch
            {
                node.Dispose();
                throw;
            }
        }
        else
        {
            var (attributes, newHandle) = Guard(path, () => _fileSystem.Create(
                parent.Node, name, UnixFileMode.Regular | (mode & UnixFileMode.PermissionMask),
                OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive, _owner));
            node = _references.Hold(attributes);
            handle = newHandle;
        }
        return new ImageFileStream(_fileSystem, node, handle, writable: true, 0, e => CommandRunner.At(Display(path), e));
    }

    public void CreateDirectory(string path, uint mode)
    {
        using var parent = ResolveParent(path, out string name);
        var attributes = Guard(path, () => _fileSystem.MakeDirectory(parent.Node, name, mode & UnixFileMode.PermissionMask, _owner));
        _references.Hold(attributes).Dispose();
    }

    public void CreateSymlink(string path, string target)
    {
        using var parent = ResolveParent(path, out string name);
        var attributes = Guard(path, () => _fileSystem.Symlink(parent.Node, name, target, _owner));
        _references.Hold(attributes).Dispose();
    }

    public string ReadLink(string path)
    {
        using var node = Resolve(path) ?? throw Missing(path);
        return Guard(path, () => _fileSystem.ReadLink(node.Node));
    }

    public void Remove(string path)
    {
        using var parent = ResolveParent(path, out string name);
        var existing = Guard(path, () => _fileSystem.Lookup(parent.Node, name)) ?? throw Missing(path);
        // The lookup above took a reference; it is released after the unlink so the layout can free the node.
        using var node = _references.Hold(existing);
        if (existing.IsDirectory)
            Guard(path, () => _fileSystem.RemoveDirectory(parent.Node, name));
        else
            Guard(path, () => _fileSystem.Unlink(parent.Node, name));
    }

    /// <summary>Walks <paramref name="path"/> from the root; null when a component is missing.</summary>
    private HeldNode? Resolve(string path)
    {
        var current = _references.Root();
        foreach (string component in ImagePath.Components(ImagePath.Normalise(path)))
        {
            var parent = current;
            if (!parent.Attributes.IsDirectory)
            {
                parent.Dispose();
                throw new ToolException(Display(path), ErrorText.Describe(Errno.ENOTDIR));
            }
            NodeAttributes? next;
            try
            {
                next = Guard(path, () => _fileSystem.Lookup(parent.Node, component));
            }
            finally
            {
                parent.Dispose();
            }
            if (next is null) return null;
            current = _references.Hold(next);
        }
        return current;
    }

    private HeldNode ResolveParent(string path, out string name)
    {
        string normal = ImagePath.Normalise(path);
        if (normal == "/") throw new ToolException(Display(path), "is the root directory");
        name = ImagePath.FileName(normal);
        var parent = Resolve(ImagePath.Parent(normal)) ?? throw Missing(ImagePath.Parent(normal));
        if (!parent.Attributes.IsDirectory)
        {
            parent.Dispose();
            throw new ToolException(Display(ImagePath.Parent(normal)), ErrorText.Describe(Errno.ENOTDIR));
        }
        return parent;
    }

    private static TreeEntry ToEntry(string path, NodeAttributes a) =>
        new(path, a.Mode, a.Size, a.Links, a.Uid, a.Gid, a.Mtime.ToDateTime());

    private ToolException Missing(string path) => new(Display(path), ErrorText.Describe(Errno.ENOENT));

    private T Guard<T>(string path, Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (FsException e)
        {
            throw CommandRunner.At(Display(path), e);
        }
    }

    private void Guard(string path, Action operation) => Guard(path, () => { operation(); return 0; });
}
