using Spectre.Console;

namespace MountFs.Tool;

/// <summary>
/// Everything a command talks to besides its arguments: the layouts and the three output channels.
/// Tests build one over string writers so commands run in-process without touching the real console.
/// </summary>
public sealed class ToolContext
{
    public ToolContext(LayoutRegistry registry, TextWriter output, TextWriter error, Stream binaryOutput, bool interactive)
    {
        Registry = registry;
        Out = output;
        Error = error;
        BinaryOutput = binaryOutput;
        Interactive = interactive;
    }

    private IAnsiConsole? _console;

    /// <summary>Built on first use: creating it probes the terminal and reads the whole environment, which a
    /// command that prints no table or progress (mkfs and fsck into a file or pipe) should not pay for.</summary>
    private IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = Interactive ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(Out),
        });
        if (!Interactive)
        {
            // Files and pipes get plain ASCII tables that grep and diff handle.
            console.Profile.Width = 200;
            console.Profile.Capabilities.Unicode = false;
        }
        return console;
    }

    public LayoutRegistry Registry { get; }

    /// <summary>Text results (listings, reports).</summary>
    public TextWriter Out { get; }

    /// <summary>Error lines and warnings.</summary>
    public TextWriter Error { get; }

    /// <summary>File contents for `cat`; text already written to <see cref="Out"/> is flushed before use.</summary>
    public Stream BinaryOutput { get; }

    /// <summary>True when stdout is a terminal: progress bars and colours are shown only then.</summary>
    public bool Interactive { get; }

    /// <summary>Spectre console over <see cref="Out"/> for tables and progress.</summary>
    public IAnsiConsole Console => _console ??= CreateConsole();

    public void ReportError(string subject, string message) => Error.WriteLine($"mountfs: {subject}: {WithoutSubject(subject, message)}");

    public void Warn(string subject, string message) => Error.WriteLine($"mountfs: warning: {subject}: {WithoutSubject(subject, message)}");

    /// <summary>Layouts and devices often start their messages with the image name; it is not repeated.</summary>
    private static string WithoutSubject(string subject, string message)
    {
        int colon = subject.IndexOf(":/", StringComparison.Ordinal);
        string image = colon > 0 ? subject[..colon] : subject;
        foreach (string prefix in new[] { subject + ": ", image + ": " })
            if (message.StartsWith(prefix, StringComparison.Ordinal) && message.Length > prefix.Length)
                return message[prefix.Length..];
        int inner = message.IndexOf(": " + image + ": ", StringComparison.Ordinal);
        return inner >= 0 ? message.Remove(inner + 2, image.Length + 2) : message;
    }
}
