namespace MountFs.Vfs;

/// <summary>The st_mode bit layout: file type in the top bits, permissions in the low twelve.</summary>
public static class UnixFileMode
{
    public const uint TypeMask = 0xF000;
    public const uint Fifo = 0x1000;
    public const uint CharacterDevice = 0x2000;
    public const uint Directory = 0x4000;
    public const uint BlockDevice = 0x6000;
    public const uint Regular = 0x8000;
    public const uint Symlink = 0xA000;
    public const uint Socket = 0xC000;

    /// <summary>Permission bits plus set-uid, set-gid and sticky.</summary>
    public const uint PermissionMask = 0x0FFF;

    public static uint TypeOf(uint mode) => mode & TypeMask;
    public static bool IsDirectory(uint mode) => (mode & TypeMask) == Directory;
    public static bool IsRegular(uint mode) => (mode & TypeMask) == Regular;
    public static bool IsSymlink(uint mode) => (mode & TypeMask) == Symlink;

    /// <summary>The d_type value readdir reports for a mode (DT_REG, DT_DIR, ...).</summary>
    public static byte DirectoryEntryType(uint mode) => (byte)((mode & TypeMask) >> 12);
}
