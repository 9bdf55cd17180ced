namespace MountFs.Fuse.Tests;

public sealed class BasicMountTests
{
    [SkippableFact]
    public void CreateWriteReadSeek()
    {
        using var m = TestMount.Start();
        string path = m["a.txt"];
        File.WriteAllText(path, "hello fuse");
        Assert.Equal("hello fuse", File.ReadAllText(path));
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Seek(6, SeekOrigin.Begin);
            fs.Write("FUSE"u8);
            fs.Seek(0, SeekOrigin.Begin);
            var buffer = new byte[10];
            Assert.Equal(10, fs.Read(buffer));
            Assert.Equal("hello FUSE", System.Text.Encoding.ASCII.GetString(buffer));
        }
        Assert.Equal(["a.txt"], Directory.GetFileSystemEntries(m.Root).Select(Path.GetFileName));
        Assert.Contains(Mounting.MountTable.Read(), e => e.MountPoint == m.Root && e.FileSystemType == "fuse.mountfs");
    }
}
