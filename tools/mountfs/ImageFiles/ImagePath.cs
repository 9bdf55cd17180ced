namespace MountFs.Tool.ImageFiles;

/// <summary>
/// An IMAGE:PATH operand as debugfs/mtools-style commands take it, or a plain host path.
/// </summary>
/// <remarks>
/// Host paths may contain ':' themselves, so the split is at the last ':' whose left side is an
/// existing file (an image file or a block device, or IMAGE@N for a partition); if there is none the
/// operand is a host path.
/// </remarks>
public sealed record ImagePath(string Image, string Path)
{
    /// <summary>Parses <paramref name="operand"/>; null when it names no existing image (so it is a host path).</summary>
    /// <param name="imageExists">Whether a host path is an image; File.Exists-like by default.</param>
    public static ImagePath? TryParse(string operand, Func<string, bool>? imageExists = null)
    {
        imageExists ??= IsImageFile;
        for (int i = operand.LastIndexOf(':'); i > 0; i = operand.LastIndexOf(':', i - 1))
        {
            string image = operand[..i];
            if (imageExists(image)) return new ImagePath(image, Normalise(operand[(i + 1)..]));
        }
        return null;
    }

    /// <summary>Like <see cref="TryParse"/>, but an existing image given without ':' means its root.</summary>
    public static ImagePath? TryParseImageOperand(string operand, Func<string, bool>? imageExists = null)
    {
        imageExists ??= IsImageFile;
        return TryParse(operand, imageExists) ?? (imageExists(operand) ? new ImagePath(operand, "/") : null);
    }

    /// <summary>An absolute path inside the image with no empty, "." or trailing components.</summary>
    public static string Normalise(string path)
    {
        var parts = new List<string>();
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>The path's components, root = none.</summary>
    public static IReadOnlyList<string> Components(string normalisedPath) =>
        normalisedPath.Split('/', StringSplitOptions.RemoveEmptyEntries);

    public static string Parent(string normalisedPath)
    {
        int i = normalisedPath.LastIndexOf('/');
        return i <= 0 ? "/" : normalisedPath[..i];
    }

    public static string FileName(string normalisedPath) => normalisedPath[(normalisedPath.LastIndexOf('/') + 1)..];

    public static string Combine(string directory, string name) => directory == "/" ? "/" + name : directory + "/" + name;

    private static bool IsImageFile(string path) => ImageSpec.Exists(path);

    public override string ToString() => $"{Image}:{Path}";
}
