namespace MountFs.Fuse.Protocol;

// Fixed-size request bodies of the open-file operations, fuse.h layouts (offsets in comments).

/// <summary>fuse_open_in: flags@0, open_flags@4 (also OPENDIR).</summary>
public readonly record struct OpenIn(uint Flags, uint OpenFlags)
{
    public static bool TryRead(ref FuseReader r, out OpenIn v)
    {
        bool ok = r.TryReadUInt32(out uint flags) & r.TryReadUInt32(out uint openFlags);
        v = new OpenIn(flags, openFlags);
        return ok;
    }
}

/// <summary>fuse_create_in: flags@0, mode@4, umask@8, open_flags@12; then the name.</summary>
public readonly record struct CreateIn(uint Flags, uint Mode, uint Umask, uint OpenFlags)
{
    public static bool TryRead(ref FuseReader r, out CreateIn v)
    {
        bool ok = r.TryReadUInt32(out uint flags) & r.TryReadUInt32(out uint mode) & r.TryReadUInt32(out uint umask)
                  & r.TryReadUInt32(out uint openFlags);
        v = new CreateIn(flags, mode, umask, openFlags);
        return ok;
    }
}

/// <summary>fuse_read_in / fuse_write_in (40 bytes): fh@0, offset@8, size@16, read/write_flags@20,
/// lock_owner@24, flags@32, padding@36. WRITE data follows.</summary>
public readonly record struct ReadWriteIn(ulong Handle, ulong Offset, uint Size, uint IoFlags, uint Flags)
{
    public const int WireSize = 40;
    /// <summary>FUSE_WRITE_CACHE: a delayed write from the page cache; the handle is a guess.</summary>
    public const uint WriteCache = 1;

    public static bool TryRead(ref FuseReader r, out ReadWriteIn v)
    {
        bool ok = r.TryReadUInt64(out ulong fh) & r.TryReadUInt64(out ulong offset) & r.TryReadUInt32(out uint size)
                  & r.TryReadUInt32(out uint ioFlags) & r.TryReadUInt64(out _) & r.TryReadUInt32(out uint flags)
                  & r.TryReadUInt32(out _);
        v = new ReadWriteIn(fh, offset, size, ioFlags, flags);
        return ok;
    }
}

/// <summary>fuse_release_in (24 bytes): fh@0, flags@8, release_flags@12, lock_owner@16 (also RELEASEDIR).</summary>
public readonly record struct ReleaseIn(ulong Handle, uint Flags, uint ReleaseFlags)
{
    public static bool TryRead(ref FuseReader r, out ReleaseIn v)
    {
        bool ok = r.TryReadUInt64(out ulong fh) & r.TryReadUInt32(out uint flags) & r.TryReadUInt32(out uint rf)
                  & r.TryReadUInt64(out _);
        v = new ReleaseIn(fh, flags, rf);
        return ok;
    }
}

/// <summary>fuse_flush_in (24 bytes): fh@0, unused@8, padding@12, lock_owner@16.</summary>
public readonly record struct FlushIn(ulong Handle)
{
    public static bool TryRead(ref FuseReader r, out FlushIn v)
    {
        bool ok = r.TryReadUInt64(out ulong fh) & r.TryReadUInt64(out _) & r.TryReadUInt64(out _);
        v = new FlushIn(fh);
        return ok;
    }
}

/// <summary>fuse_fsync_in: fh@0, fsync_flags@8 (bit 0 = fdatasync), padding@12 (also FSYNCDIR).</summary>
public readonly record struct FsyncIn(ulong Handle, uint FsyncFlags)
{
    public bool DataOnly => (FsyncFlags & 1) != 0;

    public static bool TryRead(ref FuseReader r, out FsyncIn v)
    {
        bool ok = r.TryReadUInt64(out ulong fh) & r.TryReadUInt32(out uint flags) & r.TryReadUInt32(out _);
        v = new FsyncIn(fh, flags);
        return ok;
    }
}

/// <summary>fuse_fallocate_in (32 bytes): fh@0, offset@8, length@16, mode@24, padding@28.</summary>
public readonly record struct FallocateIn(ulong Handle, ulong Offset, ulong Length, uint Mode)
{
    public static bool TryRead(ref FuseReader r, out FallocateIn v)
    {
        bool ok = r.TryReadUInt64(out ulong fh) & r.TryReadUInt64(out ulong offset) & r.TryReadUInt64(out ulong length)
                  & r.TryReadUInt32(out uint mode) & r.TryReadUInt32(out _);
        v = new FallocateIn(fh, offset, length, mode);
        return ok;
    }
}

/// <summary>fuse_lseek_in (24 bytes): fh@0, offset@8, whence@16, padding@20.</summary>
public readonly record struct LseekIn(ulong Handle, ulong Offset, uint Whence)
{
    public const uint SeekData = 3;
    public const uint SeekHole = 4;

    public static bool TryRead(ref FuseReader r, out LseekIn v)
    {
        bool ok = r.TryReadUInt64(out ulong fh) & r.TryReadUInt64(out ulong offset) & r.TryReadUInt32(out uint whence)
                  & r.TryReadUInt32(out _);
        v = new LseekIn(fh, offset, whence);
        return ok;
    }
}

/// <summary>fuse_getxattr_in (also LISTXATTR): size@0, padding@4. fuse_setxattr_in: size@0, flags@4,
/// and with SETXATTR_EXT setxattr_flags@8, padding@12.</summary>
public readonly record struct XattrIn(uint Size, uint Flags)
{
    public static bool TryReadGet(ref FuseReader r, out XattrIn v)
    {
        bool ok = r.TryReadUInt32(out uint size) & r.TryReadUInt32(out _);
        v = new XattrIn(size, 0);
        return ok;
    }

    public static bool TryReadSet(ref FuseReader r, bool extended, out XattrIn v)
    {
        bool ok = r.TryReadUInt32(out uint size) & r.TryReadUInt32(out uint flags);
        if (extended) ok &= r.TryReadUInt64(out _);
        v = new XattrIn(size, flags);
        return ok;
    }
}
