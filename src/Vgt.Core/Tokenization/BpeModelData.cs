namespace Vgt.Tokenization;

/// <summary>A token matched as a whole string before BPE (Hugging Face "added token").</summary>
/// <param name="Special">Special tokens are dropped by <c>Decode(ids, skipSpecialTokens: true)</c>.</param>
public sealed record AddedToken(int Id, string Content, bool Special);

/// <summary>
/// Everything a byte-level BPE tokenizer is made of: base vocabulary (byte-level token strings → id),
/// merges in rank order, added tokens, and which tokens serve as end-of-sequence and padding.
/// Qwen2 adds no BOS/EOS when encoding (<c>add_bos_token</c>/<c>add_eos_token</c> absent or false).
/// </summary>
public sealed record BpeModelData(
    IReadOnlyDictionary<string, int> Vocab,
    IReadOnlyList<(string Left, string Right)> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    string? EosToken = null,
    string? PadToken = null,
    bool Nfc = true,
    string? BosToken = null,
    bool AddBosToken = false,
    bool AddEosToken = false);

/// <summary>The tokens Qwen2 and InternVL use in prompts (ids in the real InternVL3 tokenizer in comments).</summary>
public static class Qwen2SpecialTokens
{
    public const string EndOfText = "<|endoftext|>";   // 151643, also pad
    public const string ImStart = "<|im_start|>";      // 151644
    public const string ImEnd = "<|im_end|>";          // 151645, InternVL3's eos
    public const string ImgStart = "<img>";            // 151665 (InternVL3 only)
    public const string ImgEnd = "</img>";             // 151666 (InternVL3 only)
    public const string ImgContext = "<IMG_CONTEXT>";  // 151667 (InternVL3 only)

    /// <summary>The special tokens a trained tiny tokenizer gets, in id order after its BPE vocabulary.</summary>
    public static readonly IReadOnlyList<string> Default = [EndOfText, ImStart, ImEnd, ImgStart, ImgEnd, ImgContext];
}
