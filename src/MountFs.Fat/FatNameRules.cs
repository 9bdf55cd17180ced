using MountFs.Vfs;

namespace MountFs.Fat;

/// <summary>Which long names FAT can store, and the case folding its lookups use.</summary>
public static class FatNameRules
{
    public const int MaxLongNameLength = 255;

    /// <summary>Throws EINVAL for characters FAT forbids, ENAMETOOLONG past 255 UTF-16 units.</summary>
    /// <remarks>Linux vfat silently drops trailing dots and spaces; we refuse them instead so that a name never
    /// changes under the caller (a later lookup of the given name would otherwise miss or alias).</remarks>
    public static void Validate(string name)
    {
        if (name.Length == 0) throw new FsException(Errno.EINVAL, "empty name");
        if (name.Length > MaxLongNameLength) throw new FsException(Errno.ENAMETOOLONG, $"name longer than {MaxLongNameLength} UTF-16 units");
        foreach (char c in name)
        {
            if (c < 0x20 || c == 0x7F || c is '"' or '*' or '/' or ':' or '<' or '>' or '?' or '\\' or '|')
                throw new FsException(Errno.EINVAL, $"FAT names cannot contain {(c < 0x20 ? $"control character 0x{(int)c:X2}" : $"'{c}'")}");
        }
        if (name[^1] is '.' or ' ') throw new FsException(Errno.EINVAL, "FAT names cannot end in a dot or a space");
        if (name == "." || name == "..") throw new FsException(Errno.EINVAL, "reserved name");
    }

    /// <summary>The key of the per-directory index: names equal under it are the same file on FAT.</summary>
    public static string Key(string name) => name.ToUpperInvariant();
}
