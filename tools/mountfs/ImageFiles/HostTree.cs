using Mono.Unix;
using Mono.Unix.Native;

namespace MountFs.Tool.ImageFiles;

/// <summary>The host's own files as an <see cref="IFileTree"/> (paths as the user typed them).</summary>
public sealed class HostTree : IFileTree
{
    public bool SupportsHoles => true;

    public string Display(string path) => path;

    public string Combine(string directory, string name) => Path.Combine(directory, name);

    public string FileName(string path) => Path.GetFileName(Path.TrimEndingDirectorySeparator(path));

    public TreeEntry? Stat(string path)
    {
        if (Syscall.lstat(path, out var st) != 0)
        {
            var errno = Stdlib.GetLastError();
            if (errno is Errno.ENOENT) return null;
            throw Failure(path, errno);
        }
        return new TreeEntry(path, (uint)st.st_mode, st.st_size, (uint)st.st_nlink, st.st_uid, st.st_gid,
            DateTime.UnixEpoch.AddSeconds(st.st_mtime).AddTicks(st.st_mtime_nsec / 100));
    }

    public IReadOnlyList<string> List(string path)
    {
        try
        {
            var names = Directory.EnumerateFileSystemEntries(path).Select(p => Path.GetFileName(p)).ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        catch (Exception e) when (ErrorText.DescribeExpected(e) is { } message)
        {
            throw new ToolException(path, message);
        }
    }

    public Stream OpenRead(string path) => Open(path, () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));

    public Stream Create(string path, uint mode) => Open(path, () => new FileStream(path, new FileStreamOptions
    {
        Mode = FileMode.Create,
        Access = FileAccess.Write,
        BufferSize = 0,
        UnixCreateMode = (System.IO.UnixFileMode)(mode & 0x1FF),
    }));

    public void CreateDirectory(string path, uint mode)
    {
        if (Syscall.mkdir(path, (FilePermissions)(mode & 0xFFF)) != 0) throw Failure(path, Stdlib.GetLastError());
    }

    public void CreateSymlink(string path, string target)
    {
        if (Syscall.symlink(target, path) != 0) throw Failure(path, Stdlib.GetLastError());
    }

    public string ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget ?? throw new ToolException(path, "not a symbolic link");
        }
        catch (Exception e) when (ErrorText.DescribeExpected(e) is { } message)
        {
            throw new ToolException(path, message);
        }
    }

    public void Remove(string path)
    {
        var entry = Stat(path) ?? throw new ToolException(path, "No such file or directory");
        int result = entry.IsDirectory ? Syscall.rmdir(path) : Syscall.unlink(path);
        if (result != 0) throw Failure(path, Stdlib.GetLastError());
    }

    private static Stream Open(string path, Func<Stream> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (ErrorText.DescribeExpected(e) is { } message)
        {
            throw new ToolException(path, message);
        }
    }

    private static ToolException Failure(string path, Errno errno) =>
        new(path, UnixMarshal.GetErrorDescription(errno));
}
