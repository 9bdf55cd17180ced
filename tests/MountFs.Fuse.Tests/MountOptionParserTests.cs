using MountFs.Tool;
using MountFs.Tool.Commands;

namespace MountFs.Fuse.Tests;

public sealed class MountOptionParserTests
{
    [Fact]
    public void MountAndFstabOptionsMapOntoFuseAndLayoutOptions()
    {
        var r = MountOptionParser.Parse(["ro,allow_other,uid=1000,gid=100,umask=027,fmask=133,dmask=022,cache=32M",
            @"entry_timeout=2.5,attr_timeout=0,threads=8,writeback_cache,size=64m,x-systemd.automount,noauto,fsname=a\,b,nonempty"]);
        Assert.True(r.Fuse.ReadOnly && r.Layout.ReadOnly && r.Fuse.AllowOther && r.Fuse.WritebackCache);
        Assert.False(r.Fuse.RequireEmptyMountPoint);
        Assert.Equal((1000u, 100u, 0x17u, 0x5Bu, 0x12u), (r.Layout.Uid!.Value, r.Layout.Gid!.Value, r.Layout.Umask, r.Layout.FileMask!.Value, r.Layout.DirectoryMask!.Value));
        Assert.Equal(32L << 20, r.Layout.CacheBytes);
        Assert.Equal(TimeSpan.FromSeconds(2.5), r.Fuse.EntryTimeout);
        Assert.Equal(TimeSpan.Zero, r.Fuse.AttributeTimeout);
        Assert.Equal(8, r.Fuse.Threads);
        Assert.Equal("a,b", r.Fuse.FsName);
        Assert.Equal(new Dictionary<string, string> { ["size"] = "64m" }, r.Layout.Extra);
        Assert.False(MountOptionParser.Parse(["ro,rw"]).Fuse.ReadOnly);
    }

    [Fact]
    public void WritebackCacheAndLiftedDirtyLimitAreTheDefaults()
    {
        var defaults = MountOptionParser.Parse([]).Fuse;
        Assert.True(defaults.WritebackCache && defaults.LiftDirtyLimit);
        Assert.False(defaults.LogRequestCounts);
        var off = MountOptionParser.Parse(["no_writeback_cache,strict_dirty_limit,request_stats"]).Fuse;
        Assert.False(off.WritebackCache || off.LiftDirtyLimit);
        Assert.True(off.LogRequestCounts);
        Assert.True(MountOptionParser.Parse(["no_writeback_cache", "writeback_cache"]).Fuse.WritebackCache);
    }

    [Fact]
    public void IoUringIsOnUnlessTurnedOff()
    {
        Assert.True(MountOptionParser.Parse([]).Fuse.IoUring);
        Assert.False(MountOptionParser.Parse(["no_io_uring"]).Fuse.IoUring);
        Assert.True(MountOptionParser.Parse(["no_io_uring", "io_uring"]).Fuse.IoUring);
        var deep = MountOptionParser.Parse(["io_uring_depth=16"]).Fuse;
        Assert.True(deep.IoUring);
        Assert.Equal(16, deep.IoUringDepth);
        Assert.Throws<ToolException>(() => MountOptionParser.Parse(["io_uring_depth=0"]));
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("threads=0")]
    [InlineData("umask=999")]
    [InlineData("uid=")]
    [InlineData("cache=lots")]
    [InlineData("attr_timeout=-1")]
    public void BadOptionsAreRefusedWithExitCodeOne(string options)
    {
        var e = Assert.Throws<ToolException>(() => MountOptionParser.Parse([options]));
        Assert.Equal(1, e.ExitCode);
    }

    [Fact]
    public void MountHelperFormMeansMount()
    {
        string[] commands = ["mount", "ls", "unmount", "umount"];
        Assert.Equal(["mount", "disk.img", "/mnt", "-o", "rw"], MountCommand.AsMountHelper(["disk.img", "/mnt", "-o", "rw"], commands));
        Assert.Equal(["ls", "disk.img"], MountCommand.AsMountHelper(["ls", "disk.img"], commands));
        Assert.Equal(["--help"], MountCommand.AsMountHelper(["--help"], commands));
    }
}
