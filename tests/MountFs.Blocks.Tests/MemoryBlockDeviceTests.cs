using FsCheck.Xunit;

namespace MountFs.Blocks.Tests;

public sealed class MemoryBlockDeviceTests
{
    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 100)]
    public void Matches_a_byte_array_model(DeviceOperation[] operations)
    {
        using var device = new MemoryBlockDevice(96 * 512);
        DeviceModelCheck.Run(device, operations);
    }

    [Fact]
    public void Copies_the_initial_contents_and_snapshots()
    {
        var contents = DeviceModelCheck.Pattern(4096, 3, 0);
        using var device = new MemoryBlockDevice(contents);
        contents[0] ^= 0xFF;
        var snapshot = device.ToArray();
        Assert.NotEqual(contents[0], snapshot[0]);
        device.Write(0, new byte[512]);
        Assert.NotEqual(0, snapshot[1]);
        Assert.Equal(0, device.ToArray()[1]);
    }

    [Fact]
    public void Read_only_refuses_writes_and_discards()
    {
        using var device = new MemoryBlockDevice(new byte[1024], readOnly: true);
        Assert.Throws<ReadOnlyDeviceException>(() => device.Write(0, new byte[512]));
        Assert.Throws<ReadOnlyDeviceException>(() => device.Discard(0, 512));
    }

    [Theory]
    [InlineData(-512, 512)]
    [InlineData(1, 512)]
    [InlineData(0, 513)]
    [InlineData(1024, 512)]
    [InlineData(512, 1024)]
    public void Rejects_misaligned_and_out_of_range_requests(long offset, int length)
    {
        using var device = new MemoryBlockDevice(1024);
        Assert.ThrowsAny<ArgumentException>(() => device.Read(offset, new byte[length]));
        Assert.ThrowsAny<ArgumentException>(() => device.Write(offset, new byte[length]));
        DeviceModelCheck.AssertZero(device.ToArray());
    }

    [Fact]
    public void Rejects_lengths_that_are_not_whole_sectors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBlockDevice(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBlockDevice(4096, sectorSize: 1000));
    }
}
