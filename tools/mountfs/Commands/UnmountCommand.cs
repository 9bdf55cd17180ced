using System.CommandLine;
using MountFs.Blocks;
using MountFs.Fuse.Mounting;

namespace MountFs.Tool.Commands;

/// <summary>
/// `mountfs unmount [-l] MOUNTPOINT`: umount2 as root, fusermount3 -u otherwise; then waits (up to
/// 30 s) until the serving process has released the image, so a following fsck sees it clean.
/// </summary>
public static class UnmountCommand
{
    public static Command Create(ToolContext context)
    {
        var lazy = new Option<bool>("--lazy", "-l") { Description = "Detach now; finish when the mount is no longer busy" };
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "Directory an image is mounted on" };
        var command = new Command("unmount", "Unmount an image mounted with `mountfs mount`") { lazy, mountPoint };
        command.Aliases.Add("umount");
        command.SetAction(result =>
        {
            string target = result.GetRequiredValue(mountPoint);
            return CommandRunner.Run(context, target, () => Unmount(target, result.GetValue(lazy)), MountCommand.MountFailure);
        });
        return command;
    }

    private static int Unmount(string target, bool lazy)
    {
        var entry = MountTable.Find(target) ?? throw new ToolException(target, "not mounted", MountCommand.MountFailure);
        try
        {
            FuseMounter.Unmount(target, lazy);
        }
        catch (FuseMountException e)
        {
            throw new ToolException(target, e.Message.Replace(target + ": ", "").Replace(Path.GetFullPath(target) + ": ", ""), e.ExitCode);
        }
        if (!lazy && entry.FileSystemType.StartsWith("fuse", StringComparison.Ordinal)) WaitForImageRelease(entry.Source);
        return ExitCodes.Success;
    }

    /// <summary>The daemon disposes the file system after the kernel lets go; its image lock marks the end.</summary>
    private static void WaitForImageRelease(string image)
    {
        // The source is the image path, with "@N" when a partition was mounted.
        int at = image.LastIndexOf('@');
        if (!File.Exists(image) && at > 0 && File.Exists(image[..at])) image = image[..at];
        if (!File.Exists(image)) return;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                FileBlockDevice.Open(image, readOnly: true).Dispose();
                return;
            }
            catch (DeviceLockedException)
            {
                Thread.Sleep(50);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }
}
