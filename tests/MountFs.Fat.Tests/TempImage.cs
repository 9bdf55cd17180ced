using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Fat.Tests;

/// <summary>An image file in a private temp directory, removed at dispose.</summary>
public sealed class TempImage : IDisposable
{
    private readonly string _dir;

    public TempImage(long length)
    {
        _dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fattest-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(_dir);
        Path = System.IO.Path.Combine(_dir, "image.img");
        using (var f = File.Create(Path)) f.SetLength(length);
    }

    public string Path { get; }
    public string Directory => _dir;

    public static TempImage MkfsFat(long length, int fatBits, int? sectorsPerCluster = null, string? label = null)
    {
        var img = new TempImage(length);
        var args = new List<string> { "-F", fatBits.ToString() };
        if (sectorsPerCluster is int s) { args.Add("-s"); args.Add(s.ToString()); }
        if (label != null) { args.Add("-n"); args.Add(label); }
        args.Add(img.Path);
        var r = ExternalTool.Run("mkfs.fat", args.ToArray());
        Assert.True(r.ExitCode == 0, r.Output);
        return img;
    }

    /// <summary>Opens the image, waiting out the moment a parallel test's fork still shares our last descriptor
    /// (flock locks follow the open file description into a child until it execs).</summary>
    public FileBlockDevice Open(bool readOnly = false)
    {
        for (int attempt = 0; ; attempt++)
        {
            try { return FileBlockDevice.Open(Path, readOnly); }
            catch (DeviceLockedException) when (attempt < 100) { Thread.Sleep(20); }
        }
    }

    public FatFileSystem Mount(bool readOnly = false, MountOptions? options = null, TextWriter? log = null) =>
        (FatFileSystem)new FatLayout { Log = log ?? TextWriter.Null }.Mount(Open(readOnly),
            (options ?? new MountOptions()) with { ReadOnly = readOnly });

    public void WriteAll(byte[] bytes)
    {
        for (int attempt = 0; ; attempt++)
        {
            try { File.WriteAllBytes(Path, bytes); return; }
            catch (IOException) when (attempt < 100) { Thread.Sleep(20); }
        }
    }

    /// <summary>Reads the whole image; .NET's own advisory lock meets the same fork window as <see cref="Open"/>.</summary>
    public byte[] ReadAll()
    {
        for (int attempt = 0; ; attempt++)
        {
            try { return File.ReadAllBytes(Path); }
            catch (IOException) when (attempt < 100) { Thread.Sleep(20); }
        }
    }

    public void Patch(long offset, ReadOnlySpan<byte> bytes)
    {
        using var f = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        f.Write(bytes);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
