using System.Text;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>
/// Fills a file system with a seeded random tree (nested directories, small and large sparse files, fast and slow
/// symlinks, hard links, a big directory, deletions and renames) and remembers what every path should hold.
/// </summary>
internal sealed class TreeBuilder(IFileSystem fs, int seed)
{
    private readonly Random _rng = new(seed);
    public readonly Dictionary<string, byte[]> Files = new(StringComparer.Ordinal);
    public readonly Dictionary<string, string> Symlinks = new(StringComparer.Ordinal);
    public readonly List<string> Directories = ["/"];
    private readonly Dictionary<string, ulong> _dirNodes = new() { ["/"] = fs.RootNode };
    private readonly Dictionary<string, ulong> _fileNodes = [];

    private static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;

    public void Build(int operations, int bigDirEntries)
    {
        for (int i = 0; i < 6; i++) MakeDir($"d{i}");
        for (int i = 0; i < operations; i++)
        {
            switch (_rng.Next(10))
            {
                case 0: MakeDir($"sub{i}"); break;
                case 1: case 2: case 3: WriteFile($"f{i}", _rng.Next(0, 20000)); break;
                case 4: WriteSparse($"sparse{i}"); break;
                case 5: MakeSymlink($"l{i}"); break;
                case 6: HardLink($"h{i}"); break;
                case 7: Delete(); break;
                case 8: RenameOne($"r{i}"); break;
                default: Overwrite(); break;
            }
        }
        if (bigDirEntries > 0)
        {
            var big = MakeDir("big", "/");
            for (int i = 0; i < bigDirEntries; i++)
            {
                var (a, h) = fs.Create(big, $"entry-{i:D5}-with-a-longer-name", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                var data = Encoding.ASCII.GetBytes($"file {i}\n");
                fs.Write(a.Node, h, 0, data);
                fs.Release(a.Node, h);
                Files[$"/big/entry-{i:D5}-with-a-longer-name"] = data;
            }
            for (int i = 0; i < bigDirEntries; i += 7)
            {
                fs.Unlink(big, $"entry-{i:D5}-with-a-longer-name");
                Files.Remove($"/big/entry-{i:D5}-with-a-longer-name");
            }
        }
    }

    private string RandomDir() => Directories[_rng.Next(Directories.Count)];

    private ulong MakeDir(string name, string? parent = null)
    {
        parent ??= RandomDir();
        var a = fs.MakeDirectory(_dirNodes[parent], name, 0x1ED, Credentials.Root);
        string path = Join(parent, name);
        Directories.Add(path);
        _dirNodes[path] = a.Node;
        return a.Node;
    }

    private void WriteFile(string name, int size)
    {
        string dir = RandomDir();
        var (a, h) = fs.Create(_dirNodes[dir], name, 0x1A4, OpenFlags.ReadWrite, new Credentials(1000, 100));
        var data = new byte[size];
        _rng.NextBytes(data);
        int written = 0;
        while (written < size)
        {
            int n = Math.Min(size - written, _rng.Next(1, 9000));
            fs.Write(a.Node, h, written, data.AsSpan(written, n));
            written += n;
        }
        fs.Release(a.Node, h);
        string path = Join(dir, name);
        Files[path] = data;
        _fileNodes[path] = a.Node;
    }

    private void WriteSparse(string name)
    {
        string dir = RandomDir();
        var (a, h) = fs.Create(_dirNodes[dir], name, 0x180, OpenFlags.ReadWrite, Credentials.Root);
        // Far offsets reach the double and triple indirect ranges while the image stays small.
        long[] offsets = [0, 70_000, 5_000_000, 70_000_000];
        long at = offsets[_rng.Next(offsets.Length)] + _rng.Next(0, 5000);
        var chunk = new byte[_rng.Next(1, 6000)];
        _rng.NextBytes(chunk);
        fs.Write(a.Node, h, at, chunk);
        fs.Release(a.Node, h);
        var data = new byte[at + chunk.Length];
        chunk.CopyTo(data, at);
        string path = Join(dir, name);
        Files[path] = data;
        _fileNodes[path] = a.Node;
    }

    private void MakeSymlink(string name)
    {
        string dir = RandomDir();
        string target = _rng.Next(2) == 0 ? "short/target" : "long/" + new string('x', 100 + _rng.Next(200));
        fs.Symlink(_dirNodes[dir], name, target, Credentials.Root);
        Symlinks[Join(dir, name)] = target;
    }

    private void HardLink(string name)
    {
        if (_fileNodes.Count == 0) return;
        var (src, node) = _fileNodes.ElementAt(_rng.Next(_fileNodes.Count));
        string dir = RandomDir();
        fs.Link(node, _dirNodes[dir], name);
        string path = Join(dir, name);
        Files[path] = Files[src];
        _fileNodes[path] = node;
    }

    private void Delete()
    {
        if (Files.Count == 0) return;
        string path = Files.Keys.ElementAt(_rng.Next(Files.Count));
        var (dir, name) = Split(path);
        fs.Unlink(_dirNodes[dir], name);
        Files.Remove(path);
        _fileNodes.Remove(path);
    }

    private void Overwrite()
    {
        if (_fileNodes.Count == 0) return;
        var (path, node) = _fileNodes.ElementAt(_rng.Next(_fileNodes.Count));
        var data = Files[path];
        int newSize = _rng.Next(0, 30000);
        fs.SetAttributes(node, new SetAttributes { Size = newSize });
        var fresh = new byte[newSize];
        Array.Copy(data, fresh, Math.Min(data.Length, newSize));
        int at = newSize == 0 ? 0 : _rng.Next(newSize);
        var patch = new byte[Math.Min(1000, newSize - at)];
        _rng.NextBytes(patch);
        ulong h = fs.Open(node, OpenFlags.ReadWrite);
        fs.Write(node, h, at, patch);
        fs.Release(node, h);
        patch.CopyTo(fresh, at);
        foreach (var (p, n) in _fileNodes) if (n == node) Files[p] = fresh;
    }

    private void RenameOne(string newName)
    {
        if (Files.Count == 0) return;
        string path = Files.Keys.ElementAt(_rng.Next(Files.Count));
        var (dir, name) = Split(path);
        string toDir = RandomDir();
        fs.Rename(_dirNodes[dir], name, _dirNodes[toDir], newName);
        string to = Join(toDir, newName);
        Files[to] = Files[path];
        Files.Remove(path);
        _fileNodes[to] = _fileNodes[path];
        _fileNodes.Remove(path);
    }

    private static (string Dir, string Name) Split(string path)
    {
        int i = path.LastIndexOf('/');
        return (i == 0 ? "/" : path[..i], path[(i + 1)..]);
    }
}
