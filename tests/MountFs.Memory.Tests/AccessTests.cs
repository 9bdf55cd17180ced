using MountFs.Vfs;
using static MountFs.Memory.Tests.MemoryFixture;

namespace MountFs.Memory.Tests;

public class AccessTests
{
    private readonly MemoryFixture _m = new();

    private ulong FileWith(uint mode, uint uid = 1000, uint gid = 100)
    {
        var f = _m.File($"f{mode}-{uid}-{gid}");
        _m.Fs.SetAttributes(f.Node, new SetAttributes { Mode = mode, Uid = uid, Gid = gid });
        return f.Node;
    }

    [Theory]
    [InlineData(0x1C0u /*0700*/, 1000u, 100u, AccessMode.Read | AccessMode.Write | AccessMode.Execute, true)]
    [InlineData(0x100u /*0400*/, 1000u, 100u, AccessMode.Write, false)]
    [InlineData(0x038u /*0070*/, 1000u, 100u, AccessMode.Read, false)]  // owner class wins even when group allows
    [InlineData(0x038u /*0070*/, 2000u, 100u, AccessMode.Read | AccessMode.Execute, true)]
    [InlineData(0x020u /*0040*/, 2000u, 100u, AccessMode.Write, false)]
    [InlineData(0x004u /*0004*/, 2000u, 200u, AccessMode.Read, true)]
    [InlineData(0x004u /*0004*/, 2000u, 200u, AccessMode.Execute, false)]
    [InlineData(0x000u, 2000u, 200u, AccessMode.Exists, true)]
    public void Owner_group_other_classes(uint mode, uint uid, uint gid, AccessMode wanted, bool allowed)
    {
        ulong node = FileWith(mode);
        var who = new Credentials(uid, gid);
        if (allowed) _m.Fs.Access(node, wanted, who);
        else Assert.Equal(Errno.EACCES, ErrnoOf(() => _m.Fs.Access(node, wanted, who)));
    }

    [Fact]
    public void Root_reads_and_writes_anything_but_executes_only_with_some_execute_bit()
    {
        ulong none = FileWith(0);
        _m.Fs.Access(none, AccessMode.Read | AccessMode.Write, Credentials.Root);
        Assert.Equal(Errno.EACCES, ErrnoOf(() => _m.Fs.Access(none, AccessMode.Execute, Credentials.Root)));
        _m.Fs.Access(FileWith(0x001), AccessMode.Execute, Credentials.Root);
        var d = _m.Mkdir("d", mode: 0);
        _m.Fs.Access(d.Node, AccessMode.Execute | AccessMode.Read, Credentials.Root);
    }
}
