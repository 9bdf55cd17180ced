using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>Path-level helpers over the node API, as a front end would drive it.</summary>
public static class FsPaths
{
    public static ulong Resolve(IFileSystem fs, string path)
    {
        ulong node = fs.RootNode;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            node = (fs.Lookup(node, part) ?? throw new FsException(Errno.ENOENT, path)).Node;
        return node;
    }

    public static (ulong Parent, string Name) Split(IFileSystem fs, string path)
    {
        int i = path.LastIndexOf('/');
        return (Resolve(fs, path[..Math.Max(i, 0)]), path[(i + 1)..]);
    }

    public static void WriteFile(IFileSystem fs, string path, byte[] data, int chunk = 65536)
    {
        var (parent, name) = Split(fs, path);
        var (attr, handle) = fs.Create(parent, name, 0x1A4, OpenFlags.WriteOnly, Credentials.Root);
        for (int o = 0; o < data.Length; o += chunk)
            fs.Write(attr.Node, handle, o, data.AsSpan(o, Math.Min(chunk, data.Length - o)));
        fs.Release(attr.Node, handle);
    }

    public static byte[] ReadFile(IFileSystem fs, ulong node)
    {
        var a = fs.GetAttributes(node);
        var result = new byte[a.Size];
        ulong h = fs.Open(node, OpenFlags.ReadOnly);
        int done = 0;
        while (done < result.Length)
        {
            int n = fs.Read(node, h, done, result.AsSpan(done, Math.Min(1 << 20, result.Length - done)));
            if (n == 0) break;
            done += n;
        }
        fs.Release(node, h);
        Assert.Equal(result.Length, done);
        return result;
    }

    public static List<DirectoryEntry> List(IFileSystem fs, ulong dir)
    {
        var list = new List<DirectoryEntry>();
        ulong h = fs.OpenDirectory(dir);
        fs.ReadDirectory(dir, h, 0, (in DirectoryEntry e) => { list.Add(e); return true; });
        fs.ReleaseDirectory(dir, h);
        return list;
    }

    /// <summary>Every file (path → bytes) and directory under the root, read through the file system.</summary>
    public static (Dictionary<string, byte[]> Files, HashSet<string> Dirs) Snapshot(IFileSystem fs)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        void Walk(ulong dir, string path)
        {
            foreach (var e in List(fs, dir))
            {
                if (e.Name is "." or "..") continue;
                string p = path + "/" + e.Name;
                if (e.Type == UnixFileMode.DirectoryEntryType(UnixFileMode.Directory)) { dirs.Add(p); Walk(e.Node, p); }
                else files[p] = ReadFile(fs, e.Node);
            }
        }
        Walk(fs.RootNode, "");
        return (files, dirs);
    }

    /// <summary>The same for a host directory tree (what mcopy wrote out).</summary>
    public static (Dictionary<string, byte[]> Files, HashSet<string> Dirs) HostSnapshot(string root)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
            dirs.Add("/" + Path.GetRelativePath(root, d));
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            files["/" + Path.GetRelativePath(root, f)] = File.ReadAllBytes(f);
        return (files, dirs);
    }
}
