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

    public LayoutRegistry Registry { get; }

    /// <summary>Text results (listings, reports).</summary>
    public TextWriter Out { get; }

    /// <summary>Error lines and warnings.</summary>
    public TextWriter Error { get; }

    /// <summary>File contents for `cat`; text already written to <see cref="Out"/> is flushed before use.</summary>
    public Stream BinaryOutput { get; }

    /// <summary>True when stdout is a terminal: progress bars and colours are shown only then.</summary>
    public bool Interactive { get; }

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
