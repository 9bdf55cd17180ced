using UnixFileMode = MountFs.Vfs.UnixFileMode;

namespace MountFs.Tool.ImageFiles;

/// <summary>What a copy needs to know of one entry, on either side.</summary>
/// <param name="Mode">Type and permission bits as st_mode.</param>
public sealed record TreeEntry(string Path, uint Mode, long Size, uint Links, uint Uid, uint Gid, DateTime ModifiedUtc)
{
    public bool IsDirectory => UnixFileMode.IsDirectory(Mode);
    public bool IsRegular => UnixFileMode.IsRegular(Mode);
    public bool IsSymlink => UnixFileMode.IsSymlink(Mode);
}

/// <summary>
/// A tree of files addressed by '/'-separated paths: the host's file system or one inside
/// an image. The copy commands are written once against this, so they copy host→image,
/// image→host and image→image alike. Paths never follow symlinks (lstat semantics).
/// </summary>
/// <remarks>Failures are <see cref="ToolException"/>s naming the entry (for example "disk.img:/a: File exists").</remarks>
public interface IFileTree
{
    /// <summary>How paths in this tree are shown in messages ("disk.img:/a/b" or a host path).</summary>
    string Display(string path);

    /// <summary>The path of <paramref name="name"/> inside <paramref name="directory"/>, in this tree's syntax.</summary>
    string Combine(string directory, string name);

    /// <summary>The last component of a path ("" for a root).</summary>
    string FileName(string path);

    /// <summary>The entry at <paramref name="path"/> without following a final symlink, or null if absent.</summary>
    TreeEntry? Stat(string path);

    /// <summary>Names in a directory, without "." and "..", sorted ordinally.</summary>
    IReadOnlyList<string> List(string path);

    Stream OpenRead(string path);

    /// <summary>Creates (or truncates) a regular file with permission bits <paramref name="mode"/>.</summary>
    Stream Create(string path, uint mode);

    void CreateDirectory(string path, uint mode);

    void CreateSymlink(string path, string target);

    string ReadLink(string path);

    /// <summary>Removes a file, symlink or empty directory.</summary>
    void Remove(string path);

    /// <summary>True when writing runs of zeros can be skipped, leaving holes that read back as zeros.</summary>
    bool SupportsHoles { get; }
}
