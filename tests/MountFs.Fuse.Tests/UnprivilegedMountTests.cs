using MountFs.Fuse.Mounting;

namespace MountFs.Fuse.Tests;

/// <summary>
/// A user without privileges mounts through fusermount3 (set-uid root from the fuse3 package): the mount must
/// come up owned by that user, serve them, and come down again through `mountfs unmount`, all as that user.
/// </summary>
public sealed class UnprivilegedMountTests
{
    private const string Nobody = "65534";
    private static readonly string Tool = Path.Combine(AppContext.BaseDirectory, "mountfs");

    private static (int Code, string Output) AsNobody(params string[] command) =>
        ChildProcess.Run("setpriv", ["--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", "env", "HOME=/tmp", .. command]);

    [SkippableFact]
    public void NobodyMountsWritesAndUnmountsThroughFusermount3()
    {
        TestMount.SkipIfUnavailable();
        Skip.IfNot(FuseMounter.IsRoot, "needs root to become another user (setpriv)");
        Skip.IfNot(File.Exists("/usr/bin/fusermount3") || File.Exists("/bin/fusermount3"), "fusermount3 (fuse3) is not installed");
        var fuseMode = File.GetUnixFileMode("/dev/fuse");
        Skip.If((fuseMode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != (UnixFileMode.OtherRead | UnixFileMode.OtherWrite),
            "/dev/fuse is not open to other users here (no udev rule); scripts/setup.sh makes it 0666 as fuse3's rule does");
        string mnt = TestMount.NewDirectory();
        ChildProcess.Run("chown", Nobody + ":" + Nobody, mnt);
        try
        {
            var mount = AsNobody(Tool, "mount", "-t", "memory", "none", mnt);
            Assert.True(mount.Code == 0, "mount as nobody: " + mount.Output);
            using var guard = MountWatchdog.Start(mnt);
            var entry = MountTable.Find(mnt);
            Assert.NotNull(entry);
            Assert.Contains("user_id=" + Nobody, File.ReadAllText("/proc/self/mountinfo"));

            // Without allow_other only the mounting user may enter, so every check runs as that user.
            var used = AsNobody("sh", "-c", $"echo hello > '{mnt}/f' && mkdir '{mnt}/d' && mv '{mnt}/f' '{mnt}/d/g' && cat '{mnt}/d/g' && stat -c %u '{mnt}/d/g'");
            Assert.True(used.Code == 0, used.Output);
            Assert.Equal("hello\n" + Nobody + "\n", used.Output);

            var unmount = AsNobody(Tool, "unmount", mnt);
            Assert.True(unmount.Code == 0, "unmount as nobody: " + unmount.Output);
            Assert.Null(MountTable.Find(mnt));
        }
        finally
        {
            if (MountTable.Find(mnt) is not null) ChildProcess.Run("umount", "-l", mnt);
            try { Directory.Delete(mnt); } catch (IOException) { }
        }
    }
}
