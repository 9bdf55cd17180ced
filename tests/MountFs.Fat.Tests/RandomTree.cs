using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>Builds a random tree through the file system and remembers what it should contain.</summary>
public sealed class RandomTree(int seed, int maxFileBytes)
{
    private readonly Random _rng = new(seed);
    private int _counter;
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Dirs { get; } = new(StringComparer.Ordinal);

    private string NewName()
    {
        int n = _counter++;
        return _rng.Next(8) switch
        {
            0 => $"FILE{n}.TXT",
            1 => $"low{n}.dat",
            2 => $"A long file name number {n} with spaces.text",
            3 => $"Ünïcødé 日本語 {n}.txt",
            4 => $"MiXeD{n}.Bin",
            5 => $"{n}.several.dots.here",
            6 => $"x{n}",
            _ => new string('L', 60) + n + new string('z', _rng.Next(1, 150)),
        };
    }

    private int NewSize() => _rng.Next(6) switch
    {
        0 => 0,
        1 => _rng.Next(1, 600),
        2 => 4096 * _rng.Next(1, 4),
        3 => _rng.Next(1, 70_000),
        4 => _rng.Next(1, maxFileBytes),
        _ => _rng.Next(1, 20_000),
    };

    private string RandomDir()
    {
        if (Dirs.Count == 0 || _rng.Next(4) == 0) return "";
        return Dirs.ElementAt(_rng.Next(Dirs.Count));
    }

    public void Build(IFileSystem fs, int operations)
    {
        // A deep chain first, so the tree has depth whatever the dice say.
        string deep = "";
        bool first = !Dirs.Contains("/deep0");
        for (int i = 0; i < 9 && first; i++)
        {
            deep += "/deep" + i;
            fs.MakeDirectory(FsPaths.Resolve(fs, deep[..deep.LastIndexOf('/')]), "deep" + i, 0x1ED, Credentials.Root);
            Dirs.Add(deep);
        }
        for (int op = 0; op < operations; op++)
        {
            int dice = _rng.Next(20);
            if (dice < 3)
            {
                string p = RandomDir() + "/" + NewName().Replace(".", "_");
                fs.MakeDirectory(FsPaths.Resolve(fs, p[..p.LastIndexOf('/')]), p[(p.LastIndexOf('/') + 1)..], 0x1ED, Credentials.Root);
                Dirs.Add(p);
            }
            else if (dice < 13)
            {
                string p = RandomDir() + "/" + NewName();
                var data = new byte[NewSize()];
                _rng.NextBytes(data);
                FsPaths.WriteFile(fs, p, data, _rng.Next(2) == 0 ? 65536 : 1000 + _rng.Next(5000));
                Files[p] = data;
            }
            else if (dice < 15 && Files.Count > 0)
            {
                string p = Files.Keys.ElementAt(_rng.Next(Files.Count));
                var (parent, name) = FsPaths.Split(fs, p);
                fs.Unlink(parent, name);
                Files.Remove(p);
            }
            else if (dice < 17 && Files.Count > 0)
            {
                string p = Files.Keys.ElementAt(_rng.Next(Files.Count));
                string to = RandomDir() + "/" + NewName();
                var (parent, name) = FsPaths.Split(fs, p);
                var (np, nn) = FsPaths.Split(fs, to);
                fs.Rename(parent, name, np, nn);
                Files[to] = Files[p];
                Files.Remove(p);
            }
            else if (dice < 18 && Files.Count > 0)
            {
                // Same name in another case must hit the existing file.
                string p = Files.Keys.ElementAt(_rng.Next(Files.Count));
                var (parent, name) = FsPaths.Split(fs, p);
                string other = name.ToUpperInvariant() == name ? name.ToLowerInvariant() : name.ToUpperInvariant();
                var found = fs.Lookup(parent, other);
                Assert.NotNull(found);
                Assert.Equal(FsPaths.Resolve(fs, p), found!.Node);
                var e = Assert.Throws<FsException>(() => fs.Create(parent, other, 0x1A4, OpenFlags.WriteOnly, Credentials.Root));
                Assert.Equal(Errno.EEXIST, e.Errno);
            }
            else if (dice < 19 && Files.Count > 0)
            {
                // Rewrite part of a file (overwrite and maybe extend).
                string p = Files.Keys.ElementAt(_rng.Next(Files.Count));
                ulong node = FsPaths.Resolve(fs, p);
                var old = Files[p];
                int offset = _rng.Next(old.Length + 1);
                var patch = new byte[_rng.Next(1, 9000)];
                _rng.NextBytes(patch);
                ulong h = fs.Open(node, OpenFlags.WriteOnly);
                fs.Write(node, h, offset, patch);
                fs.Release(node, h);
                var updated = new byte[Math.Max(old.Length, offset + patch.Length)];
                old.CopyTo(updated, 0);
                patch.CopyTo(updated, offset);
                Files[p] = updated;
            }
            else if (Dirs.Count > 0)
            {
                // Rename a directory whose subtree holds nothing we track (keeps path bookkeeping simple).
                string d = Dirs.ElementAt(_rng.Next(Dirs.Count));
                if (Files.Keys.Any(f => f.StartsWith(d + "/")) || Dirs.Any(x => x.StartsWith(d + "/"))) continue;
                string to = RandomDir();
                if (to == d || to.StartsWith(d + "/")) continue;
                to += "/" + NewName().Replace(".", "_");
                var (parent, name) = FsPaths.Split(fs, d);
                var (np, nn) = FsPaths.Split(fs, to);
                fs.Rename(parent, name, np, nn);
                Dirs.Remove(d);
                Dirs.Add(to);
            }
        }
    }

    public void AssertMatches(Dictionary<string, byte[]> files, HashSet<string> dirs)
    {
        Assert.Equal(Dirs.OrderBy(x => x, StringComparer.Ordinal), dirs.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(Files.Keys.OrderBy(x => x, StringComparer.Ordinal), files.Keys.OrderBy(x => x, StringComparer.Ordinal));
        foreach (var (p, data) in Files) Assert.True(data.AsSpan().SequenceEqual(files[p]), $"contents of {p} differ");
    }
}
