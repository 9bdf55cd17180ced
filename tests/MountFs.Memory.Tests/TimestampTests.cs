using MountFs.Vfs;

namespace MountFs.Memory.Tests;

/// <summary>Which operation moves which time, as Linux does it; the fixture's clock ticks once per call.</summary>
public class TimestampTests
{
    private readonly MemoryFixture _m = new();

    [Fact]
    public void Write_updates_mtime_and_ctime_but_not_atime()
    {
        var f = _m.File("f");
        _m.WriteAt(f.Node, 0, [1, 2, 3]);
        var after = _m.Fs.GetAttributes(f.Node);
        Assert.True(after.Mtime.CompareTo(f.Mtime) > 0);
        Assert.Equal(after.Mtime, after.Ctime);
        Assert.Equal(f.Atime, after.Atime);
    }

    [Fact]
    public void Truncate_updates_mtime_and_ctime()
    {
        var f = _m.File("f", "abc");
        var after = _m.Fs.SetAttributes(f.Node, new SetAttributes { Size = 1 });
        Assert.True(after.Mtime.CompareTo(f.Mtime) > 0);
        Assert.Equal(after.Mtime, after.Ctime);
    }

    [Fact]
    public void Chmod_chown_link_unlink_and_rename_update_only_ctime()
    {
        var f = _m.File("f");
        var last = f;
        foreach (Action change in new Action[]
        {
            () => _m.Fs.SetAttributes(f.Node, new SetAttributes { Mode = 0x180 }),
            () => _m.Fs.SetAttributes(f.Node, new SetAttributes { Uid = 5, Gid = 6 }),
            () => _m.Fs.Link(f.Node, _m.Root, "g"),
            () => _m.Fs.Unlink(_m.Root, "g"),
            () => _m.Fs.Rename(_m.Root, "f", _m.Root, "h"),
        })
        {
            change();
            var now = _m.Fs.GetAttributes(f.Node);
            Assert.True(now.Ctime.CompareTo(last.Ctime) > 0);
            Assert.Equal(f.Mtime, now.Mtime);
            last = now;
        }
    }

    [Fact]
    public void Directory_changes_update_the_parents_mtime_and_ctime()
    {
        var d = _m.Mkdir("d");
        var e = _m.Mkdir("e");
        var last = _m.Fs.GetAttributes(d.Node);
        foreach (Action change in new Action[]
        {
            () => _m.File("f", parent: d.Node),
            () => _m.Mkdir("sub", d.Node),
            () => _m.Fs.Symlink(d.Node, "l", "t", Credentials.Root),
            () => _m.Fs.Unlink(d.Node, "l"),
            () => _m.Fs.RemoveDirectory(d.Node, "sub"),
            () => _m.Fs.Rename(d.Node, "f", d.Node, "g"),
            () => _m.Fs.Rename(d.Node, "g", e.Node, "g"),
        })
        {
            change();
            var now = _m.Fs.GetAttributes(d.Node);
            Assert.True(now.Mtime.CompareTo(last.Mtime) > 0);
            Assert.Equal(now.Mtime, now.Ctime);
            last = now;
        }
        Assert.True(_m.Fs.GetAttributes(e.Node).Mtime.CompareTo(e.Mtime) > 0);
    }

    [Fact]
    public void Explicit_times_are_stored_and_ctime_follows_the_clock()
    {
        var f = _m.File("f");
        var at = new Timestamp(12345, 678);
        var mt = new Timestamp(23456, 789);
        var after = _m.Fs.SetAttributes(f.Node, new SetAttributes { Atime = TimeChange.At(at), Mtime = TimeChange.At(mt) });
        Assert.Equal(at, after.Atime);
        Assert.Equal(mt, after.Mtime);
        Assert.True(after.Ctime.CompareTo(f.Ctime) > 0);
        var touched = _m.Fs.SetAttributes(f.Node, new SetAttributes { Mtime = TimeChange.Now });
        Assert.True(touched.Mtime.CompareTo(after.Ctime) > 0);
    }

    [Fact]
    public void Read_marks_atime_when_older_than_the_last_change()
    {
        var f = _m.File("f", "abc");
        var before = _m.Fs.GetAttributes(f.Node);
        _m.ReadAll(f.Node);
        var after = _m.Fs.GetAttributes(f.Node);
        Assert.True(after.Atime.CompareTo(before.Mtime) > 0);
        Assert.Equal(before.Mtime, after.Mtime);
    }

    [Fact]
    public void Coarse_time_granularity_rounds_stored_times_down()
    {
        var fat = new MemoryFileSystem(new MemoryFileSystemOptions
        {
            Capabilities = new FileSystemCapabilities { TimeGranularity = TimeSpan.FromSeconds(2) },
        });
        var (file, handle) = fat.Create(fat.RootNode, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        fat.Release(file.Node, handle);
        var after = fat.SetAttributes(file.Node, new SetAttributes { Mtime = TimeChange.At(new Timestamp(1001, 999)) });
        Assert.Equal(new Timestamp(1000, 0), after.Mtime);
        Assert.Equal(0, after.Ctime.Seconds % 2);
    }
}
