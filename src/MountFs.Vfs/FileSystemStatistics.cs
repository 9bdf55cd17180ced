namespace MountFs.Vfs;

/// <summary>What statfs(2) shows.</summary>
/// <param name="BlockSize">Fundamental block size: the unit of the block counts.</param>
/// <param name="BlocksAvailable">Free blocks an unprivileged user may take (free less reserved).</param>
public sealed record FileSystemStatistics(
    int BlockSize,
    long Blocks,
    long BlocksFree,
    long BlocksAvailable,
    long Files,
    long FilesFree,
    int MaxNameLength);
