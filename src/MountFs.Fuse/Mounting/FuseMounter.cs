using System.Diagnostics;
using System.Globalization;
using System.Text;
using MountFs.Fuse.Interop;

namespace MountFs.Fuse.Mounting;

/// <summary>
/// Attaches a /dev/fuse connection to a directory and detaches it: mount(2)/umount2(2) as root,
/// fusermount3 (descriptor passed back over a socketpair with SCM_RIGHTS) otherwise.
/// </summary>
public static class FuseMounter
{
    public static bool IsRoot => LibC.GetEuid() == 0;

    /// <summary>Refuses a missing, non-directory, already mounted or (unless allowed) non-empty mount point.</summary>
    public static string CheckMountPoint(string mountPoint, bool requireEmpty)
    {
        string full = Path.GetFullPath(mountPoint);
        if (!Directory.Exists(full))
            throw new FuseMountException(File.Exists(full)
                ? $"{mountPoint}: mount point is not a directory"
                : $"{mountPoint}: mount point does not exist");
        if (MountTable.Find(full) is { } existing)
            throw new FuseMountException($"{mountPoint}: mount point is busy (already mounted: {existing.Source} type {existing.FileSystemType})");
        if (requireEmpty && Directory.EnumerateFileSystemEntries(full).Any())
            throw new FuseMountException($"{mountPoint}: mount point is not empty (use -o nonempty to mount over it)");
        return full;
    }

    /// <summary>Mounts and returns the connection; the caller serves it.</summary>
    public static FuseDevice Mount(string mountPoint, FuseOptions options, uint rootMode)
    {
        bool viaFusermount = options.UseFusermount ?? !IsRoot;
        return viaFusermount ? MountWithFusermount(mountPoint, options) : MountWithSyscall(mountPoint, options, rootMode);
    }

    private static FuseDevice MountWithSyscall(string mountPoint, FuseOptions options, uint rootMode)
    {
        var device = FuseDevice.Open();
        var data = new StringBuilder();
        data.Append(CultureInfo.InvariantCulture,
            $"fd={device.Descriptor},rootmode={Convert.ToString(rootMode & 0xF000, 8)},user_id={LibC.GetEuid()},group_id={LibC.GetEgid()}");
        if (options.DefaultPermissions) data.Append(",default_permissions");
        if (options.AllowOther) data.Append(",allow_other");
        data.Append(CultureInfo.InvariantCulture, $",max_read={options.MaxWrite}");
        ulong flags = (options.ReadOnly ? LibC.MS_RDONLY : 0)
                      | (options.NoSuidNoDev ? LibC.MS_NOSUID | LibC.MS_NODEV : 0)
                      | (options.NoExec ? LibC.MS_NOEXEC : 0) | (options.NoAtime ? LibC.MS_NOATIME : 0);
        if (LibC.Mount(options.FsName, mountPoint, "fuse." + options.Subtype, flags, data.ToString()) != 0)
        {
            int errno = LibC.LastError;
            device.Dispose();
            throw new FuseMountException($"{mountPoint}: mount failed: {LibC.Describe(errno)}",
                errno == LibC.EPERM ? FuseMountException.Permission : FuseMountException.MountFailure);
        }
        return device;
    }

