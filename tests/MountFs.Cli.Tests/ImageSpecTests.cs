using MountFs.Tool.ImageFiles;

namespace MountFs.Cli.Tests;

/// <summary>How an IMAGE operand splits into a path and a "@N" partition number.</summary>
public sealed class ImageSpecTests
{
    [Theory]
    [InlineData("disk.img@1", "disk.img", 1)]
    [InlineData("disk.img@123", "disk.img", 123)]
    [InlineData("a@b.img@07", "a@b.img", 7)]
    [InlineData("/dev/loop0@5", "/dev/loop0", 5)]
    public void Partition_suffix_splits_at_the_last_at_sign(string operand, string path, int number)
    {
        Assert.Equal((path, number), ImageSpec.SplitPartition(operand));
    }

    [Theory]
    [InlineData("disk.img")]
    [InlineData("@1")]
    [InlineData("disk.img@")]
    [InlineData("disk.img@1234")]
    [InlineData("disk.img@1a")]
    [InlineData("disk.img@-1")]
    [InlineData("disk.img@+1")]
    [InlineData("disk.img@ 1")]
    [InlineData("disk.img@١")]
    [InlineData("disk@1.img")]
    public void Anything_else_has_no_partition(string operand)
    {
        Assert.Null(ImageSpec.SplitPartition(operand));
    }

    [Fact]
    public void Suffix_on_a_missing_file_names_nothing()
    {
        Assert.Null(ImageSpec.TryParse(Path.Combine(Path.GetTempPath(), "mountfs-no-such-" + Guid.NewGuid().ToString("N")) + "@1"));
    }
}
