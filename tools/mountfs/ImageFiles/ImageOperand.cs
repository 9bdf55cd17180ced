namespace MountFs.Tool.ImageFiles;

/// <summary>Reads the IMAGE[:PATH] operands of ls, cat, mkdir and rm, with the error users see when the image is missing.</summary>
public static class ImageOperand
{
    public static ImagePath Require(string operand)
    {
        if (ImagePath.TryParseImageOperand(operand) is { } parsed) return parsed;
        // Guess which part was meant as the image: before ":/" when there is one, else before the last ':'.
        int colon = operand.IndexOf(":/", StringComparison.Ordinal);
        if (colon < 0) colon = operand.LastIndexOf(':');
        string image = colon > 0 ? operand[..colon] : operand;
        if (Directory.Exists(image) && colon < 0)
            throw new ToolException(image, "is a directory, not an image (write IMAGE:PATH)");
        throw new ToolException(image, "No such file or directory");
    }
}
