using System.CommandLine;
using MountFs.Tool.ImageFiles;

namespace MountFs.Tool.Commands;

/// <summary>`mountfs mkdir [-p] IMAGE:PATH...`: makes directories inside an image without mounting it.</summary>
public static class MkdirCommand
{
    public static Command Create(ToolContext context)
    {
        var parents = new Option<bool>("-p", "--parents") { Description = "Make parent directories as needed; no error if it exists" };
        var type = CommonOptions.Type(context.Registry);
        var operands = new Argument<string[]>("IMAGE:PATH") { Description = "Directories to make", Arity = ArgumentArity.OneOrMore };
        var command = new Command("mkdir", "Make directories inside an image without mounting it") { parents, type, operands };
        command.SetAction(result =>
        {
            string[] items = result.GetRequiredValue(operands);
            bool withParents = result.GetValue(parents);
            return CommandRunner.Run(context, items[0], () =>
            {
                using var sessions = new ImageSessions(context.Registry, result.GetValue(type));
                int failures = 0;
                foreach (string item in items)
                {
                    try
                    {
                        var target = ImageOperand.Require(item);
                        var tree = sessions.Open(target.Image, writable: true);
                        if (withParents) MakeWithParents(tree, target.Path);
                        else tree.CreateDirectory(target.Path, 0x1ED); // 0755
                    }
                    catch (ToolException e)
                    {
                        context.ReportError(e.Subject, e.Message);
                        failures++;
                    }
                }
                return failures == 0 ? ExitCodes.Success : ExitCodes.Failure;
            });
        });
        return command;
    }

    private static void MakeWithParents(ImageTree tree, string path)
    {
        string current = "/";
        foreach (string component in ImagePath.Components(ImagePath.Normalise(path)))
        {
            current = ImagePath.Combine(current, component);
            var entry = tree.Stat(current);
            if (entry is null) tree.CreateDirectory(current, 0x1ED);
            else if (!entry.IsDirectory) throw new ToolException(tree.Display(current), "Not a directory");
        }
    }
}
