namespace MountFs.Fuse.Tests;

/// <summary>
/// With HANDLE_KILLPRIV_V2 negotiated the kernel leaves clearing set-id bits to us; these tests check that an
/// unprivileged writer still clears them, as on a local file system, and that root's writes keep them.
/// </summary>
public sealed class PrivilegeDropTests
{
    private const UnixFileMode SetIdAll = (UnixFileMode)0xDFF; // 06777: set-uid, set-gid, rwx for all

    [SkippableTheory]
    [InlineData(true)]  // the kernel writes through, flagging the write KILL_SUIDGID
    [InlineData(false)]
    public void UnprivilegedWriteClearsSetUidAndSetGid(bool writeback)
    {
        using var m = TestMount.Start(options: new FuseOptions { AllowOther = true, WritebackCache = writeback });
        string dir = m["shared"];
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        string path = Path.Combine(dir, "tool");
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, SetIdAll);

        ChildProcess.Sh($"setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \"printf more >> '{path}'\"");

        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(path));
        Assert.Equal("#!/bin/sh\nmore", File.ReadAllText(path));
    }

    [SkippableFact]
    public void UnprivilegedTruncatingOpenClearsSetUid()
    {
        using var m = TestMount.Start(options: new FuseOptions { AllowOther = true });
        string path = m["tool"];
        File.WriteAllText(path, "old contents");
        File.SetUnixFileMode(path, SetIdAll);

        ChildProcess.Sh($"setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \"printf new > '{path}'\"");

        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(path));
        Assert.Equal("new", File.ReadAllText(path));
    }

    [SkippableFact]
    public void RootWriteKeepsSetIdBits()
    {
        using var m = TestMount.Start();
        string path = m["tool"];
        File.WriteAllText(path, "a");
        File.SetUnixFileMode(path, SetIdAll);

        using (var stream = new FileStream(path, FileMode.Append))
            stream.Write("b"u8);

        Assert.Equal(SetIdAll, File.GetUnixFileMode(path));
    }
}
