namespace MountFs.Vfs;

/// <summary>One name in a directory listing.</summary>
/// <param name="Name">The entry's name ("." and ".." included).</param>
/// <param name="Node">Node id the name refers to.</param>
/// <param name="Type">d_type: <see cref="UnixFileMode.DirectoryEntryType"/> of the target's mode.</param>
/// <param name="NextOffset">
/// Cookie to pass back to <see cref="IFileSystem.ReadDirectory"/> to continue after this entry.
/// Always &gt; 0. Cookies survive concurrent changes: a listing resumed with a cookie returns every
/// entry that existed throughout, exactly once; entries added or removed meanwhile may or may not appear.
/// </param>
public readonly record struct DirectoryEntry(string Name, ulong Node, byte Type, long NextOffset);

/// <summary>Receives listing entries; returns false when it has no room for more.</summary>
/// <remarks>An entry for which the visitor returned false is not consumed: the next call resumes at it.</remarks>
public delegate bool DirectoryEntryVisitor(in DirectoryEntry entry);
