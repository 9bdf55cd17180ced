using System.Text;
using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Ext.Tests;

public class ExtendedAttributeTests
{
    [Fact]
    public void Entry_hash_and_block_layout_round_trip()
    {
        var block = new byte[1024];
        var entries = new List<ExtendedAttributeEntry>
        {
            new(1, "zeta"u8.ToArray(), "value-1"u8.ToArray()),
            new(1, "a"u8.ToArray(), []),
            new(6, "selinux"u8.ToArray(), new byte[] { 1, 2, 3, 4, 5 }),
        };
        ExtendedAttributeBlock.Write(block, entries, refCount: 3);
        Assert.Equal(3u, ExtendedAttributeBlock.RefCount(block));
        var back = ExtendedAttributeBlock.TryRead(block, out var err);
        Assert.Null(err);
        Assert.Equal(new[] { "user.a", "user.zeta", "security.selinux" }, back!.Select(e => e.FullName!));
        Assert.Equal("value-1", Encoding.ASCII.GetString(back![1].Value));
        // e_hash of "user.a" with an empty value is the name hash alone: ('a') = 0x61.
        Assert.Equal(0x61u, BitConverter.ToUInt32(block, 32 + 12));
        block[40] = 0xFF; block[41] = 0xFF; // a value size far past the block
        Assert.Null(ExtendedAttributeBlock.TryRead(block, out err));
        Assert.NotNull(err);
    }

    [SkippableFact]
    public void Set_get_list_remove_survive_remount_and_pass_e2fsck()
    {
        Skip.IfNot(ExternalTool.Exists("e2fsck"), "e2fsck not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16L << 20, "-b", "1024");
        ulong a, b;
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            a = fs.Create(fs.RootNode, "a", 0x1A4, OpenFlags.ReadWrite, Credentials.Root).Attributes.Node;
            b = fs.MakeDirectory(fs.RootNode, "b", 0x1ED, Credentials.Root).Node;
            fs.SetExtendedAttribute(a, "user.colour", "blue"u8, 0);
            fs.SetExtendedAttribute(a, "user.empty", [], 0);
            fs.SetExtendedAttribute(b, "trusted.x", new byte[700], 0);
            Assert.Equal(Errno.EEXIST, Assert.Throws<FsException>(() => fs.SetExtendedAttribute(a, "user.colour", "red"u8, 1)).Errno);
            Assert.Equal(Errno.ENODATA, Assert.Throws<FsException>(() => fs.SetExtendedAttribute(a, "user.none", "x"u8, 2)).Errno);
            Assert.Equal(Errno.ENOSPC, Assert.Throws<FsException>(() => fs.SetExtendedAttribute(b, "user.big", new byte[2000], 0)).Errno);
            fs.SetExtendedAttribute(a, "user.colour", "green"u8, 2);
        }
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        Assert.Contains("green", ExternalTool.Run("debugfs", "-R", "ea_get /a user.colour", img).Out);
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            Assert.Equal("green", Encoding.ASCII.GetString(fs.GetExtendedAttribute(a, "user.colour")));
            Assert.Equal(new[] { "user.empty", "user.colour" }, fs.ListExtendedAttributes(a));
            Assert.Equal(700, fs.GetExtendedAttribute(b, "trusted.x").Length);
            fs.RemoveExtendedAttribute(a, "user.colour");
            fs.RemoveExtendedAttribute(a, "user.empty");
            Assert.Empty(fs.ListExtendedAttributes(a));
            Assert.Equal(Errno.ENODATA, Assert.Throws<FsException>(() => fs.GetExtendedAttribute(a, "user.colour")).Errno);
            fs.Unlink(fs.RootNode, "a");
            fs.RemoveDirectory(fs.RootNode, "b");
        }
        (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        string free = ExternalTool.Run("dumpe2fs", "-h", img).Out;
        Assert.Contains("Free inodes:              " + (ImageFile.Super(img).InodesCount - 11), free);
    }

    [SkippableFact]
    public void Shared_kernel_xattr_block_is_copied_on_write_and_freed_with_its_last_user()
    {
        string? why = KernelMount.Unavailable();
        Skip.If(why != null, why);
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16L << 20, "-b", "1024", "-I", "128");
        using (var m = KernelMount.Mount(img))
        {
            File.WriteAllText(m.Path + "/one", "1");
            File.WriteAllText(m.Path + "/two", "2");
            // Identical attribute sets: the kernel's mbcache shares one block between both inodes.
            var py = "import os,sys\nfor f in sys.argv[1:]: os.setxattr(f, 'user.tag', b'same-value')";
            var r = ExternalTool.Run("python3", "-c", py, m.Path + "/one", m.Path + "/two");
            Skip.If(r.Exit != 0, "setxattr failed: " + r.Err);
        }
        string stat1 = ExternalTool.Run("debugfs", "-R", "stat /one", img).Out;
        string stat2 = ExternalTool.Run("debugfs", "-R", "stat /two", img).Out;
        string acl(string s) => s.Split('\n').First(l => l.Contains("File ACL:")).Trim();
        Assert.Equal(acl(stat1), acl(stat2)); // shared
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            ulong one = fs.Lookup(fs.RootNode, "one")!.Node, two = fs.Lookup(fs.RootNode, "two")!.Node;
            Assert.Equal("same-value", Encoding.ASCII.GetString(fs.GetExtendedAttribute(two, "user.tag")));
            fs.SetExtendedAttribute(one, "user.tag", "changed"u8, 0);
            Assert.Equal("same-value", Encoding.ASCII.GetString(fs.GetExtendedAttribute(two, "user.tag")));
        }
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            fs.Unlink(fs.RootNode, "two");
            fs.Unlink(fs.RootNode, "one");
        }
        (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
    }

    [SkippableFact]
    public void In_inode_attributes_written_by_debugfs_are_read_and_folded_into_a_block()
    {
        Skip.IfNot(ExternalTool.Exists("debugfs"), "debugfs not installed");
        using var dir = new ScratchDir();
        string img = ExternalTool.MakeImage(dir.Path, 16L << 20, "-b", "4096");
        ExternalTool.Run("debugfs", "-w", "-R", "write /etc/hostname f", img);
        ExternalTool.Run("debugfs", "-w", "-R", "ea_set /f user.small tiny", img);
        using (var fs = Ext2FileSystem.Mount(ImageFile.Open(img), new MountOptions()))
        {
            ulong f = fs.Lookup(fs.RootNode, "f")!.Node;
            Assert.Equal("tiny", Encoding.ASCII.GetString(fs.GetExtendedAttribute(f, "user.small")));
            fs.SetExtendedAttribute(f, "user.second", "two"u8, 0);
            Assert.Equal(new[] { "user.small", "user.second" }.Order(), fs.ListExtendedAttributes(f).Order());
        }
        var (exit, output) = ExternalTool.Fsck(img);
        Assert.True(exit == 0, output);
        Assert.Contains("tiny", ExternalTool.Run("debugfs", "-R", "ea_get /f user.small", img).Out);
    }
}
