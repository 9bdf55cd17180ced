using System.CommandLine;
using MountFs.Tool.ImageFiles;

namespace MountFs.Tool.Commands;

/// <summary>
/// `mountfs cp [-r] SRC... DST`: copies between the host and images (either side may be IMAGE:PATH),
/// without mounting, as debugfs write/dump and mcopy do.
/// </summary>
public static class CpCommand
{
    public static Command Create(ToolContext context)
    {
        var recursive = new Option<bool>("-r", "-R", "--recursive") { Description = "Copy directories recursively" };
        var type = CommonOptions.Type(context.Registry);
        var operands = new Argument<string[]>("SRC-and-DST")
        {
            Description = "Sources and destination; each a host path or IMAGE:PATH. With several sources DST must be a directory",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("cp", "Copy files between the host and images without mounting") { recursive, type, operands };
        command.Validators.Add(result =>
        {
            if (result.GetValue(operands) is { Length: < 2 }) result.AddError("missing destination operand (cp SRC... DST)");
        });
        command.SetAction(result =>
        {
            string[] items = result.GetRequiredValue(operands);
            return CommandRunner.Run(context, items[^1], () =>
            {
                if (items.All(i => ImagePath.TryParse(i) is null))
                    throw new ToolException("cp", "no operand is IMAGE:PATH (use cp(1) to copy between host paths)", ExitCodes.Usage);
                using var sessions = new ImageSessions(context.Registry, result.GetValue(type));
                var host = new HostTree();
                var (target, targetPath) = Resolve(sessions, host, items[^1], writable: true);
                if (items.Length > 2 && target.Stat(targetPath) is not { IsDirectory: true })
                    throw new ToolException(target.Display(targetPath), "target is not a directory");
                var copier = new TreeCopier(context, result.GetValue(recursive));
                foreach (string item in items[..^1])
                {
                    var (source, sourcePath) = Resolve(sessions, host, item, writable: false);
                    copier.Copy(source, sourcePath, target, targetPath);
                }
                return copier.Failures == 0 ? ExitCodes.Success : ExitCodes.Failure;
            });
        });
        return command;
    }

    private static (IFileTree Tree, string Path) Resolve(ImageSessions sessions, HostTree host, string operand, bool writable) =>
        ImagePath.TryParse(operand) is { } inImage
            ? (sessions.Open(inImage.Image, writable), inImage.Path)
            : (host, operand);
}
