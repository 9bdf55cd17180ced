using MountFs.Tool;

namespace MountFs.Cli.Tests;

public sealed class SizeArgumentTests
{
    [Theory]
    [InlineData("64M", 64L << 20)]
    [InlineData("64m", 64L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("2T", 2L << 40)]
    [InlineData("100K", 100L << 10)]
    [InlineData("2048s", 2048L * 512)]
    [InlineData("1024", 1024L * 1024)]
    public void Parses_mke2fs_suffixes(string text, long bytes) => Assert.Equal(bytes, SizeArgument.Parse(text));

    [Fact]
    public void Bare_number_counts_blocks_when_a_block_size_is_given() =>
        Assert.Equal(1000L * 4096, SizeArgument.Parse("1000", bareUnit: 4096));

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("12Q")]
    [InlineData("-5M")]
    [InlineData("1.5G")]
    [InlineData("99999999999999999999")]
    [InlineData("9999999999T")]
    public void Rejects_what_is_not_a_size(string text) => Assert.Null(SizeArgument.Parse(text));

    [Theory]
    [InlineData(512L, "512 bytes")]
    [InlineData(64L << 20, "64.0 MiB")]
    [InlineData(1536L, "1.5 KiB")]
    public void Formats_for_reports(long bytes, string text) => Assert.Equal(text, SizeArgument.Format(bytes));
}
