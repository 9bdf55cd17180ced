namespace MountFs.Vfs;

/// <summary>Who asks: new nodes are owned by this uid/gid; <see cref="IFileSystem.Access"/> checks against it.</summary>
public readonly record struct Credentials(uint Uid, uint Gid, int Pid = 0)
{
    public static Credentials Root => new(0, 0);
}
