namespace MountFs.Vfs;

/// <summary>Linux open(2) flags, with the values the kernel uses.</summary>
[Flags]
public enum OpenFlags
{
    ReadOnly = 0,
    WriteOnly = 0x1,
    ReadWrite = 0x2,
    AccessMask = 0x3,
    Create = 0x40,
    Exclusive = 0x80,
    Truncate = 0x200,
    Append = 0x400,
    NonBlocking = 0x800,
    Direct = 0x4000,
    Directory = 0x10000,
    NoFollow = 0x20000,
}

/// <summary>renameat2(2) flags.</summary>
[Flags]
public enum RenameFlags
{
    None = 0,
    NoReplace = 1,
    Exchange = 2,
    Whiteout = 4,
}

/// <summary>fallocate(2) modes.</summary>
[Flags]
public enum FallocateMode
{
    Allocate = 0,
    KeepSize = 0x1,
    PunchHole = 0x2,
    ZeroRange = 0x10,
}

/// <summary>access(2) mask bits.</summary>
[Flags]
public enum AccessMode
{
    Exists = 0,
    Execute = 1,
    Write = 2,
    Read = 4,
}
