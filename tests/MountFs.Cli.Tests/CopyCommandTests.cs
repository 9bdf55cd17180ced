using MountFs.Blocks;
using MountFs.Ext;
using MountFs.Vfs;

namespace MountFs.Cli.Tests;

/// <summary>ls, cat, cp, mkdir and rm without mounting, checked against the real tools for each layout.</summary>
public sealed class CopyCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    public static TheoryData<string> Layouts => new() { "ext2", "fat" };

    private string MakeImage(string layout, string size = "64M")
    {
        ExternalTool.SkipUnless(layout == "ext2" ? "e2fsck" : "fsck.fat");
        string image = _cli.PathOf($"{layout}.img");
        _cli.Ok("mkfs", "-t", layout, image, size);
        return image;
    }

    /// <summary>A host tree with nested directories, an empty file, binary data across several chunks, and long names.</summary>
    private string MakeHostTree(string name)
    {
        string root = _cli.PathOf(name);
        Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
        File.WriteAllBytes(Path.Combine(root, "empty.txt"), []);
        File.WriteAllText(Path.Combine(root, "hello.txt"), "hello, world\n");
        var random = new Random(1234);
        var big = new byte[(3 << 20) + 1234];
        random.NextBytes(big);
        // Zero runs inside the data: a copy that skips them must still read back zeros there.
        Array.Clear(big, 1 << 20, 64 << 10);
        File.WriteAllBytes(Path.Combine(root, "sub", "big.bin"), big);
        File.WriteAllText(Path.Combine(root, "sub", "deeper", "A long file name with spaces.txt"), "deep\n");
        return root;
    }

    private static void AssertSameTree(string expected, string actual)
    {
        var want = Directory.EnumerateFileSystemEntries(expected, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(expected, p)).Order(StringComparer.Ordinal).ToList();
        var got = Directory.EnumerateFileSystemEntries(actual, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(actual, p)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(want, got);
        foreach (string rel in want.Where(r => File.Exists(Path.Combine(expected, r))))
            Assert.True(File.ReadAllBytes(Path.Combine(expected, rel)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, rel))), rel);
    }

    [SkippableTheory]
    [MemberData(nameof(Layouts))]
    public void Tree_round_trips_through_the_image_and_the_judge_agrees(string layout)
    {
        string image = MakeImage(layout);
        string source = MakeHostTree("source");
        _cli.Ok("cp", "-r", source, image + ":/");
        ExternalTool.AssertClean(image, layout);

        var listing = _cli.Ok("ls", image + ":/source");
        Assert.Equal(["empty.txt", "hello.txt", "sub"], listing.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("hello, world\n", ExternalTool.Text(_cli.Ok("cat", image + ":/source/hello.txt").Binary));
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "sub", "big.bin")), _cli.Ok("cat", image + ":/source/sub/big.bin").Binary);

        string back = _cli.PathOf("back");
        Directory.CreateDirectory(back);
        _cli.Ok("cp", "-r", image + ":/source", back);
        AssertSameTree(source, Path.Combine(back, "source"));

        // The real tools read what we wrote.
        byte[] big = File.ReadAllBytes(Path.Combine(source, "sub", "big.bin"));
        byte[] judged = layout == "ext2"
            ? ExternalTool.RunBinary("debugfs", "-R", "cat /source/sub/big.bin", image)
            : ExternalTool.RunBinary("mtype", "-i", image, "::/source/sub/big.bin");
        Assert.True(big.AsSpan().SequenceEqual(judged), $"{layout}: the external tool read different bytes");
    }

    [SkippableTheory]
    [MemberData(nameof(Layouts))]
    public void Long_listing_shows_sizes_and_types(string layout)
    {
        string image = MakeImage(layout);
        File.WriteAllBytes(_cli.PathOf("f.bin"), new byte[5000]);
        _cli.Ok("mkdir", image + ":/dir");
        _cli.Ok("cp", _cli.PathOf("f.bin"), image + ":/dir/f.bin");
        var lines = _cli.Ok("ls", "-l", image + ":/dir").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("-", line);
        Assert.Contains(" 5000 ", line);
        Assert.EndsWith(" f.bin", line);
        var root = _cli.Ok("ls", "-l", image).Out;
        Assert.Matches(@"(?m)^d\S+ .* dir$", root);
    }

    [SkippableTheory]
    [MemberData(nameof(Layouts))]
    public void Mkdir_and_rm_keep_the_image_clean(string layout)
    {
        string image = MakeImage(layout);
        _cli.Ok("mkdir", "-p", image + ":/a/b/c");
        _cli.Ok("mkdir", "-p", image + ":/a/b/c");
        var again = _cli.Run("mkdir", image + ":/a");
        Assert.Equal(1, again.ExitCode);
        Assert.Equal([$"mountfs: {image}:/a: File exists"], again.ErrorLines);

        _cli.Ok("cp", "-r", MakeHostTree("t"), image + ":/a/b/c");
        var notRecursive = _cli.Run("rm", image + ":/a");
        Assert.Equal(1, notRecursive.ExitCode);
        Assert.Contains("Is a directory", notRecursive.Error);

        _cli.Ok("rm", image + ":/a/b/c/t/hello.txt");
        Assert.DoesNotContain("hello.txt", _cli.Ok("ls", image + ":/a/b/c/t").Out);
        _cli.Ok("rm", "-r", image + ":/a");
        Assert.DoesNotContain("a", _cli.Ok("ls", image).Out.Split('\n'));
        ExternalTool.AssertClean(image, layout);

        var missing = _cli.Run("rm", image + ":/nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal(0, _cli.Run("rm", "-f", image + ":/nope").ExitCode);
        Assert.Equal(1, _cli.Run("rm", "-r", image + ":/").ExitCode);
    }

    [SkippableFact]
    public void Freed_space_is_given_back_after_rm()
    {
        string image = MakeImage("ext2");
        string before = _cli.Ok("info", image).Out;
        File.WriteAllBytes(_cli.PathOf("blob"), Enumerable.Repeat((byte)7, 4 << 20).ToArray());
        _cli.Ok("cp", _cli.PathOf("blob"), image + ":/blob");
        Assert.NotEqual(FreeLine(before), FreeLine(_cli.Ok("info", image).Out));
        _cli.Ok("rm", image + ":/blob");
        Assert.Equal(FreeLine(before), FreeLine(_cli.Ok("info", image).Out));
        ExternalTool.AssertClean(image, "ext2");

        static string FreeLine(string info) => info.Split('\n').Single(l => l.StartsWith("Blocks:"));
    }

    [SkippableFact]
    public void Symlinks_are_copied_as_symlinks_and_refused_by_fat()
    {
        ExternalTool.SkipUnless("debugfs");
        string ext = MakeImage("ext2");
        string fat = MakeImage("fat");
        string tree = _cli.PathOf("links");
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "target.txt"), "t");
        File.CreateSymbolicLink(Path.Combine(tree, "link"), "target.txt");

        _cli.Ok("cp", "-r", tree, ext + ":/");
        Assert.Contains("link -> target.txt", _cli.Ok("ls", "-l", ext + ":/links").Out);
        var (_, stat) = ExternalTool.Run("debugfs", "-R", "stat /links/link", ext);
        Assert.Contains("Type: symlink", stat);
        ExternalTool.AssertClean(ext, "ext2");

        var result = _cli.Run("cp", "-r", tree, fat + ":/");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith($"mountfs: {fat}:/links/link: ", line);
        Assert.Equal("t", ExternalTool.Text(_cli.Ok("cat", fat + ":/links/target.txt").Binary));
        ExternalTool.AssertClean(fat, "fat");
    }

    [SkippableFact]
    public void Image_to_image_copy_between_layouts()
    {
        string ext = MakeImage("ext2");
        string fat = MakeImage("fat");
        string source = MakeHostTree("x");
        _cli.Ok("cp", "-r", source, ext + ":/x");
        _cli.Ok("cp", "-r", ext + ":/x", fat + ":/");
        string back = _cli.PathOf("back");
        Directory.CreateDirectory(back);
        _cli.Ok("cp", "-r", fat + ":/x", back);
        AssertSameTree(source, Path.Combine(back, "x"));
        ExternalTool.AssertClean(ext, "ext2");
        ExternalTool.AssertClean(fat, "fat");
    }

    [SkippableFact]
    public void Copy_within_one_image_and_into_itself()
    {
        string image = MakeImage("ext2");
        _cli.Ok("cp", "-r", MakeHostTree("d"), image + ":/d");
        _cli.Ok("cp", "-r", image + ":/d", image + ":/copy");
        Assert.Equal(_cli.Ok("cat", image + ":/d/sub/big.bin").Binary, _cli.Ok("cat", image + ":/copy/sub/big.bin").Binary);
        var loop = _cli.Run("cp", "-r", image + ":/d", image + ":/d/sub");
        Assert.Equal(1, loop.ExitCode);
        Assert.Contains("into itself", loop.Error);
        ExternalTool.AssertClean(image, "ext2");
    }

    [SkippableFact]
    public void Holes_stay_holes_when_copied_into_ext2()
    {
        string image = MakeImage("ext2");
        string sparse = _cli.PathOf("sparse.bin");
        using (var f = File.Create(sparse))
        {
            f.SetLength(32L << 20);
            f.Position = 20L << 20;
            f.Write(Enumerable.Repeat((byte)1, 4096).ToArray());
        }
        _cli.Ok("cp", sparse, image + ":/sparse.bin");
        ExternalTool.AssertClean(image, "ext2");

        using var fileSystem = new Ext2Layout().Mount(FileBlockDevice.Open(image, readOnly: true), new MountOptions { ReadOnly = true });
        var attributes = fileSystem.Lookup(fileSystem.RootNode, "sparse.bin");
        Assert.NotNull(attributes);
        Assert.Equal(32L << 20, attributes.Size);
        Assert.InRange(attributes.Blocks, 1, 256); // 4 KiB of data plus indirect blocks, not 32 MiB
        var data = _cli.Ok("cat", image + ":/sparse.bin").Binary;
        Assert.Equal(File.ReadAllBytes(sparse), data);
    }

    [SkippableFact]
    public void Files_written_by_mtools_and_debugfs_are_read_back()
    {
        ExternalTool.SkipUnless("mcopy", "debugfs");
        string fat = MakeImage("fat");
        string ext = MakeImage("ext2");
        string file = _cli.PathOf("payload.bin");
        var bytes = new byte[100_000];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(file, bytes);
        var (mcode, mout) = ExternalTool.Run("mcopy", "-i", fat, file, "::/Payload File.bin");
        Assert.True(mcode == 0, mout);
        var (dcode, dout) = ExternalTool.Run("debugfs", "-w", "-R", $"write {file} payload.bin", ext);
        Assert.True(dcode == 0, dout);

        Assert.Equal(bytes, _cli.Ok("cat", fat + ":/payload file.bin").Binary);
        Assert.Equal(bytes, _cli.Ok("cat", ext + ":/payload.bin").Binary);
        Assert.Contains("Payload File.bin", _cli.Ok("ls", fat).Out);
    }

    [SkippableFact]
    public void Errors_name_the_path_inside_the_image()
    {
        string image = MakeImage("ext2");
        var cat = _cli.Run("cat", image + ":/missing/file");
        Assert.Equal(1, cat.ExitCode);
        Assert.Equal([$"mountfs: {image}:/missing/file: No such file or directory"], cat.ErrorLines);
        var dir = _cli.Run("cat", image + ":/lost+found");
        Assert.Equal([$"mountfs: {image}:/lost+found: Is a directory"], dir.ErrorLines);
        var noImage = _cli.Run("ls", _cli.PathOf("nope.img") + ":/x");
        Assert.Equal([$"mountfs: {_cli.PathOf("nope.img")}: No such file or directory"], noImage.ErrorLines);
        var noDir = _cli.Run("cp", _cli.PathOf("nothing"), image + ":/");
        Assert.Equal(1, noDir.ExitCode);
        Assert.Equal([$"mountfs: {_cli.PathOf("nothing")}: No such file or directory"], noDir.ErrorLines);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Unmountable_image_is_one_line_naming_the_image(string layout)
    {
        string image = _cli.PathOf("zeros.img");
        File.WriteAllBytes(image, new byte[8 << 20]);
        var result = _cli.Run("ls", "-t", layout, image + ":/");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith($"mountfs: {image}: cannot open the {layout} file system: ", line);
        Assert.DoesNotContain($": {image}: ", line[(image.Length + 10)..]);
    }

    [SkippableFact]
    public void Directory_without_r_is_skipped_with_a_message()
    {
        string image = MakeImage("ext2");
        var result = _cli.Run("cp", MakeHostTree("dir"), image + ":/");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("use -r", result.Error);
        Assert.DoesNotContain("dir", _cli.Ok("ls", image).Out.Split('\n'));
    }

    [SkippableFact]
    public void Locked_image_gives_a_clear_error()
    {
        string image = MakeImage("ext2");
        using var holder = FileBlockDevice.Open(image);
        var result = _cli.Run("ls", image);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal([$"mountfs: {image}: in use by another process (the image is locked)"], result.ErrorLines);
    }
}
