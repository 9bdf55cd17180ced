namespace MountFs.Fat;

/// <summary>The checksum tying long-name slots to their short entry (fatgen103 section 7).</summary>
public static class LongNameChecksum
{
    public static byte Compute(ReadOnlySpan<byte> shortName11)
    {
        byte sum = 0;
        for (int i = 0; i < 11; i++) sum = (byte)(((sum & 1) << 7) + (sum >> 1) + shortName11[i]);
        return sum;
    }
}
