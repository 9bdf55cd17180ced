using MountFs.Tool;

namespace MountFs.Cli.Tests;

/// <summary>The partition table of `info` and mkfs's terminal progress line.</summary>
public sealed class TextTableTests
{
    [Fact]
    public void Ascii_table_frames_padded_columns()
    {
        var table = new TextTable("#", "Size", "Name");
        table.AddRow("1", "20.0 MiB", "-");
        table.AddRow("12", "1 KiB", "data");
        Assert.Equal(
            "+----------------------+\n" +
            "| #  | Size     | Name |\n" +
            "|----+----------+------|\n" +
            "| 1  | 20.0 MiB | -    |\n" +
            "| 12 | 1 KiB    | data |\n" +
            "+----------------------+\n",
            table.Render(boxDrawing: false));
    }

    [Fact]
    public void Terminal_table_separates_columns_without_a_frame()
    {
        var table = new TextTable("#", "Name");
        table.AddRow("1", "boot");
        Assert.Equal(
            " # │ Name \n" +
            "───┼──────\n" +
            " 1 │ boot \n",
            table.Render(boxDrawing: true));
    }

    [Fact]
    public void Control_characters_in_a_cell_cannot_break_the_row()
    {
        var table = new TextTable("Name");
        table.AddRow("evil\n\u001b[2Jname");
        string[] lines = table.Render(boxDrawing: false).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal("| evil??[2Jname |", lines[3]);
    }

    [Fact]
    public void A_row_must_fill_every_column()
    {
        var table = new TextTable("a", "b");
        Assert.Throws<ArgumentException>(() => table.AddRow("only one"));
    }

    [Fact]
    public void Progress_redraws_only_when_the_percentage_changes_and_erases_itself()
    {
        var terminal = new StringWriter();
        using (var progress = new TerminalProgress(terminal, "Work"))
        {
            progress.Report(0.001);
            progress.Report(0.5);
            progress.Report(0.504);
            progress.Report(2.0);
        }
        Assert.Equal("\rWork   0%\rWork  50%\rWork 100%\r         \r", terminal.ToString());
    }
}
