using System.CommandLine;

namespace MountFs.Tool.Commands;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string?> Type(LayoutRegistry registry, string description = "File-system type; detected from the image when omitted") =>
        new("--type", "-t")
        {
            Description = $"{description}. Known: {registry.DescribeTypes()}",
            HelpName = "TYPE",
        };
}
