namespace MountFs.Tool;

/// <summary>
/// A one-line progress display on a terminal ("Writing file system  42%"), redrawn in place only when the
/// whole percentage changes, and erased when disposed. Reports arrive on the worker's own thread.
/// </summary>
public sealed class TerminalProgress : IProgress<double>, IDisposable
{
    private readonly TextWriter _terminal;
    private readonly string _label;
    private int _shown = -1;
    private bool _drawn;

    public TerminalProgress(TextWriter terminal, string label)
    {
        _terminal = terminal;
        _label = label;
        Report(0);
    }

    /// <param name="value">Fraction done, 0 to 1 (clamped).</param>
    public void Report(double value)
    {
        int percent = (int)(Math.Clamp(double.IsNaN(value) ? 0 : value, 0, 1) * 100);
        if (percent == _shown) return;
        _shown = percent;
        _terminal.Write($"\r{Text(percent)}");
        _terminal.Flush();
        _drawn = true;
    }

    /// <summary>The line as drawn for <paramref name="percent"/>.</summary>
    public string Text(int percent) => $"{_label} {percent,3}%";

    public void Dispose()
    {
        if (!_drawn) return;
        _terminal.Write($"\r{new string(' ', Text(100).Length)}\r");
        _terminal.Flush();
        _drawn = false;
    }
}
