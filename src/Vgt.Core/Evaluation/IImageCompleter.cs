namespace Vgt.Evaluation;

/// <summary>
/// Completes an image from part of its latent tokens: encodes <c>reference</c>, keeps <c>knownTokens</c> of its
/// positions (chosen by <c>seed</c>) and generates the rest for the metadata's prompt. A trained VGT generator is one.
/// </summary>
public interface IImageCompleter
{
    /// <summary>A short name for logs and reports.</summary>
    string Name { get; }

    /// <summary>Latent positions of an image of <paramref name="size"/> × <paramref name="size"/> pixels (the largest useful known count).</summary>
    int TokensFor(int size);

    RgbImage Complete(GenEvalMetadata metadata, RgbImage reference, int knownTokens, long seed);
}
