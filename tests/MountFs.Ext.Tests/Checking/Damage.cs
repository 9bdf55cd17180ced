namespace MountFs.Ext.Tests.Checking;

/// <summary>The kinds of damage the corruption tests make, each an edit of the image file through the on-disk records.</summary>
internal static class Damage
{
    public static readonly IReadOnlyDictionary<string, Action<string>> All = new Dictionary<string, Action<string>>
    {
        ["free-blocks-count"] = Edit(i => { i.Sb.FreeBlocksCount -= 7; i.SaveSuperBlock(); }),
        ["free-inodes-count"] = Edit(i => { i.Sb.FreeInodesCount += 3; i.SaveSuperBlock(); }),
        ["group-counts"] = Edit(i =>
        {
            var g = i.Group(0);
            g.FreeBlocksCount += 5;
            g.UsedDirsCount += 1;
            i.SetGroup(0, g);
        }),
        ["used-block-bit-cleared"] = Edit(i => i.SetBlockBit(i.Inode(i.Lookup("small.txt")).Block(0), false)),
        ["free-block-bit-set"] = Edit(i =>
        {
            uint b = i.Geo.GroupFirstBlock(0) + i.Geo.GroupBlockCount(0) - 3;
            if (i.BlockBit(b)) throw new InvalidOperationException("expected a free block");
            i.SetBlockBit(b, true);
        }),
        ["block-claimed-twice"] = Edit(i =>
        {
            var small = i.Inode(i.Lookup("small.txt"));
            uint medium = i.Lookup("dir2/medium.bin");
            var m = i.Inode(medium);
            m.SetBlock(2, small.Block(0));
            i.SetInode(medium, m);
        }),
        ["inode-bitmap-padding-cleared"] = Edit(i =>
        {
            // The bits past the group's inodes must read as used; the last one is padding on every image here.
            if (i.Geo.InodesPerGroup >= i.BlockSize * 8) throw new InvalidOperationException("expected inode bitmap padding");
            i.Block(i.Group(0).InodeBitmap)[^1] &= 0x7F;
        }),
        ["link-count-too-high"] = Edit(i => SetLinks(i, "dir2/medium.bin", 5)),
        ["link-count-too-low"] = Edit(i => SetLinks(i, "dir1", 1)),
        ["dangling-entry"] = Edit(i =>
        {
            var (_, offset) = i.Entry(i.Lookup("dir2"), "other.bin");
            i.SetEntryInode(offset, i.Sb.InodesCount - 2);
        }),
        ["missing-dotdot"] = Edit(i =>
        {
            var (_, offset) = i.Entry(i.Lookup("dir2"), "..");
            i.Bytes[offset + 8] = (byte)'x';
            i.Bytes[offset + 9] = (byte)'y';
        }),
        ["wrong-dotdot"] = Edit(i =>
        {
            var (_, offset) = i.Entry(i.Lookup("dir1/sub"), "..");
            i.SetEntryInode(offset, i.Lookup("dir2"));
        }),
        ["unreachable-inode"] = Edit(i =>
        {
            var (_, offset) = i.Entry(i.Lookup("dir1"), "big.bin");
            i.SetEntryInode(offset, 0);
        }),
        ["unreachable-directory"] = Edit(i =>
        {
            var (_, offset) = i.Entry(2, "dir2");
            i.SetEntryInode(offset, 0);
        }),
        ["pointer-outside-device"] = Edit(i =>
        {
            uint ino = i.Lookup("dir1/big.bin");
            var inode = i.Inode(ino);
            inode.SetBlock(3, i.Sb.BlocksCount + 1000);
            i.SetInode(ino, inode);
        }),
        ["pointer-into-inode-table"] = Edit(i =>
        {
            uint ino = i.Lookup("dir2/other.bin");
            var inode = i.Inode(ino);
            inode.SetBlock(0, i.Group(0).InodeTable + 1);
            i.SetInode(ino, inode);
        }),
        ["directory-loop"] = Edit(i =>
        {
            uint dir1 = i.Lookup("dir1");
            var (_, fOffset) = i.Entry(i.Lookup("dir1/sub"), "f");
            i.SetEntryInode(fOffset, dir1);
            i.Bytes[fOffset + 7] = DirectoryEntry.TypeDirectory;
            var (_, rootEntry) = i.Entry(2, "dir1");
            i.SetEntryInode(rootEntry, 0);
        }),
        ["bad-rec-len"] = Edit(i =>
        {
            var (_, offset) = i.Entry(i.Lookup("dir2"), "medium.bin");
            i.SetRecordLength(offset, (ushort)(i.RecordLength(offset) + 2));
        }),
        ["wrong-file-type"] = Edit(i =>
        {
            var (_, offset) = i.Entry(2, "small.txt");
            i.Bytes[offset + 7] = DirectoryEntry.TypeDirectory;
        }),
        ["orphan-list"] = Edit(i =>
        {
            uint ino = i.Lookup("dir2/other.bin");
            var (_, offset) = i.Entry(i.Lookup("dir2"), "other.bin");
            i.SetEntryInode(offset, 0);
            var inode = i.Inode(ino);
            inode.LinksCount = 0;
            inode.Dtime = 0;
            i.SetInode(ino, inode);
            i.Sb.LastOrphan = ino;
            i.Sb.State = 0;
            i.SaveSuperBlock();
        }),
        ["orphan-being-truncated"] = Edit(i =>
        {
            uint ino = i.Lookup("dir1/big.bin");
            var inode = i.Inode(ino);
            inode.Size = 5000;
            inode.Dtime = 0;
            i.SetInode(ino, inode);
            i.Sb.LastOrphan = ino;
            i.Sb.State = 0;
            i.SaveSuperBlock();
        }),
        ["bad-primary-superblock"] = Edit(i => i.Bytes.AsSpan(SuperBlock.PrimaryOffset, SuperBlock.Size).Clear()),
        ["truncated-image"] = path => ImageFileRetry.Do(() =>
        {
            using var f = new FileStream(path, FileMode.Open);
            f.SetLength(f.Length - (1 << 20));
        }),
    };

    private static Action<string> Edit(Action<Ext2Image> change) => path =>
    {
        var image = new Ext2Image(path);
        change(image);
        image.Save();
    };

    private static void SetLinks(Ext2Image i, string path, ushort links)
    {
        uint ino = i.Lookup(path);
        var inode = i.Inode(ino);
        inode.LinksCount = links;
        i.SetInode(ino, inode);
    }
}
