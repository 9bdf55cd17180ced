using System.Diagnostics;
using System.Text;
using MountFs.Tool;

namespace MountFs.Cli.Tests;

/// <summary>What one run of the tool produced.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error, byte[] Binary)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}

/// <summary>Runs `mountfs` in-process through Program.Run, with its own output channels, in a scratch directory.</summary>
public sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Directory = Path.Combine(Path.GetTempPath(), "mountfs-cli-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>A scratch directory removed at the end of the test.</summary>
    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var binary = new MemoryStream();
        var context = new ToolContext(Program.CreateRegistry(), output, error, binary, interactive: false);
        int code = Program.Run(args, context);
        return new CliResult(code, output.ToString(), error.ToString(), binary.ToArray());
    }

    /// <summary>Runs and asserts success, showing the tool's output when it failed.</summary>
    public CliResult Ok(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, $"mountfs {string.Join(' ', args)}: {result}");
        return result;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The real tools that judge our images (e2fsck, fsck.fat, debugfs, mtools, sfdisk).</summary>
public static class ExternalTool
{
    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Concat(["/sbin", "/usr/sbin"])
            .Any(dir => File.Exists(Path.Combine(dir, name)));

    public static (int ExitCode, string Output) Run(string name, params string[] args) => RunWithInput(name, null, args);

    public static (int ExitCode, string Output) RunWithInput(string name, string? input, params string[] args)
    {
        var start = new ProcessStartInfo(name)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["PATH"] = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/sbin:/usr/sbin";
        // mtools refuses images whose geometry it finds odd unless told not to care.
        start.Environment["MTOOLS_SKIP_CHECK"] = "1";
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>Raw bytes of a command's stdout (debugfs cat, mtype).</summary>
    public static byte[] RunBinary(string name, params string[] args) => RunCaptured(name, args).Out;

    /// <summary>Exit code, raw stdout and stderr of a command, kept apart.</summary>
    public static (int ExitCode, byte[] Out, string Error) RunCaptured(string name, params string[] args)
    {
        var start = new ProcessStartInfo(name) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["MTOOLS_SKIP_CHECK"] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var buffer = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        process.WaitForExit();
        return (process.ExitCode, buffer.ToArray(), stderr.Result);
    }

    public static void SkipUnless(params string[] names)
    {
        foreach (string name in names)
            Skip.IfNot(Exists(name), $"{name} is not installed (scripts/setup.sh installs it)");
    }

    /// <summary>Asserts the judge finds nothing wrong, with its report on failure.</summary>
    public static void AssertClean(string image, string layout)
    {
        var (code, output) = layout == "ext2"
            ? Run("e2fsck", "-fn", image)
            : Run("fsck.fat", "-n", image);
        Assert.True(code == 0, $"{(layout == "ext2" ? "e2fsck -fn" : "fsck.fat -n")} {image} exited {code}:\n{output}");
    }

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
