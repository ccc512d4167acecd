namespace Vgt.Cli;

/// <summary>Which exceptions are the user's input problems (print the message) rather than bugs (print the trace).</summary>
public static class CliErrors
{
    public static bool IsUserError(Exception e) => e is ArgumentException or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or Vgt.Config.ConfigValidationException or FormatException or UnauthorizedAccessException
        or NotSupportedException;
}
