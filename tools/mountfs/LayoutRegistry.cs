using MountFs.Blocks;
using MountFs.Vfs;

namespace MountFs.Tool;

/// <summary>The layouts this build of the tool knows, in probe order; built explicitly in <see cref="Program"/>.</summary>
public sealed class LayoutRegistry
{
    private readonly List<IFileSystemLayout> _layouts;

    public LayoutRegistry(IEnumerable<IFileSystemLayout> layouts) => _layouts = [.. layouts];

    public IReadOnlyList<IFileSystemLayout> Layouts => _layouts;

    /// <summary>The layout whose name or alias is <paramref name="type"/> (case-insensitive), or null.</summary>
    public IFileSystemLayout? Find(string type) =>
        _layouts.FirstOrDefault(l =>
            string.Equals(l.Name, type, StringComparison.OrdinalIgnoreCase) ||
            l.Aliases.Any(a => string.Equals(a, type, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The first layout that recognises the device, or null. Probes never throw by contract,
    /// but a buggy one must not stop the others from being asked.</summary>
    public IFileSystemLayout? Probe(IBlockDevice device)
    {
        foreach (var layout in _layouts)
        {
            try
            {
                if (layout.Probe(device)) return layout;
            }
            catch (Exception e) when (e is FsException or IOException or ArgumentException)
            {
            }
        }
        return null;
    }

    /// <summary>Every name -t accepts, for help texts and error messages.</summary>
    public string DescribeTypes() =>
        _layouts.Count == 0
            ? "(none in this build)"
            : string.Join(", ", _layouts.Select(l => l.Aliases.Count == 0 ? l.Name : $"{l.Name} ({string.Join(", ", l.Aliases)})"));
}
