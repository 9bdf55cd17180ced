using System.Text;
using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>The Linux kernel's ext2 driver as judge: it mounts our mkfs output and reads our trees, and what it
/// writes we read back exactly.</summary>
public class KernelInteropTests
{
    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Kernel_mounts_our_mkfs_and_reads_our_tree(int blockSize)
    {
        string? why = KernelMount.Unavailable();
        Skip.If(why != null, why);
        using var dir = new ScratchDir();
        string img = Path.Combine(dir.Path, "fs.img");
        using (var dev = FileBlockDevice.Create(img, 48L << 20))
            new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = blockSize });
        TreeBuilder tree;
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            tree = new TreeBuilder(fs, seed: 7 + blockSize);
            tree.Build(operations: 150, bigDirEntries: 600);
        }
        using (var m = KernelMount.Mount(img, readOnly: true))
        {
            Assert.True(Directory.Exists(Path.Combine(m.Path, "lost+found")));
            foreach (var (path, expected) in tree.Files)
                Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(m.Path + path)), path);
            foreach (var (path, target) in tree.Symlinks)
                Assert.Equal(target, new FileInfo(m.Path + path).LinkTarget);
        }
        // The kernel writes into our image too, and e2fsck still agrees.
        using (var m = KernelMount.Mount(img))
        {
            File.WriteAllText(Path.Combine(m.Path, "from-kernel.txt"), "hello");
            Directory.CreateDirectory(Path.Combine(m.Path, "kdir/sub"));
        }
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
    }

    [SkippableTheory]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Tree_written_by_the_kernel_reads_back_exactly(int blockSize)
    {
        string? why = KernelMount.Unavailable();
        Skip.If(why != null, why);
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 64L << 20, "-b", blockSize.ToString());
        var rng = new Random(blockSize);
        var files = new Dictionary<string, byte[]>();
        var links = new Dictionary<string, string>();
        using (var m = KernelMount.Mount(img))
        {
            Directory.CreateDirectory(Path.Combine(m.Path, "a/b/c"));
            Directory.CreateDirectory(Path.Combine(m.Path, "many"));
            for (int i = 0; i < 40; i++)
            {
                var data = new byte[rng.Next(0, 300_000)];
                rng.NextBytes(data);
                string rel = $"/a{(i % 3 == 0 ? "/b" : i % 3 == 1 ? "/b/c" : "")}/file{i}";
                File.WriteAllBytes(m.Path + rel, data);
                files[rel] = data;
            }
            using (var f = File.Create(m.Path + "/a/sparse"))
            {
                f.Seek(40_000_000, SeekOrigin.Begin);
                f.Write("tail"u8);
            }
            var sparse = new byte[40_000_004];
            "tail"u8.CopyTo(sparse.AsSpan(40_000_000));
            files["/a/sparse"] = sparse;
            for (int i = 0; i < 3000; i++) File.WriteAllText(m.Path + $"/many/n{i}", i.ToString());
            for (int i = 0; i < 3000; i += 5) files[$"/many/n{i}"] = Encoding.ASCII.GetBytes(i.ToString());
            File.CreateSymbolicLink(m.Path + "/a/fast", "b/c/file1");
            File.CreateSymbolicLink(m.Path + "/a/slow", new string('s', 300));
            links["/a/fast"] = "b/c/file1";
            links["/a/slow"] = new string('s', 300);
            ExternalTool.Run("ln", m.Path + "/a/file2", m.Path + "/a/b/hard");
            files["/a/b/hard"] = files["/a/file2"];
            ExternalTool.Run("mkfifo", m.Path + "/a/fifo");
            ExternalTool.Run("mknod", m.Path + "/a/chr", "c", "4", "300");
        }
        using var fs = Ext2FileSystem.Mount(ImageFile.Open(img, readOnly: true), new MountOptions { ReadOnly = true });
        foreach (var (path, expected) in files)
        {
            var node = Resolve(fs, path);
            var attrs = fs.GetAttributes(node);
            Assert.Equal(expected.Length, attrs.Size);
            var buf = new byte[expected.Length];
            ulong h = fs.Open(node, OpenFlags.ReadOnly);
            int got = 0;
            while (got < buf.Length)
            {
                int n = fs.Read(node, h, got, buf.AsSpan(got, Math.Min(65536, buf.Length - got)));
                Assert.True(n > 0, path);
                got += n;
            }
            fs.Release(node, h);
            Assert.True(expected.AsSpan().SequenceEqual(buf), path);
        }
        foreach (var (path, target) in links) Assert.Equal(target, fs.ReadLink(Resolve(fs, path)));
        Assert.Equal(2u, fs.GetAttributes(Resolve(fs, "/a/b/hard")).Links);
        Assert.True(Vfs.UnixFileMode.TypeOf(fs.GetAttributes(Resolve(fs, "/a/fifo")).Mode) == Vfs.UnixFileMode.Fifo);
        var chr = fs.GetAttributes(Resolve(fs, "/a/chr"));
        Assert.Equal(Vfs.UnixFileMode.CharacterDevice, Vfs.UnixFileMode.TypeOf(chr.Mode));
        Assert.Equal((300u & 0xFF) | (4u << 8) | ((300u & ~0xFFu) << 12), chr.Rdev);
        int count = 0;
        fs.ReadDirectory(Resolve(fs, "/many"), 0, 0, (in Vfs.DirectoryEntry e) => { count++; return true; });
        Assert.Equal(3002, count);
    }

    internal static ulong Resolve(IFileSystem fs, string path)
    {
        ulong node = fs.RootNode;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            node = (fs.Lookup(node, part) ?? throw new FileNotFoundException(path)).Node;
        return node;
    }
}
