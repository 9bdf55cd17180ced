using System.CommandLine;
using MountFs.Tool.ImageFiles;

namespace MountFs.Tool.Commands;

/// <summary>`mountfs cat IMAGE:PATH...`: writes files from inside an image to stdout (as debugfs cat / mtype).</summary>
public static class CatCommand
{
    public static Command Create(ToolContext context)
    {
        var type = CommonOptions.Type(context.Registry);
        var operands = new Argument<string[]>("IMAGE:PATH") { Description = "Files inside images", Arity = ArgumentArity.OneOrMore };
        var command = new Command("cat", "Print files inside an image without mounting it") { type, operands };
        command.SetAction(result =>
        {
            string[] items = result.GetRequiredValue(operands);
            return CommandRunner.Run(context, items[0], () =>
            {
                using var sessions = new ImageSessions(context.Registry, result.GetValue(type));
                context.Out.Flush();
                foreach (string item in items)
                {
                    var target = ImageOperand.Require(item);
                    var tree = sessions.Open(target.Image, writable: false);
                    using var input = tree.OpenRead(target.Path);
                    input.CopyTo(context.BinaryOutput, 1 << 20);
                }
                context.BinaryOutput.Flush();
                return ExitCodes.Success;
            });
        });
        return command;
    }
}
