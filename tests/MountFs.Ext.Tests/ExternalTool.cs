using System.Diagnostics;

namespace MountFs.Ext.Tests;

/// <summary>Runs e2fsprogs (and mount) for interop tests, capturing output.</summary>
internal static class ExternalTool
{
    public static bool Exists(string name) =>
        new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Any(d => File.Exists(Path.Combine(d, name)));

    /// <summary>mke2fs, debugfs and e2fsck, which the checker tests need together.</summary>
    public static bool E2fsprogsPresent => Exists("mke2fs") && Exists("debugfs") && Exists("e2fsck");

    public static (int Exit, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static byte[] RunBytes(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        return ms.ToArray();
    }

    /// <summary>A fresh image file from mke2fs -t ext2 with the given extra options.</summary>
    public static string MakeImage(string dir, long sizeBytes, params string[] mkfsArgs)
    {
        string path = Path.Combine(dir, $"img-{Guid.NewGuid():N}.ext2");
        using (var f = File.Create(path)) f.SetLength(sizeBytes);
        var args = new List<string> { "-q", "-F", "-t", "ext2" };
        args.AddRange(mkfsArgs);
        args.Add(path);
        var r = Run("mke2fs", args.ToArray());
        if (r.Exit != 0) throw new InvalidOperationException($"mke2fs failed: {r.Err}");
        return path;
    }

    public static (int Exit, string Output) Fsck(string image)
    {
        var r = Run("e2fsck", "-fn", image);
        return (r.Exit, r.Out + r.Err);
    }

    /// <summary>Fails the test with e2fsck's report unless `e2fsck -fn` finds nothing.</summary>
    public static void AssertFsckClean(string image)
    {
        var (exit, output) = Fsck(image);
        Xunit.Assert.True(exit == 0, output);
    }
}

/// <summary>A per-test scratch folder under /tmp, removed on dispose.</summary>
internal sealed class ScratchDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ext-test-").FullName;
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

/// <summary>Reads an image while our device may hold it open (the device takes a lock that File.ReadAllBytes honours).</summary>
internal static class ImageFile
{
    /// <summary>
    /// Opens an image, retrying briefly while it is locked: a process forked by a parallel test between its fork and
    /// exec still holds a copy of our just-closed descriptor, and with it the device's flock.
    /// </summary>
    public static MountFs.Blocks.FileBlockDevice Open(string path, bool readOnly = false)
    {
        for (int attempt = 0; ; attempt++)
        {
            try { return MountFs.Blocks.FileBlockDevice.Open(path, readOnly); }
            catch (MountFs.Blocks.DeviceLockedException) when (attempt < 50) { Thread.Sleep(100); }
        }
    }

    public static byte[] ReadAll(string path) => ExternalTool.RunBytes("cat", path);

    public static SuperBlock Super(string path) =>
        SuperBlock.Read(ExternalTool.RunBytes("dd", $"if={path}", "bs=1024", "skip=1", "count=1", "status=none"));
}
