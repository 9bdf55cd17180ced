using Mono.Unix.Native;
using MountFs.Vfs;

namespace MountFs.Tool;

/// <summary>Who runs the tool: files it creates in an image belong to this uid/gid, as debugfs write does.</summary>
public static class ProcessCredentials
{
    public static Credentials Current => new(Syscall.getuid(), Syscall.getgid(), Environment.ProcessId);
}
