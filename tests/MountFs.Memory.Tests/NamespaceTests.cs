using MountFs.Vfs;
using static MountFs.Memory.Tests.MemoryFixture;

namespace MountFs.Memory.Tests;

public class NamespaceTests
{
    private readonly MemoryFixture _m = new();

    [Fact]
    public void Directory_link_count_is_two_plus_subdirectories()
    {
        var a = _m.Mkdir("a");
        Assert.Equal(2u, a.Links);
        Assert.Equal(3u, _m.Fs.GetAttributes(_m.Root).Links);
        _m.Mkdir("b", a.Node);
        _m.Mkdir("c", a.Node);
        _m.File("f", parent: a.Node);
        Assert.Equal(4u, _m.Fs.GetAttributes(a.Node).Links);
        _m.Fs.RemoveDirectory(a.Node, "b");
        Assert.Equal(3u, _m.Fs.GetAttributes(a.Node).Links);
    }

    [Fact]
    public void Hard_links_count_names_and_data_is_shared()
    {
        var f = _m.File("f", "hello");
        var d = _m.Mkdir("d");
        var linked = _m.Fs.Link(f.Node, d.Node, "g");
        Assert.Equal(f.Node, linked.Node);
        Assert.Equal(2u, linked.Links);
        _m.Fs.Unlink(_m.Root, "f");
        Assert.Equal(1u, _m.Fs.GetAttributes(f.Node).Links);
        Assert.Equal("hello", _m.Text(_m.Get("g", d.Node).Node));
    }

