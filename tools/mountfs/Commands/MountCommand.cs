using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;
using MountFs.Blocks;
using MountFs.Fuse;
using MountFs.Fuse.Mounting;
using MountFs.Tool.ImageFiles;
using MountFs.Vfs;

namespace MountFs.Tool.Commands;

/// <summary>
/// `mountfs mount [-t TYPE] [-o OPTS] [-f] IMAGE MOUNTPOINT`: serves an image over FUSE.
/// </summary>
/// <remarks>
/// By default the command re-executes itself with -f and a hidden readiness descriptor, waits until
/// the child reports the mount live (or why it failed), and returns; the child detaches from the
/// terminal and serves until unmounted. .NET cannot fork safely, hence the re-exec. Exit codes are
/// mount(8)'s: 1 bad invocation or permissions, 32 mount failure.
/// </remarks>
public static class MountCommand
{
    public const int UsageFailure = 1;
    public const int MountFailure = 32;
    private const string ReadyLine = "READY";

    public static Command Create(ToolContext context)
    {
        var type = CommonOptions.Type(context.Registry);
        var options = new Option<string[]>("-o")
        {
            Description = "Mount options: ro, rw, allow_other, default_permissions, uid=, gid=, umask=, fmask=, dmask=, " +
                          "cache=SIZE, entry_timeout=S, attr_timeout=S, negative_timeout=S, threads=N, no_writeback_cache, flush_on_close, no_dir_cache, clone_fd, strict_dirty_limit, read_ahead_kb=N, nonempty, request_stats, io_uring (default), no_io_uring, io_uring_depth=N, " +
                          "and the layout's own (for example size= for memory)",
            HelpName = "OPTIONS",
            AllowMultipleArgumentsPerToken = false,
        };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Stay in the foreground, logging to the terminal" };
        var readyFd = new Option<int?>("--ready-fd") { Hidden = true };
        var image = new Argument<string>("IMAGE") { Description = "Image file or block device ('none' or 'memory' with -t memory)" };
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "Empty directory to mount on" };
        var command = new Command("mount", "Mount an image on a directory through FUSE") { type, options, foreground, readyFd, image, mountPoint };
        command.SetAction(result =>
        {
            string imagePath = result.GetRequiredValue(image);
            string target = result.GetRequiredValue(mountPoint);
            var invocation = new Invocation(imagePath, target, result.GetValue(type), result.GetValue(options) ?? [],
                result.GetValue(foreground), result.GetValue(readyFd));
            return Run(context, invocation);
        });
        return command;
    }

    /// <summary>
    /// mount.fuse3 runs `mountfs IMAGE MOUNTPOINT -o OPTS` for fstab type fuse.mountfs: arguments that
    /// start with neither a command nor an option are that form, and mean `mount`.
    /// </summary>
    public static string[] AsMountHelper(string[] args, IEnumerable<string> commandNames)
    {
        if (args.Length < 2 || args[0].StartsWith('-') || commandNames.Contains(args[0])) return args;
        return ["mount", .. args];
    }

    private sealed record Invocation(string Image, string MountPoint, string? Type, string[] Options, bool Foreground, int? ReadyFd);

    private static int Run(ToolContext context, Invocation invocation)
    {
        if (invocation.ReadyFd is { } fd) return Serve(context, invocation, new Readiness(fd));
        if (invocation.Foreground) return Serve(context, invocation, null);
        return Daemonize(context, invocation);
    }

    /// <summary>Checks what can be checked cheaply, then starts the serving child and waits for its verdict.</summary>
    private static int Daemonize(ToolContext context, Invocation invocation)
    {
        int early = CommandRunner.Run(context, invocation.Image, () =>
        {
            MountOptionParser.Parse(invocation.Options);
            return 0;
        }, UsageFailure);
        if (early != 0) return early;

        if (Syscall.pipe(out int readEnd, out int writeEnd) != 0)
        {
            context.ReportError("mount", "cannot create a pipe: " + Stdlib.GetLastError());
            return MountFailure;
        }
        Syscall.fcntl(readEnd, FcntlCommand.F_SETFD, 1);
        var start = SelfStartInfo();
        foreach (string o in invocation.Options) { start.ArgumentList.Add("-o"); start.ArgumentList.Add(o); }
        if (invocation.Type is { } t) { start.ArgumentList.Add("-t"); start.ArgumentList.Add(t); }
        start.ArgumentList.Add("--ready-fd");
        start.ArgumentList.Add(writeEnd.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(invocation.Image);
        start.ArgumentList.Add(invocation.MountPoint);
        Process child;
        try
        {
            child = Process.Start(start)!;
        }
        finally
        {
            Syscall.close(writeEnd);
        }
        using var reader = new StreamReader(new FileStream(new SafeFileHandle(readEnd, ownsHandle: true), FileAccess.Read));
        var line = reader.ReadLineAsync();
        // Another process started meanwhile may have inherited the write end, so the child's exit
        // (not end-of-file) is what tells a crash apart from a slow start.
        while (!line.Wait(TimeSpan.FromMilliseconds(200)))
        {
            if (child.HasExited && !line.Wait(TimeSpan.FromMilliseconds(500)))
            {
                context.ReportError(invocation.MountPoint, $"mount helper exited with code {child.ExitCode} before the mount was live");
                return child.ExitCode == 0 ? MountFailure : child.ExitCode;
            }
        }
        string? verdict = line.Result;
        if (verdict == ReadyLine) return ExitCodes.Success;
        child.WaitForExit(5000);
        if (verdict is not null) context.Error.WriteLine(verdict);
        return child.HasExited && child.ExitCode != 0 ? child.ExitCode : MountFailure;
    }

    private static ProcessStartInfo SelfStartInfo()
    {
        string host = Environment.ProcessPath ?? throw new ToolException("mount", "cannot find the mountfs executable");
        // The shell points the child's stdio at /dev/null before exec: .NET duplicates the standard
        // descriptors when it first touches Console, so redirecting them later would leave the
        // caller's pipes held open by the daemon. Inherited descriptors (the readiness pipe) pass through.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >/dev/null 2>&1");
        start.ArgumentList.Add(host);
        // Run as `dotnet mountfs.dll`: the program path is the first command-line argument.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        start.ArgumentList.Add("mount");
        return start;
    }

    /// <summary>Mounts and serves until unmounted; reports readiness (or the failure) through <paramref name="readiness"/>.</summary>
    private static int Serve(ToolContext context, Invocation invocation, Readiness? readiness)
    {
        if (readiness is not null) Detach();
        var errors = new StringWriter();
        var reporting = new ToolContext(context.Registry, context.Out, readiness is null ? context.Error : errors, context.BinaryOutput, false);
        FuseMount? mount = null;
        // Registered before mounting so a signal that arrives while the mount comes up is not lost.
        using var unmountOnSignal = new SignalUnmounter(context.Error);
        int code = CommandRunner.Run(reporting, invocation.Image, () =>
        {
            mount = Start(context, invocation);
            return 0;
        }, MountFailure);
        if (mount is null)
        {
            readiness?.Report(errors.ToString().TrimEnd());
            return code == 0 ? MountFailure : code;
        }
        readiness?.Report(ReadyLine);
        unmountOnSignal.Attach(mount);
        try
        {
            mount.Completion.Wait();
        }
        catch (AggregateException e)
        {
            context.ReportError(invocation.Image, "closing the file system failed: " + e.InnerException?.Message);
            return ExitCodes.Failure;
        }
        context.Error.WriteLine($"mountfs: {invocation.Image}: unmounted from {mount.MountPoint}");
        return ExitCodes.Success;
    }

    private static FuseMount Start(ToolContext context, Invocation invocation)
    {
        var request = MountOptionParser.Parse(invocation.Options);
        if (!File.Exists("/dev/fuse"))
            throw new ToolException("fuse", "device /dev/fuse not found, try 'modprobe fuse' first", MountFailure);
        string target = Path.GetFullPath(invocation.MountPoint);
        try
        {
            FuseMounter.CheckMountPoint(target, request.Fuse.RequireEmptyMountPoint);
        }
        catch (FuseMountException e)
        {
            throw new ToolException(invocation.MountPoint, e.Message.Replace(invocation.MountPoint + ": ", ""), e.ExitCode);
        }
        var fileSystem = OpenFileSystem(context, invocation, request);
        string fsName = ImageSpec.TryParse(invocation.Image) is { } spec
            ? Path.GetFullPath(spec.Path) + (spec.Partition is int n ? $"@{n}" : "")
            : invocation.Image;
        var fuse = request.Fuse with { FsName = request.Fuse.FsName == "mountfs" ? fsName : request.Fuse.FsName };
        var log = TextWriter.Synchronized(context.Error);
        try
        {
            var mount = FuseMount.Start(fileSystem, target, fuse, line => log.WriteLine("mountfs: " + line), ownsFileSystem: true);
            log.WriteLine($"mountfs: {invocation.Image} mounted on {target} ({mount.Threads} threads{(fuse.ReadOnly ? ", read-only" : "")})");
            return mount;
        }
        catch (FuseMountException e)
        {
            fileSystem.Dispose();
            throw new ToolException(invocation.MountPoint, e.Message.Replace(invocation.MountPoint + ": ", "").Replace(target + ": ", ""), e.ExitCode);
        }
        catch
        {
            fileSystem.Dispose();
            throw;
        }
    }

    private static IFileSystem OpenFileSystem(ToolContext context, Invocation invocation, MountRequest request)
    {
        var layout = invocation.Type is { } type
            ? context.Registry.Find(type) ?? throw new ToolException(type, $"unknown file-system type (known: {context.Registry.DescribeTypes()})", UsageFailure)
            : null;
        bool memorySource = invocation.Image is "none" or "memory" or "tmpfs" && !ImageSpec.Exists(invocation.Image);
        if (memorySource)
        {
            layout ??= context.Registry.Find("memory")
                       ?? throw new ToolException("memory", "this build has no memory layout", UsageFailure);
            return Mount(layout, new MemoryBlockDevice(4096, name: "memory"), request, invocation);
        }
        IBlockDevice device;
        try
        {
            // IMAGE may name a partition of a partitioned disk image ("disk.img@2").
            device = ImageSpec.Open(invocation.Image, writable: !request.Layout.ReadOnly);
        }
        catch (ToolException e) when (e.Message.Contains("locked", StringComparison.Ordinal))
        {
            throw new ToolException(invocation.Image, "already mounted or in use by another process (the image is locked)", MountFailure);
        }
        layout ??= context.Registry.Probe(device);
        if (layout is null)
        {
            device.Dispose();
            throw new ToolException(invocation.Image, $"no recognised file system (known: {context.Registry.DescribeTypes()})", MountFailure);
        }
        return Mount(layout, device, request, invocation);
    }

    private static IFileSystem Mount(IFileSystemLayout layout, IBlockDevice device, MountRequest request, Invocation invocation)
    {
        try
        {
            return layout.Mount(device, request.Layout);
        }
        catch (FsException e) when (e.Errno == MountFs.Vfs.Errno.EINVAL)
        {
            device.Dispose();
            throw new ToolException(invocation.Image, e.Message, UsageFailure);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>The serving child leaves the caller's session (its stdio is already /dev/null), so the
    /// terminal's SIGHUP and Ctrl-C no longer reach it.</summary>
    private static void Detach() => Syscall.setsid();

    /// <summary>The write end of the parent's pipe: one line ("READY" or the error), then closed.</summary>
    private sealed class Readiness(int fd)
    {
        public void Report(string line)
        {
            using var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write);
            stream.Write(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
        }
    }

    /// <summary>SIGINT/SIGTERM/SIGHUP unmount (lazily when busy); the loop then ends as for any unmount.
    /// A signal before the mount is attached is remembered and acted on at <see cref="Attach"/>.</summary>
    private sealed class SignalUnmounter : IDisposable
    {
        private readonly PosixSignalRegistration[] _registrations;
        private readonly TextWriter _log;
        private readonly Lock _lock = new();
        private FuseMount? _mount;
        private bool _signalled, _started;

        public SignalUnmounter(TextWriter log)
        {
            _log = log;
            _registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }
                .Select(s => PosixSignalRegistration.Create(s, OnSignal))];
        }

        public void Attach(FuseMount mount)
        {
            lock (_lock)
            {
                _mount = mount;
                if (_signalled) BeginUnmount();
            }
        }

        private void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true;
            lock (_lock)
            {
                _signalled = true;
                if (_mount is not null) BeginUnmount();
            }
        }

        private void BeginUnmount()
        {
            if (_started) return;
            _started = true;
            string mountPoint = _mount!.MountPoint;
            // Never from a FUSE worker, and not on the signal thread either: umount waits for the workers.
            new Thread(() =>
            {
                try
                {
                    FuseMounter.Unmount(mountPoint);
                }
                catch (FuseMountException e)
                {
                    _log.WriteLine($"mountfs: {e.Message}; detaching lazily");
                    try { FuseMounter.Unmount(mountPoint, lazy: true); }
                    catch (FuseMountException lazy) { _log.WriteLine("mountfs: " + lazy.Message); }
                }
            }) { IsBackground = true, Name = "unmount-on-signal" }.Start();
        }

        public void Dispose()
        {
            foreach (var r in _registrations) r.Dispose();
        }
    }
}
