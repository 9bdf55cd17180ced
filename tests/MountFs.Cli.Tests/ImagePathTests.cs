using MountFs.Tool.ImageFiles;

namespace MountFs.Cli.Tests;

public sealed class ImagePathTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Splits_at_the_colon_after_an_existing_image()
    {
        string image = _cli.PathOf("disk.img");
        File.WriteAllBytes(image, new byte[512]);
        var parsed = ImagePath.TryParse(image + ":/a/b.txt");
        Assert.Equal(new ImagePath(image, "/a/b.txt"), parsed);
    }

    [Fact]
    public void Copes_with_colons_in_the_host_path_and_in_the_image_path()
    {
        string dir = _cli.PathOf("with:colon");
        Directory.CreateDirectory(dir);
        string image = Path.Combine(dir, "x.img");
        File.WriteAllBytes(image, new byte[512]);
        Assert.Equal(new ImagePath(image, "/p"), ImagePath.TryParse(image + ":/p"));
        // The last colon whose left side is an image wins, so names inside the image may hold colons too.
        Assert.Equal(new ImagePath(image, "/a:b"), ImagePath.TryParse(image + ":/a:b"));
    }

    [Fact]
    public void Host_paths_stay_host_paths()
    {
        string dir = _cli.PathOf("dir:x");
        Directory.CreateDirectory(dir);
        Assert.Null(ImagePath.TryParse(dir));
        Assert.Null(ImagePath.TryParse(dir + ":/y"));
        Assert.Null(ImagePath.TryParse(_cli.PathOf("missing.img") + ":/y"));
        Assert.Null(ImagePath.TryParse(_cli.PathOf("plain.txt")));
    }

    [Fact]
    public void Image_operand_without_path_means_the_root()
    {
        string image = _cli.PathOf("disk.img");
        File.WriteAllBytes(image, new byte[512]);
        Assert.Equal(new ImagePath(image, "/"), ImagePath.TryParseImageOperand(image));
        Assert.Equal(new ImagePath(image, "/"), ImagePath.TryParseImageOperand(image + ":"));
    }

    [Theory]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("a/b/", "/a/b")]
    [InlineData("//a//./b", "/a/b")]
    [InlineData("/a/../b", "/b")]
    [InlineData("/../../x", "/x")]
    public void Normalises_paths_inside_images(string path, string normal) => Assert.Equal(normal, ImagePath.Normalise(path));
}
