namespace MountFs.Tool;

/// <summary>A failure the user caused or can fix, reported as one line "mountfs: SUBJECT: message".</summary>
public sealed class ToolException(string subject, string message, int exitCode = ExitCodes.Failure)
    : Exception(message)
{
    /// <summary>What the message is about: an image, a path, an option.</summary>
    public string Subject { get; } = subject;

    public int ExitCode { get; } = exitCode;
}
