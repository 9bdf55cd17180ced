using MountFs.Vfs;

namespace MountFs.Memory;

// Directory handles and listing.
public sealed partial class MemoryFileSystem
{
    /// <summary>Entries copied per trip under the lock; the visitor then runs without it.</summary>
    private const int ListingBatch = 64;

    public ulong OpenDirectory(ulong node)
    {
        lock (_lock)
        {
            var directory = Directory(node);
            return NewHandle(directory, OpenFlags.ReadOnly | OpenFlags.Directory, isDirectory: true);
        }
    }

    public void ReadDirectory(ulong node, ulong handle, long offset, DirectoryEntryVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        var batch = new List<DirectoryEntry>(ListingBatch + 2);
        while (true)
        {
            batch.Clear();
            lock (_lock)
            {
                var directory = Handle(node, handle, directory: true).Node;
                const byte directoryType = (byte)(UnixFileMode.Directory >> 12);
                if (offset < 1) batch.Add(new DirectoryEntry(".", directory.Id, directoryType, 1));
                if (offset < 2) batch.Add(new DirectoryEntry("..", directory.Parent!.Id, directoryType, 2));
                foreach (var slot in directory.Entries!.After(offset, ListingBatch))
                {
                    // The contract lets a front end keep ids it saw in a listing until it forgets them.
                    slot.Node.Referenced = true;
                    batch.Add(new DirectoryEntry(slot.Name, slot.Node.Id,
                        UnixFileMode.DirectoryEntryType(slot.Node.Mode), slot.Sequence));
                }
            }
            if (batch.Count == 0) return;
            foreach (var entry in batch)
            {
                if (!visitor(in entry)) return;
                offset = entry.NextOffset;
            }
        }
    }

    public void ReleaseDirectory(ulong node, ulong handle) => ReleaseHandle(node, handle, directory: true);

    public void FsyncDirectory(ulong node, ulong handle, bool dataOnly)
    {
        lock (_lock) Handle(node, handle, directory: true);
    }
}
