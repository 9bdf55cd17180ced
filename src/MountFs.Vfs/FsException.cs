namespace MountFs.Vfs;

/// <summary>
/// The one way an <see cref="IFileSystem"/> operation reports failure: an errno and a message.
/// </summary>
/// <remarks>
/// Front ends catch this type and answer its <see cref="Errno"/>; any other exception escaping a
/// layout is a bug, which front ends answer with EIO and log. Layouts that find corrupt metadata
/// throw <see cref="Corrupt"/> so the log line names the structure and where it was.
/// </remarks>
public sealed class FsException : Exception
{
    public FsException(Errno errno, string? message = null, Exception? inner = null)
        : base(message ?? errno.ToString(), inner) => Errno = errno;

    public Errno Errno { get; }

    /// <summary>Corrupt on-disk data: EUCLEAN with a message naming the image, structure and location.</summary>
    public static FsException Corrupt(string image, string structure, string detail) =>
        new(Errno.EUCLEAN, $"{image}: corrupt {structure}: {detail}");

    public override string ToString() => $"{Errno}: {Message}";
}
