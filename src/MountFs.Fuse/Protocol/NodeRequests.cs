namespace MountFs.Fuse.Protocol;

// Fixed-size request bodies of the name and node operations, fuse.h layouts (offsets in comments).

/// <summary>fuse_forget_in: nlookup@0.</summary>
public readonly record struct ForgetIn(ulong Lookups)
{
    public static bool TryRead(ref FuseReader r, out ForgetIn v)
    {
        bool ok = r.TryReadUInt64(out ulong n);
        v = new ForgetIn(n);
        return ok;
    }
}

/// <summary>fuse_forget_one: nodeid@0, nlookup@8 (BATCH_FORGET carries count@0, dummy@4, then these).</summary>
public readonly record struct ForgetOne(ulong NodeId, ulong Lookups)
{
    public const int Size = 16;

    public static bool TryRead(ref FuseReader r, out ForgetOne v)
    {
        bool ok = r.TryReadUInt64(out ulong id) & r.TryReadUInt64(out ulong n);
        v = new ForgetOne(id, n);
        return ok;
    }
}

/// <summary>fuse_getattr_in: getattr_flags@0, dummy@4, fh@8.</summary>
public readonly record struct GetAttrIn(uint Flags, ulong Handle)
{
    public const uint HandleValid = 1;

    public static bool TryRead(ref FuseReader r, out GetAttrIn v)
    {
        bool ok = r.TryReadUInt32(out uint flags) & r.TryReadUInt32(out _) & r.TryReadUInt64(out ulong fh);
        v = new GetAttrIn(flags, fh);
        return ok;
    }
}

/// <summary>fuse_setattr_in (88 bytes): valid@0, fh@8, size@16, lock_owner@24, atime@32, mtime@40,
/// ctime@48, atimensec@56, mtimensec@60, ctimensec@64, mode@68, uid@76, gid@80.</summary>
public readonly record struct SetAttrIn(
    SetAttrValid Valid, ulong Handle, ulong Size, ulong Atime, ulong Mtime, ulong Ctime,
    uint AtimeNsec, uint MtimeNsec, uint CtimeNsec, uint Mode, uint Uid, uint Gid)
{
    public const int WireSize = 88;

    public static bool TryRead(ref FuseReader r, out SetAttrIn v)
    {
        v = default;
        if (!r.TryReadBlock(WireSize, out var b)) return false;
        var s = new FuseReader(b);
        s.TryReadUInt32(out uint valid); s.TryReadUInt32(out _);
        s.TryReadUInt64(out ulong fh); s.TryReadUInt64(out ulong size); s.TryReadUInt64(out _);
        s.TryReadUInt64(out ulong atime); s.TryReadUInt64(out ulong mtime); s.TryReadUInt64(out ulong ctime);
        s.TryReadUInt32(out uint an); s.TryReadUInt32(out uint mn); s.TryReadUInt32(out uint cn);
        s.TryReadUInt32(out uint mode); s.TryReadUInt32(out _);
        s.TryReadUInt32(out uint uid); s.TryReadUInt32(out uint gid);
        v = new SetAttrIn((SetAttrValid)valid, fh, size, atime, mtime, ctime, an, mn, cn, mode, uid, gid);
        return true;
    }
}

/// <summary>fuse_mknod_in: mode@0, rdev@4, umask@8, padding@12; then the name.</summary>
public readonly record struct MkNodIn(uint Mode, uint Rdev, uint Umask)
{
    public static bool TryRead(ref FuseReader r, out MkNodIn v)
    {
        bool ok = r.TryReadUInt32(out uint mode) & r.TryReadUInt32(out uint rdev) & r.TryReadUInt32(out uint umask)
                  & r.TryReadUInt32(out _);
        v = new MkNodIn(mode, rdev, umask);
        return ok;
    }
}

/// <summary>fuse_mkdir_in: mode@0, umask@4; then the name.</summary>
public readonly record struct MkDirIn(uint Mode, uint Umask)
{
    public static bool TryRead(ref FuseReader r, out MkDirIn v)
    {
        bool ok = r.TryReadUInt32(out uint mode) & r.TryReadUInt32(out uint umask);
        v = new MkDirIn(mode, umask);
        return ok;
    }
}

/// <summary>fuse_rename_in (newdir@0) or fuse_rename2_in (newdir@0, flags@8, padding@12); then old and new names.</summary>
public readonly record struct RenameIn(ulong NewDirectory, uint Flags)
{
    public static bool TryRead(ref FuseReader r, bool version2, out RenameIn v)
    {
        bool ok = r.TryReadUInt64(out ulong dir);
        uint flags = 0;
        if (version2) ok &= r.TryReadUInt32(out flags) & r.TryReadUInt32(out _);
        v = new RenameIn(dir, flags);
        return ok;
    }
}

/// <summary>fuse_link_in: oldnodeid@0; then the new name.</summary>
public readonly record struct LinkIn(ulong OldNodeId)
{
    public static bool TryRead(ref FuseReader r, out LinkIn v)
    {
        bool ok = r.TryReadUInt64(out ulong id);
        v = new LinkIn(id);
        return ok;
    }
}

/// <summary>fuse_access_in: mask@0, padding@4.</summary>
public readonly record struct AccessIn(uint Mask)
{
    public static bool TryRead(ref FuseReader r, out AccessIn v)
    {
        bool ok = r.TryReadUInt32(out uint mask) & r.TryReadUInt32(out _);
        v = new AccessIn(mask);
        return ok;
    }
}

/// <summary>fuse_interrupt_in: unique@0 of the request to interrupt.</summary>
public readonly record struct InterruptIn(ulong Unique)
{
    public static bool TryRead(ref FuseReader r, out InterruptIn v)
    {
        bool ok = r.TryReadUInt64(out ulong unique);
        v = new InterruptIn(unique);
        return ok;
    }
}
