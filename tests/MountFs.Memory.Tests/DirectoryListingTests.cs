using MountFs.Vfs;

namespace MountFs.Memory.Tests;

public class DirectoryListingTests
{
    private readonly MemoryFixture _m = new();

    [Fact]
    public void Listing_starts_with_dot_and_dotdot_and_has_rising_cookies()
    {
        var d = _m.Mkdir("d");
        _m.File("a", parent: d.Node);
        _m.Mkdir("b", d.Node);
        var entries = _m.List(d.Node);
        Assert.Equal([".", "..", "a", "b"], entries.Select(e => e.Name));
        Assert.Equal(d.Node, entries[0].Node);
        Assert.Equal(_m.Root, entries[1].Node);
        Assert.Equal(4, entries[3].Type); // DT_DIR
        Assert.Equal(8, entries[2].Type); // DT_REG
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.NextOffset < p.Second.NextOffset));
        Assert.All(entries, e => Assert.True(e.NextOffset > 0));
    }

    [Fact]
    public void A_refused_entry_is_not_consumed_and_the_cookie_resumes_after_the_last_taken()
    {
        for (int i = 0; i < 200; i++) _m.File($"f{i:D3}");
        ulong handle = _m.Fs.OpenDirectory(_m.Root);
        var seen = new List<string>();
        long cookie = 0;
        while (true)
        {
            int taken = 0;
            long last = cookie;
            _m.Fs.ReadDirectory(_m.Root, handle, cookie, (in DirectoryEntry e) =>
            {
                if (taken == 7) return false;
                taken++;
                seen.Add(e.Name);
                last = e.NextOffset;
                return true;
            });
            if (taken == 0) break;
            cookie = last;
        }
        _m.Fs.ReleaseDirectory(_m.Root, handle);
        Assert.Equal(202, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public void Cookies_survive_concurrent_insertions_and_removals()
    {
        // Entries that exist throughout must be listed exactly once, whatever another thread does meanwhile.
        var d = _m.Mkdir("d");
        var stable = Enumerable.Range(0, 300).Select(i => $"stable{i}").ToHashSet();
        foreach (var name in stable) _m.File(name, parent: d.Node);
        for (int i = 0; i < 300; i++) _m.File($"churn{i}", parent: d.Node);

        // A bounded churn: recreated names go to the end of the cookie order, so an endless churner could
        // keep a listing chasing it forever.
        var churner = Task.Run(() =>
        {
            for (int round = 1; round <= 3000; round++)
            {
                int i = round % 300;
                var old = _m.Get($"churn{i}", d.Node);
                _m.Fs.Unlink(d.Node, $"churn{i}");
                _m.Fs.Forget(old.Node);
                _m.Fs.Forget(_m.File($"churn{i}", parent: d.Node).Node);
                var (extra, h) = _m.Fs.Create(d.Node, $"new{round}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                _m.Fs.Release(extra.Node, h);
                _m.Fs.Forget(extra.Node);
                if (round % 3 != 0) _m.Fs.Unlink(d.Node, $"new{round}");
            }
        });

        int listings = 0;
        while (!churner.IsCompleted || listings < 3)
        {
            listings++;
            var counts = new Dictionary<string, int>();
            ulong handle = _m.Fs.OpenDirectory(d.Node);
            long cookie = 0;
            bool more = true;
            while (more)
            {
                // Small pages make many resumptions while the churner runs.
                int taken = 0;
                more = false;
                _m.Fs.ReadDirectory(d.Node, handle, cookie, (in DirectoryEntry e) =>
                {
                    if (taken == 5) { more = true; return false; }
                    taken++;
                    counts[e.Name] = counts.GetValueOrDefault(e.Name) + 1;
                    cookie = e.NextOffset;
                    return true;
                });
            }
            _m.Fs.ReleaseDirectory(d.Node, handle);
            foreach (var name in stable) Assert.Equal(1, counts.GetValueOrDefault(name));
            Assert.Equal(1, counts["."]);
            Assert.Equal(1, counts[".."]);
        }
        churner.Wait();
    }

    [Fact]
    public void Listing_does_not_pin_a_removed_file_so_its_space_comes_back()
    {
        var f = _m.File("big");
        _m.WriteAt(f.Node, 0, new byte[16 * MemoryFileSystem.BlockSize]);
        _m.Fs.Forget(f.Node);
        long freeBefore = _m.Fs.GetStatistics().BlocksFree;
        Assert.Contains(_m.List(_m.Root), e => e.Node == f.Node);
        _m.Fs.Unlink(_m.Root, "big");
        Assert.Equal(freeBefore + 16, _m.Fs.GetStatistics().BlocksFree);
        Assert.Equal(Errno.ESTALE, MemoryFixture.ErrnoOf(() => _m.Fs.GetAttributes(f.Node)));
    }

    [Fact]
    public void Visitor_may_reenter_the_file_system()
    {
        _m.File("a", "x");
        ulong handle = _m.Fs.OpenDirectory(_m.Root);
        var sizes = new List<long>();
        _m.Fs.ReadDirectory(_m.Root, handle, 0, (in DirectoryEntry e) =>
        {
            sizes.Add(_m.Fs.GetAttributes(e.Node).Size);
            if (e.Name == "a") _m.File("b");
            return true;
        });
        _m.Fs.ReleaseDirectory(_m.Root, handle);
        Assert.Contains(1L, sizes);
    }
}
