namespace MountFs.Fat;

/// <summary>The 8.3 alias for a long name: fatgen103 section 7's basis name plus a "~N" numeric tail.</summary>
public static class ShortNameGenerator
{
    /// <summary>What to store for a name.</summary>
    /// <param name="ShortName">The 11 bytes of the short entry.</param>
    /// <param name="CaseFlags">NT lower-case bits when the name is 8.3 apart from an all-lower base or extension.</param>
    /// <param name="NeedsLongName">False when the short entry (with case flags) reproduces the name exactly.</param>
    public readonly record struct Result(byte[] ShortName, byte CaseFlags, bool NeedsLongName);

    private static bool IsShortNameChar(char c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9'
        || "!#$%&'()-@^_`{}~".Contains(c);

    /// <param name="taken">True when an 11-byte short name is already used in the directory.</param>
    public static Result Generate(string longName, Func<byte[], bool> taken)
    {
        if (TryExact83(longName, out byte[]? exact, out byte flags, out bool mixed))
        {
            if (!taken(exact!)) return new Result(exact!, mixed ? (byte)0 : flags, mixed);
        }
        bool lossy = exact == null;
        string upper = longName.ToUpperInvariant();
        // Basis name: drop spaces and leading dots, map what a short name cannot hold to '_'.
        int lastDot = upper.LastIndexOf('.');
        if (lastDot <= 0 || upper.TrimStart('.').Length == 0) lastDot = upper.Length;
        var baseChars = new List<char>();
        var extChars = new List<char>();
        for (int i = 0; i < upper.Length; i++)
        {
            char c = upper[i];
            if (c == ' ' || (c == '.' && i != lastDot)) { lossy = true; continue; }
            if (i == lastDot) continue;
            char m = c < 0x80 && IsShortNameChar(c) ? c : '_';
            if (m != c) lossy = true;
            if (i < lastDot) baseChars.Add(m); else extChars.Add(m);
        }
        if (baseChars.Count > 8 || extChars.Count > 3) lossy = true;
        if (baseChars.Count == 0) { baseChars.Add('_'); lossy = true; }
        string basis = new(baseChars.Take(8).ToArray());
        string ext = new(extChars.Take(3).ToArray());
        if (!lossy)
        {
            byte[] plain = Pack(basis, ext);
            if (!taken(plain)) return new Result(plain, 0, true);
        }
        for (int n = 1; n <= 4; n++)
        {
            byte[] candidate = WithTail(basis, n, ext);
            if (!taken(candidate)) return new Result(candidate, 0, true);
        }
        // Like Windows after ~4: two basis characters and a hash of the long name, so a directory of many
        // similar names does not walk a growing list of taken tails on every create.
        string hashed = (basis.Length > 2 ? basis[..2] : basis) + (Fnv1a(longName) & 0xFFFF).ToString("X4");
        for (int n = 1; n <= 9; n++)
        {
            byte[] candidate = WithTail(hashed, n, ext);
            if (!taken(candidate)) return new Result(candidate, 0, true);
        }
        for (int n = 5; n < 1_000_000; n++)
        {
            byte[] candidate = WithTail(basis, n, ext);
            if (!taken(candidate)) return new Result(candidate, 0, true);
        }
        throw new InvalidOperationException("no free short name");
    }

    /// <summary>The packed name "basis~n.ext", the basis cut short so the tail fits in 8 characters.</summary>
    internal static byte[] WithTail(string basis, int n, string ext)
    {
        string tail = "~" + n;
        string b = basis.Length + tail.Length > 8 ? basis[..(8 - tail.Length)] : basis;
        return Pack(b + tail, ext);
    }

    private static uint Fnv1a(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) { h ^= c; h *= 16777619; }
        return h;
    }

    /// <summary>True when <paramref name="name"/> is already a valid 8.3 name apart from case.</summary>
    private static bool TryExact83(string name, out byte[]? packed, out byte flags, out bool mixed)
    {
        packed = null; flags = 0; mixed = false;
        int dot = name.IndexOf('.');
        string b = dot < 0 ? name : name[..dot];
        string e = dot < 0 ? "" : name[(dot + 1)..];
        if (b.Length is 0 or > 8 || e.Length > 3 || e.Contains('.') || (dot >= 0 && e.Length == 0)) return false;
        foreach (char c in name) if (c != '.' && !IsShortNameChar(c)) return false;
        bool baseLower = b.Any(char.IsAsciiLetterLower), baseUpper = b.Any(char.IsAsciiLetterUpper);
        bool extLower = e.Any(char.IsAsciiLetterLower), extUpper = e.Any(char.IsAsciiLetterUpper);
        mixed = (baseLower && baseUpper) || (extLower && extUpper);
        if (baseLower && !baseUpper) flags |= ShortDirectoryEntry.LowerCaseBase;
        if (extLower && !extUpper) flags |= ShortDirectoryEntry.LowerCaseExtension;
        packed = Pack(b.ToUpperInvariant(), e.ToUpperInvariant());
        return true;
    }

    public static byte[] Pack(string baseName, string ext)
    {
        var r = new byte[11];
        r.AsSpan().Fill((byte)' ');
        for (int i = 0; i < baseName.Length && i < 8; i++) r[i] = (byte)baseName[i];
        for (int i = 0; i < ext.Length && i < 3; i++) r[8 + i] = (byte)ext[i];
        if (r[0] == 0xE5) r[0] = 0x05;
        return r;
    }
}
