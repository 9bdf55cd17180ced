namespace MountFs.Blocks;

/// <summary>The one place where a request's offset and length are checked against a device.</summary>
public static class DeviceRange
{
    /// <summary>
    /// Throws unless [offset, offset+length) is sector-aligned and inside [0, deviceLength).
    /// Written so that no combination of huge values can overflow into a passing check.
    /// </summary>
    public static void Check(long offset, long length, long deviceLength, int sectorSize)
    {
        if (offset < 0)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "negative offset");
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "negative length");
        if (offset % sectorSize != 0 || length % sectorSize != 0)
            throw new ArgumentException($"request at {offset} of {length} bytes is not aligned to {sectorSize}-byte sectors");
        if (offset > deviceLength || length > deviceLength - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"request of {length} bytes at {offset} passes the device end {deviceLength}");
    }
}
