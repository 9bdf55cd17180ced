namespace MountFs.Ext.Tests;

/// <summary>A loop mount of an image by the Linux kernel's ext2 driver, unmounted on dispose.</summary>
internal sealed class KernelMount : IDisposable
{
    public string Path { get; }

    private KernelMount(string path) => Path = path;

    /// <summary>Why kernel mounts cannot run here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root") return "not running as root";
        if (!File.Exists("/dev/loop-control")) return "no loop devices";
        if (!File.ReadAllText("/proc/filesystems").Contains("ext2")) return "kernel has no ext2 driver";
        return null;
    }

    public static KernelMount Mount(string image, bool readOnly = false)
    {
        string dir = Directory.CreateTempSubdirectory("ext-mnt-").FullName;
        var r = ExternalTool.Run("mount", "-o", readOnly ? "loop,ro" : "loop", "-t", "ext2", image, dir);
        if (r.Exit != 0)
        {
            Directory.Delete(dir);
            throw new InvalidOperationException($"mount failed ({r.Exit}): {r.Err}");
        }
        return new KernelMount(dir);
    }

    public void Dispose()
    {
        var r = ExternalTool.Run("umount", Path);
        if (r.Exit != 0) ExternalTool.Run("umount", "-l", Path);
        try { Directory.Delete(Path); } catch (IOException) { }
    }
}
