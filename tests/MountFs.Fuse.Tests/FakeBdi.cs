using System.Globalization;

namespace MountFs.Fuse.Tests;

/// <summary>A throw-away stand-in for /sys/class/bdi holding one device MAJ:MIN with the given settings files.</summary>
internal sealed class FakeBdi : IDisposable
{
    public FakeBdi(int major, int minor, params (string File, string Value)[] settings)
    {
        Root = Path.Combine(Path.GetTempPath(), "bdi-" + Guid.NewGuid().ToString("N")[..8]);
        Device = Path.Combine(Root, string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}"));
        Directory.CreateDirectory(Device);
        foreach (var (file, value) in settings) File.WriteAllText(Path.Combine(Device, file), value + "\n");
    }

    /// <summary>The folder to pass as the sysfs root.</summary>
    public string Root { get; }

    private string Device { get; }

    public string Read(string file) => File.ReadAllText(Path.Combine(Device, file)).Trim();

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
