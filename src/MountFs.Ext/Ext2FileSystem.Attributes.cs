using System.Buffers.Binary;
using MountFs.Vfs;

namespace MountFs.Ext;

// Extended attributes (ext_attr): read from the inode's tail (large inodes) and its xattr block; writes go to a
// private block (copy-on-write when the block is shared: h_refcount > 1), the in-inode copy is folded into it.
// POSIX ACLs (system.posix_acl_*) use an on-disk format different from the xattr API's, so they are kept intact
// but not shown or settable through this interface.
public sealed partial class Ext2FileSystem
{
    private List<ExtendedAttributeEntry> ReadAttributes(uint ino, Inode inode, bool includeHidden)
    {
        var result = new List<ExtendedAttributeEntry>();
        var area = inode.InInodeAttributeArea;
        if (area.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(area) == ExtendedAttributeEntry.Magic)
        {
            var list = ExtendedAttributeEntry.TryReadList(area, 4, 4, out string? err)
                ?? throw Corrupt("in-inode extended attributes", $"inode {ino}: {err}");
            result.AddRange(list);
        }
        if (inode.FileAcl != 0)
        {
            CheckBlock(inode.FileAcl, "extended attribute block pointer", ino);
            var list = ExtendedAttributeBlock.TryRead(_cache.Read(inode.FileAcl), out string? err)
                ?? throw Corrupt("extended attribute block", $"inode {ino} block {inode.FileAcl}: {err}");
            result.AddRange(list);
        }
        if (!includeHidden) result.RemoveAll(e => e.NameIndex is 2 or 3 or 8 || e.FullName == null);
        return result;
    }

    /// <summary>No in-inode attributes and no attribute block: the usual case, answered without parsing anything
    /// (the FUSE layer asks for security.capability around every first write of a file).</summary>
    private static bool HasNoAttributes(Inode inode)
    {
        var area = inode.InInodeAttributeArea;
        return inode.FileAcl == 0 && (area.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(area) != ExtendedAttributeEntry.Magic);
    }

    public byte[] GetExtendedAttribute(ulong node, string name)
    {
        lock (_gate)
        {
            var inode = LiveInode(node);
            var enc = ExtendedAttributeEntry.Encode(name) ?? throw new FsException(Errno.EOPNOTSUPP, $"attribute namespace of '{name}' not supported");
            if (HasNoAttributes(inode)) throw new FsException(Errno.ENODATA);
            if (!UserNamespaceAllowed(inode, enc.Index)) throw new FsException(Errno.ENODATA);
            foreach (var e in ReadAttributes((uint)node, inode, includeHidden: false))
                if (e.NameIndex == enc.Index && e.Name.AsSpan().SequenceEqual(enc.Name)) return e.Value;
            throw new FsException(Errno.ENODATA);
        }
    }

    public IReadOnlyList<string> ListExtendedAttributes(ulong node)
    {
        lock (_gate)
        {
            var inode = LiveInode(node);
            return ReadAttributes((uint)node, inode, includeHidden: false).Select(e => e.FullName!).ToList();
        }
    }

    public void SetExtendedAttribute(ulong node, string name, ReadOnlySpan<byte> value, int flags)
    {
        var enc = ExtendedAttributeEntry.Encode(name) ?? throw new FsException(Errno.EOPNOTSUPP, $"attribute namespace of '{name}' not supported");
        if (enc.Index is 2 or 3 or 8) throw new FsException(Errno.EOPNOTSUPP, "POSIX ACLs are not supported through this layout");
        if (enc.Name.Length > 255) throw new FsException(Errno.ERANGE, "attribute name too long");
        var copy = value.ToArray();
        lock (_gate)
        {
            ChangeAttributes(node, enc.Index, removing: false, list =>
            {
                int i = list.FindIndex(e => e.NameIndex == enc.Index && e.Name.AsSpan().SequenceEqual(enc.Name));
                if (i >= 0 && (flags & 1) != 0) throw new FsException(Errno.EEXIST);
                if (i < 0 && (flags & 2) != 0) throw new FsException(Errno.ENODATA);
                var entry = new ExtendedAttributeEntry(enc.Index, enc.Name, copy);
                if (i >= 0) list[i] = entry; else list.Add(entry);
            });
        }
    }