    [Fact]
    public void Link_refuses_directories_existing_names_and_unsupported_layouts()
    {
        var d = _m.Mkdir("d");
        var f = _m.File("f");
        Assert.Equal(Errno.EPERM, ErrnoOf(() => _m.Fs.Link(d.Node, _m.Root, "d2")));
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => _m.Fs.Link(f.Node, _m.Root, "d")));
        var noLinks = new MemoryFixture(new() { Capabilities = new FileSystemCapabilities { HardLinks = false } });
        var g = noLinks.File("g");
        Assert.Equal(Errno.EPERM, ErrnoOf(() => noLinks.Fs.Link(g.Node, noLinks.Root, "h")));
    }

    [Fact]
    public void Unlink_and_rmdir_check_types_and_emptiness()
    {
        var d = _m.Mkdir("d");
        _m.File("f");
        _m.File("inner", parent: d.Node);
        Assert.Equal(Errno.EISDIR, ErrnoOf(() => _m.Fs.Unlink(_m.Root, "d")));
        Assert.Equal(Errno.ENOTDIR, ErrnoOf(() => _m.Fs.RemoveDirectory(_m.Root, "f")));
        Assert.Equal(Errno.ENOTEMPTY, ErrnoOf(() => _m.Fs.RemoveDirectory(_m.Root, "d")));
        Assert.Equal(Errno.ENOENT, ErrnoOf(() => _m.Fs.Unlink(_m.Root, "missing")));
        Assert.Equal(Errno.ENOENT, ErrnoOf(() => _m.Fs.RemoveDirectory(_m.Root, "missing")));
        _m.Fs.Unlink(d.Node, "inner");
        _m.Fs.RemoveDirectory(_m.Root, "d");
        Assert.Null(_m.Fs.Lookup(_m.Root, "d"));
        Assert.Equal(2u, _m.Fs.GetAttributes(_m.Root).Links);
    }

    [Fact]
    public void Creating_an_existing_name_is_EEXIST_and_lookup_through_a_file_is_ENOTDIR()
    {
        var f = _m.File("f");
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => _m.Mkdir("f")));
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => _m.Fs.Create(_m.Root, "f", 0x1A4, OpenFlags.ReadWrite, Credentials.Root)));
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => _m.Fs.Symlink(_m.Root, "f", "x", Credentials.Root)));
        Assert.Equal(Errno.ENOTDIR, ErrnoOf(() => _m.Fs.Lookup(f.Node, "x")));
        Assert.Equal(Errno.ENOTDIR, ErrnoOf(() => _m.Mkdir("x", f.Node)));
    }

    [Fact]
    public void Names_longer_than_255_utf8_bytes_are_ENAMETOOLONG()
    {
        _m.File(new string('a', 255));
        Assert.Equal(Errno.ENAMETOOLONG, ErrnoOf(() => _m.File(new string('a', 256))));
        // 128 two-byte characters: 128 UTF-16 units but 256 UTF-8 bytes.
        Assert.Equal(Errno.ENAMETOOLONG, ErrnoOf(() => _m.Mkdir(new string('é', 128))));
        Assert.Equal(Errno.ENAMETOOLONG, ErrnoOf(() => _m.Fs.Lookup(_m.Root, new string('b', 256))));
        _m.Mkdir(new string('é', 127));
    }

    [Fact]
    public void Rename_replaces_a_file_and_drops_the_old_target()
    {
        var a = _m.File("a", "A");
        var b = _m.File("b", "B");
        _m.Fs.Rename(_m.Root, "a", _m.Root, "b");
        Assert.Null(_m.Fs.Lookup(_m.Root, "a"));
        Assert.Equal(a.Node, _m.Get("b").Node);
        Assert.Equal("A", _m.Text(a.Node));
        Assert.Equal(0u, _m.Fs.GetAttributes(b.Node).Links); // still referenced by us, so still there
        _m.Fs.Forget(b.Node);
        Assert.Equal(Errno.ESTALE, ErrnoOf(() => _m.Fs.GetAttributes(b.Node)));
    }

    [Fact]
    public void Rename_directory_over_empty_directory_and_across_parents_fixes_link_counts()
    {
        var p = _m.Mkdir("p");
        var q = _m.Mkdir("q");
        var moved = _m.Mkdir("moved", p.Node);
        _m.Mkdir("empty", q.Node);
        _m.Fs.Rename(p.Node, "moved", q.Node, "empty");
        Assert.Equal(2u, _m.Fs.GetAttributes(p.Node).Links);
        Assert.Equal(3u, _m.Fs.GetAttributes(q.Node).Links);
        Assert.Equal(moved.Node, _m.Get("empty", q.Node).Node);
        Assert.Equal(q.Node, _m.Get("..", moved.Node).Node);
        Assert.Equal(q.Node, _m.List(moved.Node).Single(e => e.Name == "..").Node);
    }

    [Fact]
    public void Rename_edge_cases_answer_as_linux()
    {
        var d = _m.Mkdir("d");
        var sub = _m.Mkdir("sub", d.Node);
        _m.File("inside", parent: sub.Node);
        var full = _m.Mkdir("full");
        _m.File("x", parent: full.Node);
        _m.Mkdir("empty");
        _m.File("f");

        Assert.Equal(Errno.ENOENT, ErrnoOf(() => _m.Fs.Rename(_m.Root, "nope", _m.Root, "g")));
        Assert.Equal(Errno.ENOTEMPTY, ErrnoOf(() => _m.Fs.Rename(_m.Root, "d", _m.Root, "full")));
        Assert.Equal(Errno.EISDIR, ErrnoOf(() => _m.Fs.Rename(_m.Root, "f", _m.Root, "empty")));
        Assert.Equal(Errno.ENOTDIR, ErrnoOf(() => _m.Fs.Rename(_m.Root, "empty", _m.Root, "f")));
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(_m.Root, "d", sub.Node, "d2")));
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(_m.Root, "d", d.Node, "self")));
        // The target is an ancestor of the source: Linux answers ENOTEMPTY.
        Assert.Equal(Errno.ENOTEMPTY, ErrnoOf(() => _m.Fs.Rename(sub.Node, "inside", _m.Root, "d")));
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => _m.Fs.Rename(_m.Root, "f", _m.Root, "empty", RenameFlags.NoReplace)));
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(_m.Root, "f", _m.Root, "g", RenameFlags.NoReplace | RenameFlags.Exchange)));
        Assert.Equal(Errno.ENOENT, ErrnoOf(() => _m.Fs.Rename(_m.Root, "f", _m.Root, "g", RenameFlags.Exchange)));
        // Nothing moved.
        Assert.Equal(["d", "empty", "f", "full"], _m.Names(_m.Root));
        Assert.Equal(["sub"], _m.Names(d.Node));
    }

    [Fact]
    public void Rename_onto_another_name_of_the_same_node_does_nothing()
    {
        var f = _m.File("f", "data");
        _m.Fs.Link(f.Node, _m.Root, "g");
        _m.Fs.Rename(_m.Root, "f", _m.Root, "g");
        Assert.Equal(["f", "g"], _m.Names(_m.Root));
        Assert.Equal(2u, _m.Fs.GetAttributes(f.Node).Links);
        _m.Fs.Rename(_m.Root, "f", _m.Root, "f");
        Assert.Equal(["f", "g"], _m.Names(_m.Root));
    }

    [Fact]
    public void Rename_with_NoReplace_moves_to_a_free_name()
    {
        var f = _m.File("f");
        _m.Fs.Rename(_m.Root, "f", _m.Root, "g", RenameFlags.NoReplace);
        Assert.Equal(f.Node, _m.Get("g").Node);
        Assert.Null(_m.Fs.Lookup(_m.Root, "f"));
    }

    [Fact]
    public void Exchange_swaps_a_file_and_a_directory_across_parents()
    {
        var p = _m.Mkdir("p");
        var q = _m.Mkdir("q");
        var dir = _m.Mkdir("dir", p.Node);
        var file = _m.File("file", "x", q.Node);
        _m.Fs.Rename(p.Node, "dir", q.Node, "file", RenameFlags.Exchange);
        Assert.Equal(file.Node, _m.Get("dir", p.Node).Node);
        Assert.Equal(dir.Node, _m.Get("file", q.Node).Node);
        Assert.Equal(2u, _m.Fs.GetAttributes(p.Node).Links);
        Assert.Equal(3u, _m.Fs.GetAttributes(q.Node).Links);
        Assert.Equal(q.Node, _m.Get("..", dir.Node).Node);
        _m.File("x", parent: dir.Node);
        // q now holds dir: exchanging q with something inside it would make q its own ancestor.
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(_m.Root, "q", dir.Node, "x", RenameFlags.Exchange)));
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(dir.Node, "x", _m.Root, "q", RenameFlags.Exchange)));
    }

    [Fact]
    public void Exchange_of_two_directories_keeps_link_counts_and_fixes_dotdot()
    {
        var p = _m.Mkdir("p");
        var q = _m.Mkdir("q");
        var x = _m.Mkdir("x", p.Node);
        _m.Mkdir("inner", x.Node);
        var y = _m.Mkdir("y", q.Node);
        _m.Fs.Rename(p.Node, "x", q.Node, "y", RenameFlags.Exchange);
        Assert.Equal(y.Node, _m.Get("x", p.Node).Node);
        Assert.Equal(x.Node, _m.Get("y", q.Node).Node);
        Assert.Equal(3u, _m.Fs.GetAttributes(p.Node).Links);
        Assert.Equal(3u, _m.Fs.GetAttributes(q.Node).Links);
        Assert.Equal(3u, _m.Fs.GetAttributes(x.Node).Links);
        Assert.Equal(p.Node, _m.Get("..", y.Node).Node);
        Assert.Equal(q.Node, _m.Get("..", x.Node).Node);
        _m.File("f", "1");
        _m.File("g", "22");
        _m.Fs.Rename(_m.Root, "f", _m.Root, "g", RenameFlags.Exchange);
        Assert.Equal(2, _m.Get("f").Size);
        Assert.Equal(1, _m.Get("g").Size);
    }

    [Fact]
    public void Rename_refuses_whiteout_and_unknown_flags()
    {
        _m.File("f");
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(_m.Root, "f", _m.Root, "g", RenameFlags.Whiteout)));
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.Rename(_m.Root, "f", _m.Root, "g", (RenameFlags)0x40)));
        Assert.NotNull(_m.Fs.Lookup(_m.Root, "f"));
    }

    [Fact]
    public void Removed_directory_takes_no_new_names()
    {
        var d = _m.Mkdir("d");
        _m.Fs.RemoveDirectory(_m.Root, "d");
        Assert.Equal(0u, _m.Fs.GetAttributes(d.Node).Links);
        Assert.Equal(Errno.ENOENT, ErrnoOf(() => _m.File("f", parent: d.Node)));
        Assert.Empty(_m.Names(d.Node));
    }

    [Fact]
    public void Symlink_stores_target_and_size_and_readlink_refuses_other_types()
    {
        var link = _m.Fs.Symlink(_m.Root, "l", "some/where", Credentials.Root);
        Assert.True(link.IsSymlink);
        Assert.Equal(10, link.Size);
        Assert.Equal(0x1FFu, link.Mode & UnixFileMode.PermissionMask);
        Assert.Equal("some/where", _m.Fs.ReadLink(link.Node));
        var f = _m.File("f");
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.ReadLink(f.Node)));
        Assert.Equal(Errno.ENOENT, ErrnoOf(() => _m.Fs.Symlink(_m.Root, "e", "", Credentials.Root)));
        Assert.Equal(Errno.ENAMETOOLONG, ErrnoOf(() => _m.Fs.Symlink(_m.Root, "long", new string('x', 4096), Credentials.Root)));
        var none = new MemoryFixture(new() { Capabilities = new FileSystemCapabilities { Symlinks = false } });
        Assert.Equal(Errno.EPERM, ErrnoOf(() => none.Fs.Symlink(none.Root, "l", "t", Credentials.Root)));
    }

    [Fact]
    public void Mknod_makes_fifos_sockets_and_devices()
    {
        var fifo = _m.Fs.MakeNode(_m.Root, "fifo", UnixFileMode.Fifo | 0x1A4, 0, Credentials.Root);
        var sock = _m.Fs.MakeNode(_m.Root, "sock", UnixFileMode.Socket | 0x1A4, 0, Credentials.Root);
        var chr = _m.Fs.MakeNode(_m.Root, "null", UnixFileMode.CharacterDevice | 0x1B6, 0x103, Credentials.Root);
        var blk = _m.Fs.MakeNode(_m.Root, "sda", UnixFileMode.BlockDevice | 0x1B0, 0x800, Credentials.Root);
        var plain = _m.Fs.MakeNode(_m.Root, "plain", 0x1A4, 0, Credentials.Root);
        Assert.Equal(UnixFileMode.Fifo, UnixFileMode.TypeOf(fifo.Mode));
        Assert.Equal(UnixFileMode.Socket, UnixFileMode.TypeOf(sock.Mode));
        Assert.Equal(0x103u, chr.Rdev);
        Assert.Equal(0x800u, blk.Rdev);
        Assert.True(plain.IsRegular);
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _m.Fs.MakeNode(_m.Root, "dir", UnixFileMode.Directory | 0x1ED, 0, Credentials.Root)));
        var listing = _m.List(_m.Root).ToDictionary(e => e.Name, e => e.Type);
        Assert.Equal(1, listing["fifo"]);  // DT_FIFO
        Assert.Equal(2, listing["null"]);  // DT_CHR
        Assert.Equal(6, listing["sda"]);   // DT_BLK
        Assert.Equal(12, listing["sock"]); // DT_SOCK
        var none = new MemoryFixture(new() { Capabilities = new FileSystemCapabilities { SpecialFiles = false } });
        Assert.Equal(Errno.EPERM, ErrnoOf(() => none.Fs.MakeNode(none.Root, "f", UnixFileMode.Fifo | 0x1A4, 0, Credentials.Root)));
    }

    [Fact]
    public void New_nodes_take_owner_from_credentials_and_group_from_setgid_directory()
    {
        var d = _m.Fs.MakeDirectory(_m.Root, "d", 0x1ED, User);
        Assert.Equal(1000u, d.Uid);
        _m.Fs.SetAttributes(d.Node, new SetAttributes { Mode = 0x400 | 0x1FD, Gid = 50 });
        var (file, handle) = _m.Fs.Create(d.Node, "f", 0x1A4, OpenFlags.ReadWrite, new Credentials(7, 7));
        _m.Fs.Release(file.Node, handle);
        Assert.Equal(7u, file.Uid);
        Assert.Equal(50u, file.Gid);
        var sub = _m.Fs.MakeDirectory(d.Node, "sub", 0x1ED, new Credentials(7, 7));
        Assert.Equal(50u, sub.Gid);
        Assert.NotEqual(0u, sub.Mode & 0x400);
    }

    [Fact]
    public void Case_insensitive_capability_finds_names_in_any_case_and_keeps_the_given_case()
    {
        var m = new MemoryFixture(new() { Capabilities = new FileSystemCapabilities { CaseInsensitive = true } });
        var f = m.File("ReadMe");
        Assert.Equal(f.Node, m.Get("README").Node);
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => m.File("readme")));
        m.Fs.Rename(m.Root, "readme", m.Root, "README.txt");
        m.Fs.Rename(m.Root, "readme.TXT", m.Root, "ReadMe.TXT");
        Assert.Equal(["ReadMe.TXT"], m.Names(m.Root));
    }

    [Fact]
    public void Read_only_file_system_refuses_changes_with_EROFS()
    {
        var m = new MemoryFixture(new() { ReadOnly = true });
        Assert.True(m.Fs.Capabilities.ReadOnly);
        Assert.Equal(Errno.EROFS, ErrnoOf(() => m.Mkdir("d")));
        Assert.Equal(Errno.EROFS, ErrnoOf(() => m.Fs.SetAttributes(m.Root, new SetAttributes { Mode = 0x1FF })));
        Assert.Equal(Errno.EROFS, ErrnoOf(() => m.Fs.Access(m.Root, AccessMode.Write, Credentials.Root)));
    }
}
