namespace Vgt.Checkpoints;

/// <summary>
/// A checkpoint file (or directory) that cannot be read as what it claims to be: names the file and the problem.
/// Thrown for truncated files, inconsistent headers, unknown dtypes, out-of-range offsets and the like.
/// </summary>
public sealed class CheckpointFormatException(string path, string problem)
    : IOException($"Invalid checkpoint '{path}': {problem}")
{
    /// <summary>The file or directory that was being read.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; } = problem;
}

/// <summary>A strict load whose checkpoint does not match the module (see <see cref="Report"/>).</summary>
public sealed class CheckpointLoadException(LoadReport report, string message) : Exception(message)
{
    public LoadReport Report { get; } = report;
}
