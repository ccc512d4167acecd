namespace Vgt.Cli;

/// <summary>How the `vgt eval` commands print a report: the table, a blank line, the JSON; the JSON also to --json FILE (atomically).</summary>
public static class ReportOutput
{
    public static void Write(string table, string json, string? jsonPath)
    {
        Console.WriteLine(table);
        Console.WriteLine();
        Console.WriteLine(json);
        if (jsonPath is not null) IO.AtomicFile.WriteAllText(jsonPath, json + "\n");
    }
}
