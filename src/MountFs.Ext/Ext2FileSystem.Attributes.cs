using MountFs.Vfs;

namespace MountFs.Ext;

// Extended attributes: placeholder until the xattr block code lands.
public sealed partial class Ext2FileSystem
{
    private void ReleaseAttributeBlock(Transaction tx, uint ino, Inode inode)
    {
    }
}
