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
                // Listed ids do not pin nodes: FUSE's plain READDIR hands the kernel no reference and
                // never brings a FORGET, so pinning would leak every listed-then-removed file. A front
                // end that keeps a listed id (READDIRPLUS) takes it with GetAttributes, which answers
                // ESTALE if the node went away in between.
                foreach (var slot in directory.Entries!.After(offset, ListingBatch))
                {
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
