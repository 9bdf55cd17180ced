using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace MountFs.Blocks.Tests;

public sealed class BoundedBlockDeviceTests
{
    private const int Sector = 512;
    private const long WindowOffset = 16 * Sector;
    private const long WindowLength = 40 * Sector;
    private const long OuterLength = 64 * Sector;

    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 100)]
    public void Matches_a_model_and_leaves_the_outside_untouched(DeviceOperation[] operations)
    {
        var outside = DeviceModelCheck.Pattern((int)OuterLength, 99, 0);
        var inner = new MemoryBlockDevice(outside);
        var spy = new AccessSpyDevice(inner, WindowOffset, WindowLength);
        using var view = new BoundedBlockDevice(spy, WindowOffset, WindowLength);
        DeviceModelCheck.Run(view, operations, outside.AsSpan((int)WindowOffset, (int)WindowLength).ToArray());
        AssertOutsideUntouched(inner, outside);
    }

    /// <summary>Offsets that break naive checks: edges, one sector either side, sign changes, overflow of offset+length.</summary>
    private static readonly long[] NastyOffsets =
    [
        0, Sector, -Sector, -1, 1, WindowLength - Sector, WindowLength, WindowLength + Sector, WindowLength - 1,
        OuterLength, OuterLength - WindowOffset, -WindowOffset, long.MaxValue, long.MinValue, long.MaxValue - Sector + 1,
        long.MaxValue - WindowOffset + 1, long.MinValue + Sector, (long.MaxValue / Sector) * Sector, -(long.MaxValue / Sector) * Sector,
    ];

    private static readonly long[] NastyLengths =
    [
        0, Sector, 2 * Sector, WindowLength, WindowLength - Sector, WindowLength + Sector, OuterLength, -Sector, -1, 1,
        long.MaxValue, long.MinValue, long.MaxValue - Sector + 1, (long.MaxValue / Sector) * Sector, long.MaxValue - WindowOffset + 1,
    ];

    public static Arbitrary<(long Offset, long Length)> Requests() =>
        (from offset in Gen.OneOf(Gen.Elements(NastyOffsets), Gen.Choose(-80, 80).Select(s => (long)s * Sector), Gen.Choose(-80, 80).Select(s => s * Sector + 7L))
         from delta in Gen.Choose(-2, 2)
         from length in Gen.OneOf(Gen.Elements(NastyLengths), Gen.Choose(0, 80).Select(s => (long)s * Sector))
         select (offset + delta * (long)Sector, length)).ToArbitrary();

    [Property(Arbitrary = [typeof(BoundedBlockDeviceTests)], MaxTest = 2000)]
    public void Every_request_is_inside_the_window_or_refused((long Offset, long Length) request)
    {
        var outside = DeviceModelCheck.Pattern((int)OuterLength, 42, 0);
        var inner = new MemoryBlockDevice(outside);
        var spy = new AccessSpyDevice(inner, WindowOffset, WindowLength);
        using var view = new BoundedBlockDevice(spy, WindowOffset, WindowLength);
        (long offset, long length) = request;
        bool valid = offset >= 0 && length >= 0 && offset % Sector == 0 && length % Sector == 0 && offset <= WindowLength && length <= WindowLength - offset;

        Expect(valid, () => view.Discard(offset, length));
        if (length is >= 0 and <= 1 << 20)
        {
            Expect(valid, () => view.Write(offset, new byte[length]));
            Expect(valid, () => view.Read(offset, new byte[length]));
        }
        AssertOutsideUntouched(inner, outside);
    }

    [Theory]
    [InlineData(-512, 512)]
    [InlineData(0, OuterLength + Sector)]
    [InlineData(OuterLength - Sector, 2 * Sector)]
    [InlineData(100, 512)]
    [InlineData(512, 100)]
    [InlineData(long.MaxValue - 511, 1024)]
    [InlineData(512, long.MaxValue - 511)]
    [InlineData(OuterLength, 0)]
    public void A_window_outside_the_device_cannot_be_made(long offset, long length)
    {
        using var inner = new MemoryBlockDevice(OuterLength);
        if (offset == OuterLength && length == 0)
        {
            using var empty = new BoundedBlockDevice(inner, offset, length);
            Assert.Throws<ArgumentOutOfRangeException>(() => empty.Read(0, new byte[Sector]));
            return;
        }
        Assert.ThrowsAny<ArgumentException>(() => new BoundedBlockDevice(inner, offset, length));
    }

    [Fact]
    public void Read_only_view_of_a_writable_device_refuses_writes()
    {
        using var inner = new MemoryBlockDevice(OuterLength);
        using var view = new BoundedBlockDevice(inner, WindowOffset, WindowLength, readOnly: true);
        Assert.True(view.IsReadOnly);
        Assert.Throws<ReadOnlyDeviceException>(() => view.Write(0, new byte[Sector]));
        Assert.Throws<ReadOnlyDeviceException>(() => view.Discard(0, Sector));
    }

    [Fact]
    public void Disposing_leaves_the_inner_device_open_unless_asked()
    {
        var inner = new MemoryBlockDevice(OuterLength);
        new BoundedBlockDevice(inner, 0, Sector).Dispose();
        inner.Read(0, new byte[Sector]);
        new BoundedBlockDevice(inner, 0, Sector, leaveOpen: false).Dispose();
        Assert.Throws<ObjectDisposedException>(() => inner.Read(0, new byte[Sector]));
    }

    private static void Expect(bool valid, Action action)
    {
        if (valid)
            action();
        else
            Assert.ThrowsAny<ArgumentException>(action);
    }

    private static void AssertOutsideUntouched(MemoryBlockDevice inner, byte[] original)
    {
        var now = inner.Contents;
        Assert.True(now[..(int)WindowOffset].SequenceEqual(original.AsSpan(0, (int)WindowOffset)), "bytes before the window changed");
        Assert.True(now[(int)(WindowOffset + WindowLength)..].SequenceEqual(original.AsSpan((int)(WindowOffset + WindowLength))), "bytes after the window changed");
    }
}
