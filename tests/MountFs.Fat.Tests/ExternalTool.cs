using System.Diagnostics;

namespace MountFs.Fat.Tests;

/// <summary>Runs dosfstools / mtools and captures what they say.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string Output, byte[] Stdout);

    public static bool Exists(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, tool)))
        || File.Exists("/usr/sbin/" + tool) || File.Exists("/sbin/" + tool);

    public static Result Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MTOOLS_SKIP_CHECK"] = "1";
        psi.Environment["MTOOLS_NO_VFAT"] = "";
        psi.Environment["LC_ALL"] = "C.UTF-8";
        psi.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        using var p = Process.Start(psi)!;
        var ms = new MemoryStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(ms);
        string err = p.StandardError.ReadToEnd();
        outTask.Wait();
        p.WaitForExit();
        var bytes = ms.ToArray();
        return new Result(p.ExitCode, System.Text.Encoding.UTF8.GetString(bytes) + err, bytes);
    }

    /// <summary>fsck.fat -n -v: exit 0 and no problem lines.</summary>
    public static Result FsckCheck(string image) => Run("fsck.fat", "-n", "-v", image);

    public static void AssertFsckClean(string image)
    {
        var r = FsckCheck(image);
        Assert.True(r.ExitCode == 0, $"fsck.fat -n reported problems (exit {r.ExitCode}):\n{r.Output}");
    }
}
