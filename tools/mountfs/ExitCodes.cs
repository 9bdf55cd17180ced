namespace MountFs.Tool;

/// <summary>What the tool's exit status means; fsck uses fsck(8)'s codes instead (see FsckExitCode).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
