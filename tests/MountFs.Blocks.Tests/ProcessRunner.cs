using System.Diagnostics;

namespace MountFs.Blocks.Tests;

/// <summary>Runs external tools (flock, losetup, sfdisk, sgdisk) for tests.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string file, params string[] arguments) => RunWithInput(file, null, arguments);

    public static Result RunWithInput(string file, string? standardInput, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new Result(process.ExitCode, output, error.Result);
    }

    public static string? Find(string tool)
    {
        foreach (var dir in new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" })
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path))
                return path;
        }
        return null;
    }
}
