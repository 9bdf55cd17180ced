using System.CommandLine;
using System.Globalization;
using MountFs.Tool.ImageFiles;
using UnixFileMode = MountFs.Vfs.UnixFileMode;

namespace MountFs.Tool.Commands;

/// <summary>`mountfs ls [-l] IMAGE[:PATH]`: lists a directory inside an image without mounting it (as debugfs ls / mdir).</summary>
public static class LsCommand
{
    public static Command Create(ToolContext context)
    {
        var longFormat = new Option<bool>("-l") { Description = "Long listing: mode, links, owner, size, modification time" };
        var type = CommonOptions.Type(context.Registry);
        var operand = new Argument<string>("IMAGE[:PATH]") { Description = "Image and the directory or file in it (default: the root)" };
        var command = new Command("ls", "List files inside an image without mounting it") { longFormat, type, operand };
        command.SetAction(result =>
        {
            string text = result.GetRequiredValue(operand);
            return CommandRunner.Run(context, text, () =>
            {
                var target = ImageOperand.Require(text);
                using var sessions = new ImageSessions(context.Registry, result.GetValue(type));
                var tree = sessions.Open(target.Image, writable: false);
                var entry = tree.Stat(target.Path) ?? throw new ToolException(tree.Display(target.Path), "No such file or directory");
                bool full = result.GetValue(longFormat);
                if (!entry.IsDirectory)
                {
                    Print(context, tree, entry, target.Path, full);
                    return ExitCodes.Success;
                }
                foreach (string name in tree.List(target.Path))
                {
                    string path = tree.Combine(target.Path, name);
                    if (!full)
                    {
                        context.Out.WriteLine(name);
                        continue;
                    }
                    var child = tree.Stat(path);
                    if (child is not null) Print(context, tree, child, name, full);
                }
                return ExitCodes.Success;
            });
        });
        return command;
    }

    private static void Print(ToolContext context, ImageTree tree, TreeEntry entry, string name, bool full)
    {
        if (!full)
        {
            context.Out.WriteLine(name);
            return;
        }
        string link = entry.IsSymlink ? " -> " + tree.ReadLink(entry.Path) : "";
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{ModeString(entry.Mode)} {entry.Links,3} {entry.Uid,5} {entry.Gid,5} {entry.Size,12} {entry.ModifiedUtc:yyyy-MM-dd HH:mm:ss} {name}{link}"));
    }

    /// <summary>ls -l's ten-character mode ("drwxr-xr-x").</summary>
    public static string ModeString(uint mode)
    {
        char type = UnixFileMode.TypeOf(mode) switch
        {
            UnixFileMode.Directory => 'd',
            UnixFileMode.Symlink => 'l',
            UnixFileMode.CharacterDevice => 'c',
            UnixFileMode.BlockDevice => 'b',
            UnixFileMode.Fifo => 'p',
            UnixFileMode.Socket => 's',
            _ => '-',
        };
        Span<char> s = stackalloc char[10];
        s[0] = type;
        const string letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
            s[i + 1] = (mode & (1u << (8 - i))) != 0 ? letters[i] : '-';
        if ((mode & 0x800) != 0) s[3] = s[3] == 'x' ? 's' : 'S';
        if ((mode & 0x400) != 0) s[6] = s[6] == 'x' ? 's' : 'S';
        if ((mode & 0x200) != 0) s[9] = s[9] == 'x' ? 't' : 'T';
        return new string(s);
    }
}
