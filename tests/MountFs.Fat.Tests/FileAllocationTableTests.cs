namespace MountFs.Fat.Tests;

public class FileAllocationTableTests
{
    [Fact]
    public void Fat12_PacksTwelveBitEntries_AsTheSpecSays()
    {
        var raw = new byte[512];
        var fat = new FileAllocationTable(FatType.Fat12, 300, raw, 512);
        fat.SetRaw(2, 0xABC);
        fat.SetRaw(3, 0x123);
        // Entry 2 at byte 3 (low 12 bits), entry 3 at byte 4 (high 12 bits).
        Assert.Equal(0xBC, raw[3]);
        Assert.Equal(0x3A, raw[4]);
        Assert.Equal(0x12, raw[5]);
        Assert.Equal(0xABCu, fat.Get(2));
        Assert.Equal(0x123u, fat.Get(3));
        fat.SetRaw(3, 0xFFF);
        Assert.Equal(0xABCu, fat.Get(2));
    }

    [Fact]
    public void Fat32_KeepsTheTopFourBits()
    {
        var raw = new byte[512];
        raw[4 * 5 + 3] = 0xF0;
        var fat = new FileAllocationTable(FatType.Fat32, 100, raw, 512);
        Assert.Equal(0u, fat.Get(5));
        fat.Set(5, 0x0FFFFFFF);
        Assert.Equal(0xFF, raw[23]);
        fat.Set(5, 7);
        Assert.Equal(0xF0, raw[23]);
        Assert.Equal(7u, fat.Get(5));
    }

    [Theory]
    [InlineData(FatType.Fat12, 4000)]
    [InlineData(FatType.Fat16, 60000)]
    [InlineData(FatType.Fat32, 70000)]
    public void Allocate_IsContiguous_CountsFree_AndFreesBack(FatType type, int clusters)
    {
        var raw = new byte[FileAllocationTable.RequiredBytes(type, (uint)clusters) + 512];
        var fat = new FileAllocationTable(type, (uint)clusters, raw, 512);
        Assert.Equal((uint)clusters, fat.FreeCount);
        var a = fat.Allocate(10, 0);
        Assert.Equal(Enumerable.Range((int)a[0], 10).Select(x => (uint)x), a);
        var b = fat.Allocate(5, 0);
        var more = fat.Allocate(3, a[^1]); // extending a: a's neighbour is taken, so goes elsewhere but linked
        Assert.Equal(more[0], fat.Get(a[^1]));
        Assert.True(fat.IsEndOfChain(fat.Get(more[^1])));
        Assert.Equal((uint)clusters - 18, fat.FreeCount);
        var chain = ClusterChain.Walk(fat, a[0], long.MaxValue, "t", "a");
        Assert.Equal(a.Concat(more), chain);
        fat.Free(chain);
        fat.Free(b);
        Assert.Equal((uint)clusters, fat.FreeCount);
    }

    [Fact]
    public void Walk_ReportsLoops_OutOfRange_AndFreeLinks_AsEuclean()
    {
        var raw = new byte[1024];
        var fat = new FileAllocationTable(FatType.Fat16, 400, raw, 512);
        fat.Set(2, 3); fat.Set(3, 4); fat.Set(4, 2);
        var e = Assert.Throws<MountFs.Vfs.FsException>(() => ClusterChain.Walk(fat, 2, long.MaxValue, "img", "f"));
        Assert.Equal(MountFs.Vfs.Errno.EUCLEAN, e.Errno);
        Assert.Contains("loops", e.Message);
        fat.Set(4, 5000);
        Assert.Contains("outside", Assert.Throws<MountFs.Vfs.FsException>(() => ClusterChain.Walk(fat, 2, long.MaxValue, "img", "f")).Message);
        fat.Set(4, 0);
        Assert.Contains("free", Assert.Throws<MountFs.Vfs.FsException>(() => ClusterChain.Walk(fat, 2, long.MaxValue, "img", "f")).Message);
        // A bounded walk stops before reaching the damage.
        Assert.Equal([2u, 3u], ClusterChain.Walk(fat, 2, 2, "img", "f"));
    }

    [Fact]
    public void TypeIsDecidedByClusterCount()
    {
        Assert.Equal(FatType.Fat12, FatGeometry.TypeForClusterCount(4084));
        Assert.Equal(FatType.Fat16, FatGeometry.TypeForClusterCount(4085));
        Assert.Equal(FatType.Fat16, FatGeometry.TypeForClusterCount(65524));
        Assert.Equal(FatType.Fat32, FatGeometry.TypeForClusterCount(65525));
    }
}