    private static unsafe FuseDevice MountWithFusermount(string mountPoint, FuseOptions options)
    {
        int* pair = stackalloc int[2];
        if (LibC.SocketPair(LibC.AF_UNIX, LibC.SOCK_STREAM, 0, pair) != 0)
            throw new FuseMountException($"fuse: socketpair failed: {LibC.Describe(LibC.LastError)}");
        int ours = pair[0], theirs = pair[1];
        LibC.Fcntl(ours, LibC.F_SETFD, LibC.FD_CLOEXEC);
        try
        {
            var opts = new List<string>
            {
                options.ReadOnly ? "ro" : "rw", "nosuid", "nodev",
                "fsname=" + EscapeOption(options.FsName), "subtype=" + EscapeOption(options.Subtype),
                $"max_read={options.MaxWrite}",
            };
            if (options.DefaultPermissions) opts.Add("default_permissions");
            if (options.AllowOther) opts.Add("allow_other");
            if (options.NoExec) opts.Add("noexec");
            if (options.NoAtime) opts.Add("noatime");
            var start = new ProcessStartInfo("fusermount3")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (string a in new[] { "-o", string.Join(',', opts), "--", mountPoint }) start.ArgumentList.Add(a);
            // fusermount3 finds the socket through this variable; the descriptor is inherited (no CLOEXEC).
            start.Environment["_FUSE_COMMFD"] = theirs.ToString(CultureInfo.InvariantCulture);
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new FuseMountException("fuse: cannot start fusermount3");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new FuseMountException($"fuse: cannot run fusermount3: {e.Message}");
            }
            LibC.Close(theirs);
            theirs = -1;
            int fd = ReceiveDescriptor(ours);
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            string message = stderr.Result.Trim();
            if (fd < 0)
                throw new FuseMountException(message.Length > 0 ? message : $"{mountPoint}: fusermount3 failed (exit {process.ExitCode})",
                    message.Contains("Permission denied", StringComparison.Ordinal) || message.Contains("not permitted", StringComparison.Ordinal)
                        ? FuseMountException.Permission
                        : FuseMountException.MountFailure);
            LibC.Fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC);
            return new FuseDevice(fd);
        }
        finally
        {
            LibC.Close(ours);
            if (theirs >= 0) LibC.Close(theirs);
        }
    }

    /// <summary>One data byte plus an SCM_RIGHTS control message carrying the /dev/fuse descriptor; -1 on failure.</summary>
    private static unsafe int ReceiveDescriptor(int socket)
    {
        byte data;
        var iov = new LibC.IoVec { Base = &data, Length = 1 };
        const int controlSize = 64;
        byte* control = stackalloc byte[controlSize];
        new Span<byte>(control, controlSize).Clear();
        var message = new LibC.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = controlSize };
        nint n;
        do n = LibC.RecvMsg(socket, &message, 0);
        while (n < 0 && LibC.LastError == LibC.EINTR);
        if (n <= 0 || message.ControlLength < LibC.CmsgHeaderSize + sizeof(int)) return -1;
        int level = *(int*)(control + 8), type = *(int*)(control + 12);
        if (level != LibC.SOL_SOCKET || type != LibC.SCM_RIGHTS) return -1;
        return *(int*)(control + LibC.CmsgHeaderSize);
    }

    private static string EscapeOption(string value) => value.Replace("\\", "\\\\").Replace(",", "\\,");

    /// <summary>Detaches the mount; <paramref name="lazy"/> detaches it now and frees it once unused.</summary>
    public static void Unmount(string mountPoint, bool lazy = false, bool? viaFusermount = null)
    {
        string full = Path.GetFullPath(mountPoint);
        if (viaFusermount ?? !IsRoot)
        {
            var start = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(lazy ? "-uz" : "-u");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(full);
            using var process = Process.Start(start) ?? throw new FuseMountException("fuse: cannot start fusermount3");
            string error = process.StandardError.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new FuseMountException(error.Length > 0 ? error : $"{mountPoint}: fusermount3 -u failed");
            return;
        }
        if (LibC.Umount2(full, lazy ? LibC.MNT_DETACH : 0) != 0)
        {
            int errno = LibC.LastError;
            string why = errno switch
            {
                LibC.EBUSY => "target is busy",
                LibC.EINVAL => "not mounted",
                _ => LibC.Describe(errno),
            };
            throw new FuseMountException($"{mountPoint}: unmount failed: {why}",
                errno == LibC.EPERM ? FuseMountException.Permission : FuseMountException.MountFailure);
        }
    }

    /// <summary>Breaks a hung connection through /sys/fs/fuse/connections/ID/abort (the kernel's last resort).</summary>
    public static bool Abort(int connectionId)
    {
        const string Connections = "/sys/fs/fuse/connections";
        string path = $"{Connections}/{connectionId}/abort";
        try
        {
            // Not every system mounts fusectl (ours did not): without it a hung mount could never be broken.
            // Asked of the mount table, not read off an empty directory: fusectl with no live connection lists
            // nothing either, and mounting it again would stack a second copy.
            if (!File.Exists(path) && IsRoot && MountTable.Find(Connections) is null)
                LibC.Mount("fusectl", Connections, "fusectl", 0, "");
            File.WriteAllText(path, "1");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
