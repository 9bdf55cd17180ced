using System.Buffers.Binary;
using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

/// <summary>Damaged images: mounting, walking, reading and changing them gives FsException at worst — never another
/// exception, a hang, or a write outside the image.</summary>
public class CorruptImageTests
{
    private const int BlockSize = 1024;

    /// <summary>A small image with a tree: dirs, files with indirect blocks, symlinks, an xattr.</summary>
    private static (byte[] Image, Dictionary<string, uint> Inodes) BaseImage()
    {
        var dev = new MemoryBlockDevice(2L << 20);
        new Ext2Formatter().Format(dev, new FormatOptions { BlockSize = BlockSize, InodeCount = 128 });
        var inodes = new Dictionary<string, uint>();
        using (var fs = Ext2FileSystem.Mount(dev, new MountOptions(), TextWriter.Null))
        {
            var d = fs.MakeDirectory(fs.RootNode, "dir", 0x1ED, Credentials.Root);
            var sub = fs.MakeDirectory(d.Node, "sub", 0x1ED, Credentials.Root);
            inodes["dir"] = (uint)d.Node;
            inodes["sub"] = (uint)sub.Node;
            var rng = new Random(5);
            foreach (var (name, size) in new[] { ("small", 500), ("indirect", 40_000), ("double", 300_000) })
            {
                var (a, h) = fs.Create(d.Node, name, 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
                var data = new byte[size];
                rng.NextBytes(data);
                fs.Write(a.Node, h, 0, data);
                fs.Release(a.Node, h);
                inodes[name] = (uint)a.Node;
            }
            inodes["link"] = (uint)fs.Symlink(d.Node, "link", new string('t', 200), Credentials.Root).Node;
            fs.Symlink(sub.Node, "fast", "../small", Credentials.Root);
            fs.SetExtendedAttribute(inodes["small"], "user.a", "b"u8, 0);
            for (int i = 0; i < 40; i++) fs.Create(sub.Node, $"entry{i}", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
        }
        return (dev.ToArray(), inodes);
    }

    private static long InodeOffset(byte[] image, uint ino)
    {
        var sb = SuperBlock.Read(image.AsSpan(1024, 1024));
        var geo = Geometry.From(sb);
        var (g, blockInTable, offset) = geo.LocateInode(ino);
        var gd = GroupDescriptor.Read(image.AsSpan((int)((sb.FirstDataBlock + 1) * (uint)geo.BlockSize) + g * 32));
        return (long)(gd.InodeTable + blockInTable) * geo.BlockSize + offset;
    }

    private static Inode ReadInode(byte[] image, uint ino) => Inode.Read(image.AsSpan((int)InodeOffset(image, ino), 256));
    private static void WriteInode(byte[] image, uint ino, Inode inode) => inode.WriteTo(image.AsSpan((int)InodeOffset(image, ino), 256));

    public static TheoryData<string> Damages() =>
    [
        "block pointer past the end", "indirect block points at itself", "double indirect cycle", "truncated image",
        "zeroed primary superblock", "group descriptor table outside group", "directory rec_len zero",
        "directory rec_len past block", "dangling directory entry", "entry names inode past the end",
        "directory loop via dotdot", "subdir names its ancestor", "zeroed block bitmap", "wrong free counts",
        "huge directory size", "slow symlink without block", "symlink size huge", "xattr block garbage",
        "orphan list loop", "wrong link count", "inode table zeroed", "file size past its blocks",
    ];

    [Theory]
    [MemberData(nameof(Damages))]
    public void Damaged_image_never_crashes_or_hangs(string damage)
    {
        var (image, ino) = BaseImage();
        image = Damage(image, ino, damage);
        var log = new StringWriter();
        RunBounded(() => Exercise(image, log));
        // Damage a reader cannot see without a full check (fsck's job) need not be logged.
        if (damage is not ("wrong free counts" or "zeroed block bitmap" or "wrong link count" or "file size past its blocks" or "subdir names its ancestor"))
            Assert.True(log.ToString().Length > 0 || damage == "truncated image", "damage went unnoticed: nothing logged");
    }

    private static byte[] Damage(byte[] image, Dictionary<string, uint> ino, string damage)
    {
        var sb = SuperBlock.Read(image.AsSpan(1024, 1024));
        int bs = sb.BlockSize;
        uint DirBlock(string name) => ReadInode(image, ino[name]).Block(0);
        switch (damage)
        {
            case "block pointer past the end":
            {
                var i = ReadInode(image, ino["small"]); i.SetBlock(0, 0xFFFF_FF00); WriteInode(image, ino["small"], i); break;
            }
            case "indirect block points at itself":
            {
                var i = ReadInode(image, ino["indirect"]);
                uint ind = i.Block(12);
                BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan((int)(ind * bs)), ind);
                break;
            }
            case "double indirect cycle":
            {
                var i = ReadInode(image, ino["double"]);
                uint dind = i.Block(13);
                for (int k = 0; k < bs / 4; k++) BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan((int)(dind * bs) + 4 * k), dind);
                break;
            }
            case "truncated image": Array.Resize(ref image, image.Length / 2); break;
            case "zeroed primary superblock": Array.Clear(image, 1024, 1024); break;
            case "group descriptor table outside group":
                BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(2 * bs + 8), 0x7FFF_FFFF); break;
            case "directory rec_len zero":
                BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan((int)(DirBlock("sub") * bs) + 24 + 4), 0); break;
            case "directory rec_len past block":
                BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan((int)(DirBlock("sub") * bs) + 24 + 4), 4000); break;
            case "dangling directory entry":
                BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan((int)(DirBlock("sub") * bs) + 24), 100); break;
            case "entry names inode past the end":
                BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan((int)(DirBlock("sub") * bs) + 24), 0xFFFF_0000); break;
            case "directory loop via dotdot":
                BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan((int)(DirBlock("sub") * bs) + 12), ino["sub"]); break;
            case "subdir names its ancestor":
                BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan((int)(DirBlock("sub") * bs) + 24), ino["dir"]);
                image[(int)(DirBlock("sub") * bs) + 24 + 7] = 2;
                break;
            case "zeroed block bitmap":
            {
                var gd = GroupDescriptor.Read(image.AsSpan(2 * bs));
                Array.Clear(image, (int)(gd.BlockBitmap * bs), bs);
                break;
            }
            case "wrong free counts":
            {
                var gd = GroupDescriptor.Read(image.AsSpan(2 * bs));
                gd.FreeBlocksCount = 60000; gd.FreeInodesCount = 60000;
                gd.WriteTo(image.AsSpan(2 * bs));
                break;
            }
            case "huge directory size":
            {
                var i = ReadInode(image, ino["sub"]); i.SizeLow = 0xFFFF_FC00; WriteInode(image, ino["sub"], i); break;
            }
            case "slow symlink without block":
            {
                var i = ReadInode(image, ino["link"]); i.SetBlock(0, 0); WriteInode(image, ino["link"], i); break;
            }
            case "symlink size huge":
            {
                var i = ReadInode(image, ino["link"]); i.SizeLow = 0x7FFF_FFFF; WriteInode(image, ino["link"], i); break;
            }
            case "xattr block garbage":
            {
                var i = ReadInode(image, ino["small"]);
                new Random(1).NextBytes(image.AsSpan((int)(i.FileAcl * bs), bs));
                break;
            }
            case "orphan list loop":
            {
                sb.LastOrphan = ino["small"];
                sb.WriteTo(image.AsSpan(1024));
                var i = ReadInode(image, ino["small"]); i.Dtime = ino["small"]; WriteInode(image, ino["small"], i);
                break;
            }
            case "wrong link count":
            {
                var i = ReadInode(image, ino["indirect"]); i.LinksCount = 0; WriteInode(image, ino["indirect"], i); break;
            }
            case "inode table zeroed":
            {
                var gd = GroupDescriptor.Read(image.AsSpan(2 * bs));
                Array.Clear(image, (int)(gd.InodeTable * bs), 4 * bs);
                break;
            }
            case "file size past its blocks":
            {
                var i = ReadInode(image, ino["small"]); i.Size = 1L << 40; WriteInode(image, ino["small"], i); break;
            }
            default: throw new ArgumentException(damage);
        }
        return image;
    }

    private static void Exercise(byte[] image, TextWriter log)
    {
        var dev = new MemoryBlockDevice(image);
        Ext2FileSystem fs;
        try { fs = Ext2FileSystem.Mount(dev, new MountOptions(), log); }
        catch (FsException e) { log.WriteLine(e.Message); return; }
        using (fs)
        {
            Walk(fs, fs.RootNode, 0, new HashSet<ulong>());
            Mutate(fs);
        }
    }

    /// <summary>Reads everything reachable, stopping at FsException per node; visits each directory once.</summary>
    internal static void Walk(IFileSystem fs, ulong dir, int depth, HashSet<ulong> seen)
    {
        if (depth > 32 || !seen.Add(dir)) return;
        var entries = new List<Vfs.DirectoryEntry>();
        try { fs.ReadDirectory(dir, 0, 0, (in Vfs.DirectoryEntry e) => { entries.Add(e); return entries.Count < 5000; }); }
        catch (FsException) { }
        foreach (var e in entries)
        {
            if (e.Name is "." or "..") continue;
            try
            {
                var a = fs.Lookup(dir, e.Name);
                if (a == null) continue;
                fs.ListExtendedAttributes(a.Node);
                if (a.IsDirectory) Walk(fs, a.Node, depth + 1, seen);
                else if (a.IsSymlink) fs.ReadLink(a.Node);
                else if (a.IsRegular)
                {
                    ulong h = fs.Open(a.Node, OpenFlags.ReadOnly);
                    var buf = new byte[65536];
                    fs.Read(a.Node, h, 0, buf);
                    if (a.Size > buf.Length) fs.Read(a.Node, h, a.Size - buf.Length, buf);
                    fs.Release(a.Node, h);
                }
            }
            catch (FsException) { }
        }
    }

    /// <summary>Creates, writes, renames and deletes on a possibly damaged file system; only FsException may come out.</summary>
    internal static void Mutate(IFileSystem fs)
    {
        void Try(Action a) { try { a(); } catch (FsException) { } }
        Try(() =>
        {
            var (a, h) = fs.Create(fs.RootNode, "new", 0x1A4, OpenFlags.ReadWrite, Credentials.Root);
            fs.Write(a.Node, h, 0, new byte[30_000]);
            fs.Release(a.Node, h);
        });
        Try(() => fs.MakeDirectory(fs.RootNode, "newdir", 0x1ED, Credentials.Root));
        Try(() =>
        {
            var dir = fs.Lookup(fs.RootNode, "dir");
            if (dir == null) return;
            var sub = fs.Lookup(dir.Node, "sub");
            if (sub != null) fs.Rename(fs.RootNode, "new", sub.Node, "new");
            if (sub != null) Try(() => fs.Rename(fs.RootNode, "newdir", sub.Node, "newdir"));
            foreach (var n in new[] { "small", "indirect", "double", "link" }) Try(() => fs.Unlink(dir.Node, n));
            Try(() => fs.SetAttributes(fs.Lookup(dir.Node, "double")?.Node ?? 0, new SetAttributes { Size = 10 }));
        });
        Try(() => fs.SyncFileSystem());
    }

    [Fact]
    public void Corruption_found_while_mounted_read_write_marks_the_volume_with_errors()
    {
        var (image, ino) = BaseImage();
        image = Damage(image, ino, "directory rec_len zero");
        var dev = new MemoryBlockDevice(image);
        var log = new StringWriter();
        using (var fs = Ext2FileSystem.Mount(new MountFs.ModelKit.KeepOpenDevice(dev), new MountOptions(), log))
        {
            var dir = fs.Lookup(fs.RootNode, "dir")!.Node;
            var sub = fs.Lookup(dir, "sub")!.Node;
            var e = Assert.Throws<FsException>(() => fs.Lookup(sub, "entry1"));
            Assert.Equal(Errno.EUCLEAN, e.Errno);
            Assert.Contains("directory block", log.ToString());
        }
        var sb = SuperBlock.Read(dev.Contents.Slice(1024, 1024));
        Assert.Equal(SuperBlock.StateValid | SuperBlock.StateErrors, sb.State);
    }

    internal static void RunBounded(Action action)
    {
        var task = Task.Run(action);
        // A guard against hangs, not a performance assertion: the work takes milliseconds.
        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "operation hung");
    }

    [Fact]
    public void Random_bit_flips_in_metadata_never_crash_the_reader()
    {
        var (image, _) = BaseImage();
        var sb = SuperBlock.Read(image.AsSpan(1024, 1024));
        var gd = GroupDescriptor.Read(image.AsSpan(2 * BlockSize));
        // Metadata and the first directory/file blocks: superblock .. a little past the inode table.
        int end = (int)(gd.InodeTable + 40 + 32) * BlockSize;
        var rng = new Random(20261129);
        int mounted = 0;
        for (int round = 0; round < 1500; round++)
        {
            var copy = (byte[])image.Clone();
            int flips = rng.Next(1, 9);
            for (int f = 0; f < flips; f++)
            {
                int at = rng.Next(1024, end);
                copy[at] ^= (byte)(1 << rng.Next(8));
            }
            var log = TextWriter.Null;
            try
            {
                using var fs = Ext2FileSystem.Mount(new MemoryBlockDevice(copy), new MountOptions(), log);
                mounted++;
                Walk(fs, fs.RootNode, 0, []);
                if (round % 3 == 0) Mutate(fs);
            }
            catch (FsException) { }
            catch (Exception e)
            {
                Assert.Fail($"round {round}: {e}");
            }
        }
        Assert.True(mounted > 500, $"only {mounted} of 1500 mutated images mounted: the test exercises too little");
    }
}
