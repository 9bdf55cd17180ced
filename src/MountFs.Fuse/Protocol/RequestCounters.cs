using System.Text;

namespace MountFs.Fuse.Protocol;

/// <summary>
/// How many requests of each opcode the dispatcher has seen: the way to learn what the kernel sends per
/// system call (create, stat, close, ...) when tuning round trips. One interlocked increment per request.
/// </summary>
public sealed class RequestCounters
{
    private const int Slots = 64;
    private readonly long[] _counts = new long[Slots + 1];

    public void Count(FuseOpcode opcode) =>
        Interlocked.Increment(ref _counts[(uint)opcode < Slots ? (int)opcode : Slots]);

    /// <summary>Requests of <paramref name="opcode"/> so far (opcodes beyond the table share one slot).</summary>
    public long this[FuseOpcode opcode] => Volatile.Read(ref _counts[(uint)opcode < Slots ? (int)opcode : Slots]);

    /// <summary>Non-zero counts, as "LOOKUP 5, CREATE 5, ..." in opcode order.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        for (int i = 0; i <= Slots; i++)
        {
            long n = Volatile.Read(ref _counts[i]);
            if (n == 0) continue;
            if (text.Length > 0) text.Append(", ");
            text.Append(i < Slots ? ((FuseOpcode)i).ToString().ToUpperInvariant() : "OTHER").Append(' ').Append(n);
        }
        return text.Length == 0 ? "none" : text.ToString();
    }
}
