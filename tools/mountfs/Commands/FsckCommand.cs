using System.CommandLine;
using MountFs.Blocks;
using MountFs.Tool.ImageFiles;
using MountFs.Vfs;

namespace MountFs.Tool.Commands;

/// <summary>
/// `mountfs fsck [-n|-y|-p] [-f] [-t TYPE] IMAGE`: runs the layout's checker and exits with fsck(8)'s codes
/// (0 clean, 1 corrected, 4 uncorrected, 8 operational error, 16 usage).
/// </summary>
public static class FsckCommand
{
    public const string Name = "fsck";

    public static Command Create(ToolContext context)
    {
        var checkOnly = new Option<bool>("-n") { Description = "Check only: open read-only and change nothing (the default)" };
        var all = new Option<bool>("-y") { Description = "Repair everything found" };
        var preen = new Option<bool>("-p", "-a") { Description = "Preen: repair what is safe without asking" };
        var force = new Option<bool>("-f") { Description = "Check even when the file system is marked clean" };
        var type = CommonOptions.Type(context.Registry);
        var image = new Argument<string>("IMAGE") { Description = "Image file or block device; IMAGE@N for its partition N" };
        var command = new Command(Name, "Check (and with -y/-p repair) a file system; exit codes as fsck(8)")
        {
            checkOnly, all, preen, force, type, image,
        };
        command.Validators.Add(result =>
        {
            int modes = (result.GetValue(checkOnly) ? 1 : 0) + (result.GetValue(all) ? 1 : 0) + (result.GetValue(preen) ? 1 : 0);
            if (modes > 1) result.AddError("only one of -n, -y and -p may be given");
        });
        command.SetAction(result =>
        {
            string path = result.GetRequiredValue(image);
            var mode = result.GetValue(all) ? RepairMode.All : result.GetValue(preen) ? RepairMode.Preen : RepairMode.CheckOnly;
            return CommandRunner.Run(context, path,
                () => Check(context, path, mode, result.GetValue(force), result.GetValue(type)),
                (int)FsckExitCode.OperationalError);
        });
        return command;
    }

    private static int Check(ToolContext context, string path, RepairMode mode, bool force, string? type)
    {
        using var device = ImageSpec.Open(path, writable: mode != RepairMode.CheckOnly);
        IFileSystemLayout layout;
        try
        {
            layout = ImageSessions.FindLayout(context.Registry, path, device, type);
        }
        catch (ToolException e) when (e.ExitCode == ExitCodes.Usage)
        {
            throw new ToolException(e.Subject, e.Message, (int)FsckExitCode.UsageError);
        }
        var checker = layout.Checker
            ?? throw new ToolException(path, $"no fsck for {layout.Name} in this build");
        var result = checker.Check(device, mode, force, context.Out);
        if (!device.IsReadOnly) device.Flush();
        context.Out.WriteLine($"{path}: {Summary(result)}");
        return (int)result.ExitCode;
    }

    private static string Summary(FsckResult result)
    {
        var code = result.ExitCode;
        if (code == FsckExitCode.Clean) return "clean";
        var parts = new List<string> { $"{result.Problems.Count} problem(s)" };
        if (code.HasFlag(FsckExitCode.Corrected)) parts.Add("corrected");
        if (code.HasFlag(FsckExitCode.Uncorrected)) parts.Add("left uncorrected");
        if (code.HasFlag(FsckExitCode.OperationalError)) parts.Add("check could not finish");
        return string.Join(", ", parts);
    }
}
