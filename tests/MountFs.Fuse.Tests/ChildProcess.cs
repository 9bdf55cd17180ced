using System.Diagnostics;

namespace MountFs.Fuse.Tests;

/// <summary>Runs a command line tool and returns its exit code and output.</summary>
internal static class ChildProcess
{
    public static (int Code, string Output) Run(string file, params string[] args) => RunIn(null, file, args);

    public static (int Code, string Output) RunIn(string? workingDirectory, string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "/",
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string Sh(string script)
    {
        var (code, output) = Run("/bin/sh", "-c", script);
        Assert.True(code == 0, $"sh -c '{script}' exited {code}: {output}");
        return output;
    }
}
