namespace MountFs.Cli.Tests;

/// <summary>
/// The built tool run as its own process: Main's wiring of the real stdout, stderr and exit code. The tool is
/// `dotnet mountfs.dll` from this build, or the executable MOUNTFS_TOOL names (the native one scripts/setup.sh
/// publishes: `MOUNTFS_TOOL=artifacts/mountfs-native/mountfs dotnet test ... --filter ProcessTests`), so the same
/// checks judge either.
/// </summary>
public sealed class ProcessTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static (int ExitCode, byte[] Out, string Error) Mountfs(params string[] args)
    {
        string? tool = Environment.GetEnvironmentVariable("MOUNTFS_TOOL");
        return string.IsNullOrEmpty(tool)
            ? ExternalTool.RunCaptured("dotnet", [Path.Combine(AppContext.BaseDirectory, "mountfs.dll"), .. args])
            : ExternalTool.RunCaptured(Path.GetFullPath(tool), args);
    }

    [Fact]
    public void Missing_image_exits_1_with_one_line_and_no_stack_trace()
    {
        string image = _cli.PathOf("missing.img");
        var (code, output, error) = Mountfs("info", image);
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Equal($"mountfs: {image}: No such file or directory\n", error);
    }

    [Fact]
    public void Usage_errors_exit_2_and_fsck_usage_errors_16()
    {
        Assert.Equal(2, Mountfs("info").ExitCode);
        Assert.Equal(16, Mountfs("fsck", "-n", "-y", "x.img").ExitCode);
        var help = Mountfs("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("mountfs", ExternalTool.Text(help.Out));
    }

    [Fact]
    public void Cat_writes_binary_bytes_unchanged_to_stdout()
    {
        string image = _cli.PathOf("fat.img");
        _cli.Ok("mkfs", "-t", "fat", image, "16M");
        var bytes = new byte[300_000];
        new Random(99).NextBytes(bytes);
        string file = _cli.PathOf("data.bin");
        File.WriteAllBytes(file, bytes);
        _cli.Ok("cp", file, image + ":/data.bin");

        var (code, output, error) = Mountfs("cat", image + ":/data.bin");
        Assert.True(code == 0, error);
        Assert.Equal(bytes, output);
    }

    [SkippableFact]
    public void Mkfs_cp_ls_cat_and_fsck_work_end_to_end_in_the_tool_process()
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck"), "e2fsck not installed");
        string image = _cli.PathOf("ext2.img");
        var mkfs = Mountfs("mkfs", "-t", "ext2", image, "64M");
        Assert.True(mkfs.ExitCode == 0, mkfs.Error);
        Assert.Contains("ext2 file system of 64.0 MiB created", ExternalTool.Text(mkfs.Out));
        var bytes = new byte[70_000];
        new Random(7).NextBytes(bytes);
        string file = _cli.PathOf("data.bin");
        File.WriteAllBytes(file, bytes);
        Assert.Equal(0, Mountfs("mkdir", image + ":/dir").ExitCode);
        var cp = Mountfs("cp", file, image + ":/dir/data.bin");
        Assert.True(cp.ExitCode == 0, cp.Error);

        var ls = Mountfs("ls", image + ":/dir");
        Assert.Equal("data.bin\n", ExternalTool.Text(ls.Out));
        Assert.Equal(bytes, Mountfs("cat", image + ":/dir/data.bin").Out);
        var fsck = Mountfs("fsck", "-f", "-n", image);
        Assert.True(fsck.ExitCode == 0, ExternalTool.Text(fsck.Out) + fsck.Error);
        Assert.Contains("clean", ExternalTool.Text(fsck.Out));
        ExternalTool.AssertClean(image, "ext2");
    }
}
