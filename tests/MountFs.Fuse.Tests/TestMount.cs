using MountFs.Fuse;
using MountFs.Memory;
using MountFs.Vfs;

namespace MountFs.Fuse.Tests;

/// <summary>A real FUSE mount of a file system on a fresh temp directory, always torn down (lazily if need be).</summary>
public sealed class TestMount : IDisposable
{
    private readonly List<string> _log;
    private readonly MountWatchdog? _watchdog;

    private TestMount(IFileSystem fileSystem, string directory, FuseMount mount, List<string> log)
    {
        _watchdog = MountWatchdog.Start(directory);
        FileSystem = fileSystem;
        Root = directory;
        Mount = mount;
        _log = log;
    }

    public IFileSystem FileSystem { get; }
    public string Root { get; }
    public FuseMount Mount { get; }
    public IReadOnlyList<string> Log { get { lock (_log) return [.. _log]; } }

    public string this[string relative] => Path.Combine(Root, relative);

    public static string NewDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fuse-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Skips (with the reason printed by xunit) where the kernel cannot mount FUSE at all.</summary>
    public static void SkipIfUnavailable()
    {
        Skip.IfNot(File.Exists("/dev/fuse"), "/dev/fuse is absent: real FUSE mounts cannot run here");
    }

    public static TestMount Start(IFileSystem? fileSystem = null, FuseOptions? options = null)
    {
        SkipIfUnavailable();
        fileSystem ??= new MemoryFileSystem();
        string dir = NewDirectory();
        var log = new List<string>();
        try
        {
            var mount = FuseMount.Start(fileSystem, dir, (options ?? new FuseOptions()) with { FsName = "test-memory" },
                line => { lock (log) log.Add(line); }, ownsFileSystem: true);
            return new TestMount(fileSystem, dir, mount, log);
        }
        catch
        {
            Directory.Delete(dir);
            throw;
        }
    }

    /// <summary>Lines the dispatcher logged for exceptions other than <see cref="FsException"/>: bugs.</summary>
    public IReadOnlyList<string> InternalErrors => Log.Where(l => l.Contains(" failed: ", StringComparison.Ordinal)).ToList();

    public void Dispose()
    {
        Mount.Dispose();
        _watchdog?.Dispose();
        _watchdog?.ThrowIfFired();
        // A layout bug answered EIO would otherwise pass unnoticed wherever the caller tolerates errors.
        Assert.Empty(InternalErrors);
        try
        {
            if (MountFs.Fuse.Mounting.MountTable.Find(Root) is null) Directory.Delete(Root);
        }
        catch (IOException)
        {
        }
    }
}
