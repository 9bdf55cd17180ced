using MountFs.Vfs;
using static MountFs.Memory.Tests.MemoryFixture;

namespace MountFs.Memory.Tests;

public class ExtendedAttributeTests
{
    private const int Create = 1, Replace = 2;
    private readonly MemoryFixture _m = new();

    [Fact]
    public void Set_get_list_and_remove()
    {
        var f = _m.File("f");
        _m.Fs.SetExtendedAttribute(f.Node, "user.b", "two"u8, 0);
        _m.Fs.SetExtendedAttribute(f.Node, "user.a", "one"u8, 0);
        Assert.Equal("one"u8.ToArray(), _m.Fs.GetExtendedAttribute(f.Node, "user.a"));
        Assert.Equal(["user.a", "user.b"], _m.Fs.ListExtendedAttributes(f.Node));
        _m.Fs.RemoveExtendedAttribute(f.Node, "user.a");
        Assert.Equal(["user.b"], _m.Fs.ListExtendedAttributes(f.Node));
        Assert.Equal(Errno.ENODATA, ErrnoOf(() => _m.Fs.GetExtendedAttribute(f.Node, "user.a")));
        Assert.Equal(Errno.ENODATA, ErrnoOf(() => _m.Fs.RemoveExtendedAttribute(f.Node, "user.a")));
    }

    [Fact]
    public void Create_and_replace_flags()
    {
        var f = _m.File("f");
        Assert.Equal(Errno.ENODATA, ErrnoOf(() => _m.Fs.SetExtendedAttribute(f.Node, "user.x", "1"u8, Replace)));
        _m.Fs.SetExtendedAttribute(f.Node, "user.x", "1"u8, Create);
        Assert.Equal(Errno.EEXIST, ErrnoOf(() => _m.Fs.SetExtendedAttribute(f.Node, "user.x", "2"u8, Create)));
        _m.Fs.SetExtendedAttribute(f.Node, "user.x", "3"u8, Replace);
        Assert.Equal("3"u8.ToArray(), _m.Fs.GetExtendedAttribute(f.Node, "user.x"));
    }

    [Fact]
    public void Names_values_and_node_types_are_checked()
    {
        var f = _m.File("f");
        var link = _m.Fs.Symlink(_m.Root, "l", "f", Credentials.Root);
        Assert.Equal(Errno.EOPNOTSUPP, ErrnoOf(() => _m.Fs.SetExtendedAttribute(f.Node, "bogus.x", "1"u8, 0)));
        Assert.Equal(Errno.ERANGE, ErrnoOf(() => _m.Fs.SetExtendedAttribute(f.Node, "user." + new string('n', 251), "1"u8, 0)));
        Assert.Equal(Errno.E2BIG, ErrnoOf(() => _m.Fs.SetExtendedAttribute(f.Node, "user.big", new byte[65537], 0)));
        Assert.Equal(Errno.EPERM, ErrnoOf(() => _m.Fs.SetExtendedAttribute(link.Node, "user.x", "1"u8, 0)));
        _m.Fs.SetExtendedAttribute(link.Node, "trusted.x", "1"u8, 0);
        var before = _m.Fs.GetAttributes(f.Node).Ctime;
        _m.Fs.SetExtendedAttribute(f.Node, "user.t", "1"u8, 0);
        Assert.True(_m.Fs.GetAttributes(f.Node).Ctime.CompareTo(before) > 0);
    }
}