    public void RemoveExtendedAttribute(ulong node, string name)
    {
        var enc = ExtendedAttributeEntry.Encode(name) ?? throw new FsException(Errno.EOPNOTSUPP, $"attribute namespace of '{name}' not supported");
        lock (_gate)
        {
            if (HasNoAttributes(LiveInode(node))) throw new FsException(Errno.ENODATA);
            ChangeAttributes(node, enc.Index, removing: true, list =>
            {
                int i = list.FindIndex(e => e.NameIndex == enc.Index && e.Name.AsSpan().SequenceEqual(enc.Name));
                if (i < 0 || enc.Index is 2 or 3 or 8) throw new FsException(Errno.ENODATA);
                list.RemoveAt(i);
            });
        }
    }

    /// <summary>Linux allows user.* attributes only on regular files and directories (xattr_permission).</summary>
    private static bool UserNamespaceAllowed(Inode inode, byte index) => index != 1 || inode.IsRegular || inode.IsDirectory;

    private void ChangeAttributes(ulong node, byte index, bool removing, Action<List<ExtendedAttributeEntry>> change)
    {
        uint ino = (uint)node;
        var inode = LiveInode(node);
        if (!UserNamespaceAllowed(inode, index))
            throw removing ? new FsException(Errno.ENODATA) : new FsException(Errno.EPERM, "user attributes only on files and directories");
        var list = ReadAttributes(ino, inode, includeHidden: true);
        change(list);
        if (ExtendedAttributeBlock.RequiredSize(list) > _geo.BlockSize)
            throw new FsException(Errno.ENOSPC, "extended attributes do not fit one block");
        using var tx = Begin();
        // The in-inode copy is folded into the block, so clear it.
        var area = inode.InInodeAttributeArea;
        if (area.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(area) == ExtendedAttributeEntry.Magic) area.Clear();
        uint sectors = (uint)(_geo.BlockSize / 512);
        if (list.Count == 0)
        {
            ReleaseAttributeBlock(tx, ino, inode);
        }
        else
        {
            uint block = inode.FileAcl;
            if (block != 0 && ExtendedAttributeBlock.RefCount(_cache.Read(block)) > 1)
            {
                ReleaseAttributeBlock(tx, ino, inode); // drops our share of the block
                block = 0;
            }
            if (block == 0)
            {
                block = AllocateBlock(tx, Goal(ino));
                inode.FileAcl = block;
                inode.Blocks512 += sectors;
                if (!_sb.HasCompat(CompatFeatures.ExtAttr)) SuperForWrite(tx).FeatureCompat |= CompatFeatures.ExtAttr;
                ExtendedAttributeBlock.Write(tx.Create(block, BlockKind.Indirect), list, 1);
            }
            else ExtendedAttributeBlock.Write(tx.Modify(block, BlockKind.Indirect), list, 1);
        }
        SetTimes(inode, null, null, Timestamp.Now);
        WriteInode(tx, ino, inode);
        tx.Commit();
        AfterCommit();
    }

    /// <summary>Drops this inode's reference to its xattr block, freeing the block with its last user.</summary>
    private void ReleaseAttributeBlock(Transaction tx, uint ino, Inode inode)
    {
        uint block = inode.FileAcl;
        if (block == 0) return;
        inode.FileAcl = 0;
        inode.Blocks512 = SubtractBlocks(inode.Blocks512, (uint)(_geo.BlockSize / 512));
        if (block < _sb.FirstDataBlock || block >= _sb.BlocksCount)
        {
            _log.WriteLine($"{_image}: ext2: corrupt extended attribute block pointer: inode {ino} points at block {block}; dropped");
            return;
        }
        var data = _cache.Read(block);
        uint refs = ExtendedAttributeBlock.RefCount(data);
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != ExtendedAttributeEntry.Magic || refs <= 1)
        {
            FreeBlock(tx, block, ino);
            return;
        }
        ExtendedAttributeBlock.SetRefCount(tx.Modify(block, BlockKind.Indirect), refs - 1);
    }
}
