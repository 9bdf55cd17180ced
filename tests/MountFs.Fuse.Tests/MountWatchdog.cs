using System.Diagnostics;
using MountFs.Fuse.Mounting;

namespace MountFs.Fuse.Tests;

/// <summary>
/// Makes a hung real-mount test fail fast instead of stalling the whole run: unless disposed within the
/// deadline, it aborts the mount's FUSE connection and detaches the mount, so every waiter in the test wakes
/// with an error.
/// </summary>
/// <remarks>It is a separate process (sh), because the hangs it guards against can stop every managed thread of
/// the test process (a stop-the-world GC waiting for a thread stuck in a page fault on the mount); a timer
/// thread of our own would then never run.</remarks>
internal sealed class MountWatchdog : IDisposable
{
    // Far above any test's own time (the slowest, an ext2 daemon mount, takes ~5 s alone and ten times that
    // when the 2-core CI machine is shared), yet minutes instead of the CI job's 90-minute limit.
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(150);

    // Acts only while $2 is still the mount of connection $3: a watchdog that outlived its test process (killed
    // before Dispose) must not abort a later mount that reused the connection number or the directory.
    // fusectl is not mounted everywhere (it was not on our CI machine), and abort lives there.
    private const string Script = """
        sleep "$1" || exit 0
        awk -v dev="0:$3" -v dir="$2" '$3 == dev && $5 == dir { found = 1 } END { exit !found }' /proc/self/mountinfo || exit 0
        echo "mountfs test watchdog: $2 still mounted after $1 s: aborting FUSE connection $3 and detaching it" >&2
        [ -e "/sys/fs/fuse/connections/$3/abort" ] || mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null
        echo 1 > "/sys/fs/fuse/connections/$3/abort"
        umount -l "$2"
        exit 0
        """;

    private readonly Process _process;
    private readonly string _mountPoint;
    private readonly TimeSpan _deadline;

    private MountWatchdog(Process process, string mountPoint, TimeSpan deadline)
    {
        _process = process;
        _mountPoint = mountPoint;
        _deadline = deadline;
    }

    /// <summary>Guards the FUSE mount on <paramref name="mountPoint"/>; null where it has no connection id to abort.</summary>
    public static MountWatchdog? Start(string mountPoint, TimeSpan? deadline = null)
    {
        var entry = MountTable.Find(mountPoint);
        if (entry is not { Major: 0 }) return null;
        var limit = deadline ?? DefaultDeadline;
        var start = new ProcessStartInfo("sh") { UseShellExecute = false };
        foreach (string argument in new[] { "-c", Script, "mount-watchdog", ((int)limit.TotalSeconds).ToString(), entry.MountPoint, entry.Minor.ToString() })
            start.ArgumentList.Add(argument);
        return new MountWatchdog(Process.Start(start) ?? throw new InvalidOperationException("cannot start sh"), mountPoint, limit);
    }

    /// <summary>Whether the deadline passed and the mount was broken.</summary>
    public bool Fired { get; private set; }

    /// <summary>Fails the test when the watchdog had to break the mount.</summary>
    public void ThrowIfFired()
    {
        if (Fired) Assert.Fail($"{_mountPoint} hung: the watchdog aborted the FUSE connection after {_deadline.TotalSeconds:0} s");
    }

    public void Dispose()
    {
        if (_process.HasExited) Fired = true;
        else
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
