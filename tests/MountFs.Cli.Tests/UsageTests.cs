using MountFs.Tool;

namespace MountFs.Cli.Tests;

/// <summary>Exit codes scripts rely on: 0 ok, 1 failure, 2 usage; fsck uses fsck(8)'s 8 and 16.</summary>
public sealed class UsageTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    public static TheoryData<string> Commands => new() { "info", "mkfs", "fsck", "ls", "cat", "cp", "mkdir", "rm" };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_has_help(string command)
    {
        var result = _cli.Run(command, "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Out);
        Assert.Contains($"mountfs {command}", result.Out);
    }

    [Theory]
    [InlineData("fsck -fh")]
    [InlineData("fsck -n -?")]
    [InlineData("mkfs /h")]
    public void Help_inside_bundles_and_other_aliases_still_shows_help(string commandLine)
    {
        var result = _cli.Ok(commandLine.Split(' '));
        Assert.Contains("Usage:", result.Out);
        Assert.Contains("--help", result.Out);
    }

    [Fact]
    public void Help_from_a_response_file_still_shows_help()
    {
        File.WriteAllText(_cli.PathOf("args.rsp"), "mkfs\n--help\n");
        var result = _cli.Ok("@" + _cli.PathOf("args.rsp"));
        Assert.Contains("mountfs mkfs", result.Out);
    }

    [Fact]
    public void Top_level_help_lists_version_and_version_prints_one_line()
    {
        Assert.Contains("--version", _cli.Ok("--help").Out);
        var version = _cli.Ok("--version");
        Assert.Single(version.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(false, "mkfs -t ext2 x.img 1G")]
    [InlineData(false, "fsck -f -n x.img")]
    [InlineData(false, "cp -r dir x.img:/h")]
    [InlineData(true, "fsck -fnh x.img")]
    [InlineData(true, "ls x.img --help")]
    [InlineData(true, "@args.rsp")]
    [InlineData(true, "--version")]
    public void Help_and_version_are_built_only_when_a_token_may_select_them(bool expected, string commandLine)
    {
        Assert.Equal(expected, Program.MayAskForHelpOrVersion(commandLine.Split(' ')));
    }

    [Fact]
    public void Top_level_help_lists_the_commands()
    {
        var result = _cli.Ok("--help");
        foreach (string command in Commands)
            Assert.Contains(command, result.Out);
    }

    [Theory]
    [InlineData("")]
    [InlineData("frobnicate")]
    [InlineData("info")]
    [InlineData("info --bogus x.img")]
    [InlineData("ls")]
    [InlineData("cp only-one")]
    [InlineData("mkfs")]
    [InlineData("mkfs -N many x.img")]
    public void Usage_errors_exit_2_with_a_hint(string commandLine)
    {
        var result = _cli.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--help", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public void Bad_size_is_a_usage_error()
    {
        var result = _cli.Run("mkfs", "-t", "ext2", _cli.PathOf("x.img"), "12Q");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(["mountfs: 12Q: not a size (examples: 64M, 1G, 2048s)"], result.ErrorLines);
        Assert.False(File.Exists(_cli.PathOf("x.img")));
    }

    [Fact]
    public void Unknown_type_is_a_usage_error()
    {
        var result = _cli.Run("mkfs", "-t", "zfs", _cli.PathOf("x.img"), "8M");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown file-system type", result.Error);
    }

    [Theory]
    [InlineData("fsck -n -y x.img")]
    [InlineData("fsck -p -y x.img")]
    [InlineData("fsck --what x.img")]
    [InlineData("fsck")]
    public void Fsck_usage_errors_exit_16(string commandLine)
    {
        var result = _cli.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(16, result.ExitCode);
    }

    [Fact]
    public void Fsck_of_a_missing_image_is_an_operational_error()
    {
        var result = _cli.Run("fsck", "-n", _cli.PathOf("gone.img"));
        Assert.Equal(8, result.ExitCode);
        Assert.Single(result.ErrorLines);
    }

    [Fact]
    public void Fsck_of_an_image_without_a_file_system_is_an_operational_error()
    {
        string image = _cli.PathOf("blank.img");
        File.WriteAllBytes(image, new byte[1 << 20]);
        var result = _cli.Run("fsck", "-n", image);
        Assert.Equal(8, result.ExitCode);
        Assert.Contains("no recognised file system", result.Error);
    }

    [Fact]
    public void Cp_between_two_host_paths_is_refused()
    {
        File.WriteAllText(_cli.PathOf("a.txt"), "a");
        var result = _cli.Run("cp", _cli.PathOf("a.txt"), _cli.PathOf("b.txt"));
        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(_cli.PathOf("b.txt")));
    }
}
