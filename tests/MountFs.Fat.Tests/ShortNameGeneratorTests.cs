using System.Text;

namespace MountFs.Fat.Tests;

public class ShortNameGeneratorTests
{
    private static string Sfn(byte[] b) => Encoding.Latin1.GetString(b);

    [Theory]
    [InlineData("README.TXT", "README  TXT", 0, false)]
    [InlineData("readme.txt", "README  TXT", 0x18, false)]
    [InlineData("readme.TXT", "README  TXT", 0x08, false)]
    [InlineData("README.txt", "README  TXT", 0x10, false)]
    [InlineData("ReadMe.txt", "README  TXT", 0, true)]
    [InlineData("A", "A          ", 0, false)]
    [InlineData("12345678.123", "12345678123", 0, false)]
    public void EightDotThreeNames_NeedNoLongName_UnlessMixedCase(string name, string sfn, byte flags, bool lfn)
    {
        var r = ShortNameGenerator.Generate(name, _ => false);
        Assert.Equal(sfn, Sfn(r.ShortName));
        Assert.Equal(flags, r.CaseFlags);
        Assert.Equal(lfn, r.NeedsLongName);
    }

    [Theory]
    [InlineData("A long file name.txt", "ALONGF~1TXT")]
    [InlineData("file.name.with.dots", "FILENA~1DOT")]
    [InlineData(".hidden", "HIDDEN~1   ")]
    [InlineData("über.txt", "_BER~1  TXT")]
    [InlineData("a+b=c.html", "A_B_C~1 HTM")]
    [InlineData("日本語", "___~1      ")]
    public void LongNames_GetBasisNameAndNumericTail(string name, string sfn)
    {
        var r = ShortNameGenerator.Generate(name, _ => false);
        Assert.Equal(sfn, Sfn(r.ShortName));
        Assert.True(r.NeedsLongName);
        Assert.Equal(0, r.CaseFlags);
    }

    [Fact]
    public void Tails_Count_Up_Until_Unique_AndShortenTheBase()
    {
        var taken = new HashSet<string>();
        for (int i = 1; i <= 12; i++)
        {
            var r = ShortNameGenerator.Generate("Long name number.txt", b => taken.Contains(Sfn(b)));
            Assert.True(taken.Add(Sfn(r.ShortName)));
        }
        Assert.Contains("LONGNA~1TXT", taken);
        Assert.Contains("LONGNA~4TXT", taken);
        // Then hashed bases: two basis letters, four hex digits, a tail.
        Assert.Equal(8, taken.Count(t => System.Text.RegularExpressions.Regex.IsMatch(t, "^LO[0-9A-F]{4}~[1-8]TXT$")));
    }

    [Fact]
    public void An83NameThatCollides_GetsATailAndALongName()
    {
        var r = ShortNameGenerator.Generate("readme.txt", b => Sfn(b) == "README  TXT");
        Assert.Equal("README~1TXT", Sfn(r.ShortName));
        Assert.True(r.NeedsLongName);
    }

    [Theory]
    [InlineData("a*b")]
    [InlineData("a?b")]
    [InlineData("a:b")]
    [InlineData("a<b")]
    [InlineData("a|b")]
    [InlineData("a\\b")]
    [InlineData("a\"b")]
    [InlineData("a\u0001b")]
    [InlineData("trailing.")]
    public void ForbiddenNames_AreEinval(string name)
    {
        var e = Assert.Throws<MountFs.Vfs.FsException>(() => FatNameRules.Validate(name));
        Assert.Equal(MountFs.Vfs.Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void NamesLongerThan255Units_AreEnametoolong()
    {
        FatNameRules.Validate(new string('x', 255));
        Assert.Equal(MountFs.Vfs.Errno.ENAMETOOLONG, Assert.Throws<MountFs.Vfs.FsException>(() => FatNameRules.Validate(new string('x', 256))).Errno);
    }
}
