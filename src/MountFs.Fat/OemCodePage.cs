namespace MountFs.Fat;

/// <summary>
/// The OEM code page of short names. We write only ASCII into short names (anything else becomes '_' and the
/// long name carries the truth), and read bytes above 0x7F as code page 437 so foreign names still display.
/// </summary>
public static class OemCodePage
{
    private const string Cp437High =
        "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00A0";

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            chars[i] = bytes[i] < 0x80 ? (char)bytes[i] : Cp437High[bytes[i] - 0x80];
        return new string(chars);
    }
}
