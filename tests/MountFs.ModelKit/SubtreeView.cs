using MountFs.Vfs;

namespace MountFs.ModelKit;

/// <summary>
/// One directory of a shared subject presented as a whole file system, so that several kit runs can
/// work on one subject at once, each in its own subtree, each against its own reference.
/// </summary>
internal sealed class SubtreeView(IFileSystem shared, ulong root) : ForwardingFileSystem(shared)
{
    public override ulong RootNode => root;

    /// <summary>The shared subject outlives its views; the checker disposes it.</summary>
    protected override void Dispose(bool disposing) { }
}
