namespace Vgt.Evaluation;

/// <summary>
/// Makes the images of a GenEval-layout benchmark run, one per (metadata line, seed). Shapes World's ground-truth
/// renderer is one; a trained model's sampler will be another.
/// </summary>
public interface IImageGenerator
{
    /// <summary>A short name for logs and reports.</summary>
    string Name { get; }

    /// <summary>Throws <see cref="InvalidDataException"/> (naming <paramref name="where"/>) when this generator cannot make images for the line; called for every line before anything is written.</summary>
    void Check(GenEvalMetadata metadata, string where);

    RgbImage Generate(GenEvalMetadata metadata, long seed);
}
