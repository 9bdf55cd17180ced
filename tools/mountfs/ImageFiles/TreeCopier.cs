using MountFs.Vfs;

using UnixFileMode = MountFs.Vfs.UnixFileMode;

namespace MountFs.Tool.ImageFiles;

/// <summary>
/// cp(1) between any two <see cref="IFileTree"/>s: files with their permission bits, directories
/// recursively with -r, symlinks as symlinks; runs of zeros become holes where the target has them.
/// </summary>
/// <remarks>A failure on one entry is reported and the copy goes on, as cp does; <see cref="Failures"/> counts them.</remarks>
public sealed class TreeCopier(ToolContext context, bool recursive)
{
    private const int ChunkSize = 1 << 20;
    private const int HoleGranularity = 4096;

    public int Failures { get; private set; }

    /// <summary>Copies <paramref name="sourcePath"/> to <paramref name="targetPath"/> (or into it when it is a directory).</summary>
    public void Copy(IFileTree source, string sourcePath, IFileTree target, string targetPath)
    {
        var entry = Report(() => source.Stat(sourcePath) ?? throw new ToolException(source.Display(sourcePath), "No such file or directory"));
        if (entry is null) return;
        TreeEntry? existing;
        try
        {
            existing = target.Stat(targetPath);
        }
        catch (ToolException e)
        {
            Fail(e.Subject, e.Message);
            return;
        }
        string destination = targetPath;
        if (existing is { IsDirectory: true })
        {
            string name = source.FileName(sourcePath);
            if (name.Length > 0) destination = target.Combine(targetPath, name);
        }
        if (ReferenceEquals(source, target) && entry.IsDirectory && IsInside(Canonical(target, destination), Canonical(source, sourcePath)))
        {
            Fail(source.Display(sourcePath), $"cannot copy a directory into itself, '{target.Display(destination)}'");
            return;
        }
        CopyEntry(source, entry, target, destination);
    }

    private void CopyEntry(IFileTree source, TreeEntry entry, IFileTree target, string destination)
    {
        try
        {
            if (entry.IsDirectory) CopyDirectory(source, entry, target, destination);
            else if (entry.IsRegular) CopyFile(source, entry, target, destination);
            else if (entry.IsSymlink) CopySymlink(source, entry, target, destination);
            else Fail(source.Display(entry.Path), "not a regular file, directory or symlink; skipped");
        }
        catch (ToolException e)
        {
            Fail(e.Subject, e.Message);
        }
    }

    private void CopyDirectory(IFileTree source, TreeEntry entry, IFileTree target, string destination)
    {
        if (!recursive)
        {
            Fail(source.Display(entry.Path), "is a directory (not copied; use -r)");
            return;
        }
        var existing = target.Stat(destination);
        if (existing is null)
            target.CreateDirectory(destination, entry.Mode & UnixFileMode.PermissionMask);
        else if (!existing.IsDirectory)
            throw new ToolException(target.Display(destination), "exists and is not a directory");
        foreach (string name in source.List(entry.Path))
        {
            string childPath = source.Combine(entry.Path, name);
            var child = Report(() => source.Stat(childPath));
            if (child is not null) CopyEntry(source, child, target, target.Combine(destination, name));
        }
    }

    private static void CopyFile(IFileTree source, TreeEntry entry, IFileTree target, string destination)
    {
        using var input = source.OpenRead(entry.Path);
        using var output = target.Create(destination, entry.Mode & UnixFileMode.PermissionMask);
        var buffer = new byte[ChunkSize];
        long position = 0;
        int read;
        while ((read = ReadFull(input, buffer)) > 0)
        {
            WriteSkippingZeros(output, buffer.AsSpan(0, read), position, target.SupportsHoles);
            position += read;
        }
        // Trailing zeros were skipped, not written: the length makes them a hole of the right size.
        if (output.Length != position) output.SetLength(position);
    }

    /// <summary>Writes the non-zero 4 KiB runs of <paramref name="data"/>, so holes stay holes.</summary>
    private static void WriteSkippingZeros(Stream output, ReadOnlySpan<byte> data, long position, bool holes)
    {
        if (!holes)
        {
            output.Position = position;
            output.Write(data);
            return;
        }
        int runStart = -1;
        for (int at = 0; at < data.Length; at += HoleGranularity)
        {
            var piece = data.Slice(at, Math.Min(HoleGranularity, data.Length - at));
            bool zero = !piece.ContainsAnyExcept((byte)0);
            if (!zero && runStart < 0) runStart = at;
            if (zero && runStart >= 0)
            {
                output.Position = position + runStart;
                output.Write(data[runStart..at]);
                runStart = -1;
            }
        }
        if (runStart >= 0)
        {
            output.Position = position + runStart;
            output.Write(data[runStart..]);
        }
    }

    private static int ReadFull(Stream input, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = input.Read(buffer, total, buffer.Length - total);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private static void CopySymlink(IFileTree source, TreeEntry entry, IFileTree target, string destination)
    {
        string link = source.ReadLink(entry.Path);
        if (target.Stat(destination) is { IsDirectory: false }) target.Remove(destination);
        target.CreateSymlink(destination, link);
    }

    private static string Canonical(IFileTree tree, string path) =>
        tree is ImageTree ? ImagePath.Normalise(path) : Path.GetFullPath(path);

    private static bool IsInside(string path, string directory)
    {
        string dir = directory.TrimEnd('/');
        return path == dir || path.StartsWith(dir + "/", StringComparison.Ordinal) || dir.Length == 0;
    }

    private T? Report<T>(Func<T?> action) where T : class
    {
        try
        {
            return action();
        }
        catch (ToolException e)
        {
            Fail(e.Subject, e.Message);
            return null;
        }
    }

    private void Fail(string subject, string message)
    {
        Failures++;
        context.ReportError(subject, message);
    }
}
