namespace MountFs.Blocks;

/// <summary>Thrown when an image or device is already opened (and locked) by another writer, or by any
/// opener when a writer asks.</summary>
public sealed class DeviceLockedException(string path)
    : IOException($"{path} is in use by another process (locked)")
{
    public string Path { get; } = path;
}
