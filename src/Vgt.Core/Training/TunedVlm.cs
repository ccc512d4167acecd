using TorchSharp;
using Vgt.Checkpoints;
using Vgt.Models.InternVl;
using Vgt.Pipelines;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// "Understanding after tuning": an InternVL chat model made of a VLM's vision tower, mlp1, tokenizer (and, when untied,
/// lm_head) with the LLM decoder of a VGT generator (state-dict names <c>lmm.language_model.model.*</c>). Used by
/// <c>vgt eval vlm --llm-from GENERATOR_DIR</c> and by VGT training's export of <c>RUN/vlm/</c>. With a tied head (shapes-vlm)
/// the tuned embedding is also the LM head.
/// </summary>
public static class TunedVlm
{
    /// <summary>Where a generator keeps the LLM decoder.</summary>
    public const string GeneratorLlmPrefix = "lmm.language_model.model.";

    /// <summary>
    /// Copies the decoder entries of <paramref name="generatorState"/> (generator state-dict names) into the chat model's
    /// LLM. Every decoder tensor must be there with the VLM's shape and nothing else under the prefix; otherwise
    /// <see cref="InvalidDataException"/> naming the first mismatch, and nothing is copied.
    /// </summary>
    public static void ReplaceLlm(InternVlChatModel chat, IReadOnlyDictionary<string, Tensor> generatorState, string source)
    {
        // strict: a single missing, unexpected or mis-shaped tensor refuses the whole replacement
        using var checkpoint = new TensorDictionaryCheckpoint(generatorState, source);
        try
        {
            StateDictLoader.Load(chat.Model.LanguageModel.Model, checkpoint,
                new LoadOptions { Strict = true, StripModulePrefix = false, Prefix = GeneratorLlmPrefix });
        }
        catch (CheckpointLoadException e)
        {
            throw new InvalidDataException($"The LLM of {source} ({GeneratorLlmPrefix}*) does not fit the VLM's language_model.model (nothing was replaced):\n  {e.Report.Summary()}");
        }
    }

    /// <summary>
    /// Loads the VLM in <paramref name="vlmDirectory"/> and replaces its LLM by the one in the generator directory's
    /// model.safetensors (the EMA weights the generator ships). The generator's tokenizer must be the VLM's.
    /// </summary>
    public static InternVlChatModel Load(string vlmDirectory, string generatorDirectory)
    {
        var weights = Path.Combine(generatorDirectory, VgtGenerator.WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"'{generatorDirectory}' is not a generator directory: it has no {VgtGenerator.WeightsFile}", weights);
        var chat = InternVlChatModel.Load(vlmDirectory);
        try
        {
            using (var scope = NewDisposeScope())
            using (var ck = CheckpointReader.Open(weights))
            {
                var state = ck.Names.Where(n => n.StartsWith(GeneratorLlmPrefix, StringComparison.Ordinal))
                    .ToDictionary(n => n, n => ck.Load(n, null), StringComparer.Ordinal);
                ReplaceLlm(chat, state, $"the generator '{generatorDirectory}'");
            }
            if (TokenizerDifference(chat.Tokenizer, Qwen2Tokenizer.Load(generatorDirectory)) is { } diff)
                throw new InvalidDataException($"The generator '{generatorDirectory}' uses another tokenizer than the VLM '{vlmDirectory}': {diff}");
            return chat;
        }
        catch
        {
            chat.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="outDirectory"/>: the VLM's directory contents (config, vision tower, mlp1, tokenizer) with the
    /// LLM of <paramref name="generatorState"/>; <see cref="InternVlChatModel.Load"/> reads it. Written atomically (<see cref="IO.AtomicDirectory"/>).
    /// </summary>
    public static void Write(string vlmDirectory, IReadOnlyDictionary<string, Tensor> generatorState, Qwen2Tokenizer generatorTokenizer,
        string outDirectory, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var chat = InternVlChatModel.Load(vlmDirectory);
        if (TokenizerDifference(chat.Tokenizer, generatorTokenizer) is { } diff)
            throw new InvalidDataException($"The generator was trained with another tokenizer than the VLM '{vlmDirectory}': {diff}");
        ReplaceLlm(chat, generatorState, "the trained generator");
        IO.AtomicDirectory.Write(outDirectory, staging => chat.Save(staging, metadata));
    }

    /// <summary>Null when the two tokenizers map text to the same ids (same vocabulary, merges and added tokens); else what differs.</summary>
    public static string? TokenizerDifference(Qwen2Tokenizer a, Qwen2Tokenizer b)
    {
        if (ReferenceEquals(a, b)) return null;
        var (ma, mb) = (a.Model, b.Model);
        if (ma.Vocab.Count != mb.Vocab.Count) return $"vocabularies of {ma.Vocab.Count} and {mb.Vocab.Count} tokens";
        foreach (var (token, id) in ma.Vocab)
            if (!mb.Vocab.TryGetValue(token, out int other) || other != id) return $"token '{token}' is id {id} in one and {(mb.Vocab.ContainsKey(token) ? other.ToString(System.Globalization.CultureInfo.InvariantCulture) : "absent")} in the other";
        if (!ma.Merges.SequenceEqual(mb.Merges)) return "the merges differ";
        if (!ma.AddedTokens.Select(t => (t.Id, t.Content)).SequenceEqual(mb.AddedTokens.Select(t => (t.Id, t.Content)))) return "the added tokens differ";
        return null;
    }
}
