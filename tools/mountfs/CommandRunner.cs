using MountFs.Vfs;

namespace MountFs.Tool;

/// <summary>
/// Runs a command's body and turns every failure into one line on stderr and an exit code,
/// so no command prints a stack trace for a bad image or a missing file.
/// </summary>
public static class CommandRunner
{
    /// <param name="subject">What a failure without a subject of its own is about (normally the image).</param>
    /// <param name="failureCode">Exit code for failures: 1, or 8 for fsck.</param>
    public static int Run(ToolContext context, string subject, Func<int> body, int failureCode = ExitCodes.Failure)
    {
        try
        {
            return body();
        }
        catch (ToolException e)
        {
            context.ReportError(e.Subject, e.Message);
            return e.ExitCode == ExitCodes.Failure ? failureCode : e.ExitCode;
        }
        catch (Exception e) when (ErrorText.DescribeExpected(e) is { } message)
        {
            context.ReportError(subject, message);
            return failureCode;
        }
        catch (Exception e)
        {
            // A bug, not a user error: still one line, with the type so it can be reported.
            context.ReportError(subject, $"internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("MOUNTFS_DEBUG") is { Length: > 0 })
                context.Error.WriteLine(e);
            return failureCode;
        }
        finally
        {
            context.Out.Flush();
        }
    }

    /// <summary>Wraps a layout error in the subject it happened to, e.g. "disk.img:/a/b".</summary>
    public static ToolException At(string subject, FsException e) => new(subject, ErrorText.Describe(e));
}
