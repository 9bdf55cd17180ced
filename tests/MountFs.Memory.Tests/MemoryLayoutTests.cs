using MountFs.Blocks;
using MountFs.Vfs;
using static MountFs.Memory.Tests.MemoryFixture;

namespace MountFs.Memory.Tests;

public class MemoryLayoutTests
{
    private sealed class TrackedDevice : IBlockDevice
    {
        public bool Disposed { get; private set; }
        public string Name => "tracked";
        public long Length => 1 << 20;
        public int SectorSize => 512;
        public bool IsReadOnly => false;
        public void Read(long offset, Span<byte> buffer) => buffer.Fill(0xAA);
        public void Write(long offset, ReadOnlySpan<byte> data) => throw new InvalidOperationException("memory layout wrote to its device");
        public void Flush() { }
        public void Discard(long offset, long length) { }
        public void Dispose() => Disposed = true;
    }

    private readonly MemoryLayout _layout = new();

    [Fact]
    public void Never_recognises_a_device()
    {
        using var device = new TrackedDevice();
        Assert.Equal("memory", _layout.Name);
        Assert.False(_layout.Probe(device));
    }

    [Fact]
    public void Mount_gives_an_empty_tmpfs_like_root_and_disposes_the_device()
    {
        var device = new TrackedDevice();
        using var fs = _layout.Mount(device, new MountOptions());
        Assert.True(device.Disposed);
        var root = fs.GetAttributes(fs.RootNode);
        Assert.Equal(UnixFileMode.Directory | 0x3FFu, root.Mode);
        Assert.Equal(2u, root.Links);
        Assert.IsType<MemoryFileSystem>(fs);
    }

    [Fact]
    public void Mount_honours_tmpfs_options_and_refuses_unknown_ones()
    {
        var options = new MountOptions
        {
            ReadOnly = false,
            Extra = new Dictionary<string, string> { ["size"] = "8m", ["nr_inodes"] = "100", ["mode"] = "750", ["uid"] = "1000", ["gid"] = "5" },
        };
        using var fs = _layout.Mount(new TrackedDevice(), options);
        var stats = fs.GetStatistics();
        Assert.Equal(8L * 1024 * 1024 / MemoryFileSystem.BlockSize, stats.Blocks);
        Assert.Equal(100, stats.Files);
        var root = fs.GetAttributes(fs.RootNode);
        Assert.Equal(0x1E8u, root.Mode & UnixFileMode.PermissionMask);
        Assert.Equal(1000u, root.Uid);
        Assert.Equal(5u, root.Gid);
        var bad = new MountOptions { Extra = new Dictionary<string, string> { ["journal"] = "" } };
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _layout.Mount(new TrackedDevice(), bad)));
        var badSize = new MountOptions { Extra = new Dictionary<string, string> { ["size"] = "12q" } };
        Assert.Equal(Errno.EINVAL, ErrnoOf(() => _layout.Mount(new TrackedDevice(), badSize)));
    }

    [Fact]
    public void Read_only_mount_reports_it_in_the_capabilities()
    {
        using var fs = _layout.Mount(new TrackedDevice(), new MountOptions { ReadOnly = true });
        Assert.True(fs.Capabilities.ReadOnly);
    }
}
