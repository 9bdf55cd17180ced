using System.Text;

namespace MountFs.Tool;

/// <summary>
/// Columns of text rendered as a table: ASCII borders for files and pipes (grep and diff handle them),
/// light box-drawing separators on a terminal. Cells are plain text, never wrapped.
/// </summary>
public sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public TextTable(params string[] headers)
    {
        if (headers.Length == 0) throw new ArgumentException("a table needs at least one column", nameof(headers));
        _headers = headers;
    }

    public void AddRow(params string[] cells)
    {
        if (cells.Length != _headers.Length)
            throw new ArgumentException($"a row needs {_headers.Length} cells, not {cells.Length}", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>The table as lines ending in '\n'.</summary>
    /// <param name="boxDrawing">True for a terminal: "│" between columns and a "─┼─" rule under the header, no frame.</param>
    public string Render(bool boxDrawing)
    {
        var widths = new int[_headers.Length];
        foreach (var row in _rows.Prepend(_headers))
            for (int c = 0; c < row.Length; c++)
                widths[c] = Math.Max(widths[c], OneLine(row[c]).Length);

        var text = new StringBuilder();
        if (boxDrawing)
        {
            Line(text, _headers, widths, " ", " │ ", " ");
            text.AppendJoin('┼', widths.Select(w => new string('─', w + 2))).Append('\n');
            foreach (var row in _rows) Line(text, row, widths, " ", " │ ", " ");
            return text.ToString();
        }
        // The frame's top and bottom have no column joints; the rule under the header has.
        string frame = "+" + new string('-', widths.Sum() + 3 * widths.Length - 1) + "+\n";
        text.Append(frame);
        Line(text, _headers, widths, "| ", " | ", " |");
        text.Append('|').AppendJoin('+', widths.Select(w => new string('-', w + 2))).Append("|\n");
        foreach (var row in _rows) Line(text, row, widths, "| ", " | ", " |");
        text.Append(frame);
        return text.ToString();
    }

    private static void Line(StringBuilder text, string[] cells, int[] widths, string left, string between, string right)
    {
        text.Append(left);
        for (int c = 0; c < cells.Length; c++)
        {
            if (c > 0) text.Append(between);
            text.Append(OneLine(cells[c]).PadRight(widths[c]));
        }
        text.Append(right).Append('\n');
    }

    /// <summary>A cell's control characters (a hostile partition name's newline or escape) shown as '?', so a row stays one line.</summary>
    private static string OneLine(string cell) =>
        cell.Any(char.IsControl) ? string.Concat(cell.Select(ch => char.IsControl(ch) ? '?' : ch)) : cell;
}
