using System.CommandLine;
using MountFs.Tool.ImageFiles;

namespace MountFs.Tool.Commands;

/// <summary>`mountfs rm [-r] IMAGE:PATH...`: removes files (and with -r directories) inside an image without mounting it.</summary>
public static class RmCommand
{
    public static Command Create(ToolContext context)
    {
        var recursive = new Option<bool>("-r", "-R", "--recursive") { Description = "Remove directories and their contents" };
        var force = new Option<bool>("-f", "--force") { Description = "Ignore names that do not exist" };
        var type = CommonOptions.Type(context.Registry);
        var operands = new Argument<string[]>("IMAGE:PATH") { Description = "Files or directories to remove", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "Remove files or directories inside an image without mounting it") { recursive, force, type, operands };
        command.SetAction(result =>
        {
            string[] items = result.GetRequiredValue(operands);
            bool deep = result.GetValue(recursive);
            bool quiet = result.GetValue(force);
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
                        if (target.Path == "/") throw new ToolException(tree.Display("/"), "refusing to remove the root directory");
                        var entry = tree.Stat(target.Path);
                        if (entry is null)
                        {
                            if (!quiet) throw new ToolException(tree.Display(target.Path), "No such file or directory");
                            continue;
                        }
                        if (entry.IsDirectory && !deep) throw new ToolException(tree.Display(target.Path), "Is a directory (use -r)");
                        Remove(tree, entry);
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

    private static void Remove(ImageTree tree, TreeEntry entry)
    {
        if (entry.IsDirectory)
        {
            foreach (string name in tree.List(entry.Path))
            {
                var child = tree.Stat(tree.Combine(entry.Path, name));
                if (child is not null) Remove(tree, child);
            }
        }
        tree.Remove(entry.Path);
    }
}
