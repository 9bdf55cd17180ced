using System.CommandLine;
using System.CommandLine.Help;
using MountFs.Ext;
using MountFs.Fat;
using MountFs.Memory;
using MountFs.Tool.Commands;
using MountFs.Vfs;

// The tool drives Linux-only facilities (flock, FUSE, POSIX modes); there is no other platform to warn about.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace MountFs.Tool;

/// <summary>The `mountfs` command: builds the layout registry and the command tree, then runs one command.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var context = new ToolContext(CreateRegistry(), Console.Out, Console.Error,
            Console.OpenStandardOutput(), interactive: !Console.IsOutputRedirected);
        return Run(args, context);
    }

    /// <summary>Every layout this build knows, in the order images are probed (no reflection: add new layouts here).</summary>
    public static LayoutRegistry CreateRegistry() => new(new IFileSystemLayout[]
    {
        new Ext2Layout(),
        new FatLayout(),
        new MemoryLayout(),
    });

    /// <summary>The command tree. A new command is one file under Commands/ and one line here.</summary>
    public static Command CreateRootCommand(ToolContext context, bool withHelpAndVersion = true)
    {
        // A plain Command named "mountfs" rather than RootCommand, whose name is the host process's
        // (testhost under the test runner); help and version are added as RootCommand would.
        var root = new Command("mountfs", "MountFs: create, check, inspect and copy files in file-system images (ext2, FAT, ...).");
        if (withHelpAndVersion)
        {
            root.Options.Add(new HelpOption());
            root.Options.Add(new VersionOption());
        }
        Command[] commands =
        [
            InfoCommand.Create(context),
            MkfsCommand.Create(context),
            FsckCommand.Create(context),
            LsCommand.Create(context),
            CatCommand.Create(context),
            CpCommand.Create(context),
            MkdirCommand.Create(context),
            RmCommand.Create(context),
            MountCommand.Create(context), UnmountCommand.Create(context),
        ];
        foreach (var command in commands) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; the exit code is 0 ok, 1 failure, 2 usage (fsck: fsck(8) codes).</summary>
    public static int Run(string[] args, ToolContext context)
    {
        var root = CreateRootCommand(context, MayAskForHelpOrVersion(args));
        var result = root.Parse(MountCommand.AsMountHelper(args, root.Subcommands.SelectMany(c => c.Aliases.Append(c.Name))));
        if (result.Errors.Count > 0)
        {
            string name = CommandPath(result);
            foreach (var error in result.Errors)
                context.Error.WriteLine($"{name}: {error.Message}");
            context.Error.WriteLine($"Try '{name} --help' for more information.");
            return UsageExitCode(result.CommandResult.Command);
        }
        try
        {
            return result.Invoke(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
            });
        }
        finally
        {
            context.Out.Flush();
            context.Error.Flush();
        }
    }

    /// <summary>
    /// False only when no token can select --help or --version: then the two options change nothing in the parse,
    /// and leaving them out saves their descriptions, which System.CommandLine loads through a ResourceManager
    /// (reflection over the assembly's attributes and resource stream: a tenth of a native mkfs's start-up).
    /// Counted as asking: any help alias or --version, a response file (@FILE), and a bundle of short options
    /// (-nh) with h or ? in it.
    /// </summary>
    public static bool MayAskForHelpOrVersion(IEnumerable<string> args) => args.Any(arg =>
        arg is "--help" or "-h" or "/h" or "-?" or "/?" or "--version" ||
        arg.StartsWith('@') ||
        (arg.Length > 2 && arg[0] == '-' && arg[1] != '-' && (arg.Contains('h') || arg.Contains('?'))));

    /// <summary>fsck(8) reserves 16 for usage errors; every other command uses 2.</summary>
    private static int UsageExitCode(Command command) =>
        command.Name == FsckCommand.Name ? (int)FsckExitCode.UsageError : ExitCodes.Usage;


    private static string CommandPath(ParseResult result)
    {
        var names = new List<string>();
        for (var r = result.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }
}
