namespace MountFs.ModelKit;

/// <summary>What a generated operation does; see the README for how each one picks its targets.</summary>
public enum OperationKind
{
    Create,
    Mkdir,
    Mknod,
    Symlink,
    Link,
    Unlink,
    Rmdir,
    Rename,
    Write,
    Read,
    Truncate,
    Chmod,
    Chown,
    Utimens,
    Stat,
    Readdir,
    Readlink,
    Fsync,
    Sync,
    Open,
    HandleWrite,
    HandleRead,
    HandleStat,
    Close,
    SetXattr,
    GetXattr,
    ListXattr,
    RemoveXattr,
    Fallocate,
    Statfs,
    WriteBeyondLimit,
    WriteFar,
    Remount,
}

/// <summary>
/// One generated operation. The numbers are selectors, interpreted against the reference tree when the
/// operation runs (the n-th existing file, a name from the pool, an offset relative to the current size),
/// so any subsequence of a valid sequence is still valid: that is what makes shrinking work.
/// </summary>
public readonly record struct ModelOperation(OperationKind Kind, int A, int B, int C, int D, long E)
{
    public override string ToString() => $"new ModelOperation(OperationKind.{Kind}, {A}, {B}, {C}, {D}, {E})";
}
