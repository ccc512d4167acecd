using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>How a chat model decodes: greedy (temperature 0) or sampling with temperature and nucleus (top-p).</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens generated per prompt, the stop token included (also capped by the context).</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>0 = greedy (argmax); otherwise logits are divided by it before sampling.</summary>
    public double Temperature { get; init; }

    /// <summary>Nucleus sampling: keep the most probable tokens whose mass reaches TopP (1 = all). Sampling only.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seed of the sampling generator (sampling is reproducible for a given seed and batch).</summary>
    public long Seed { get; init; }

    /// <summary>Token ids that end a sequence (not included in the output). Null = <c>&lt;|im_end|&gt;</c> and the tokenizer's eos.</summary>
    public IReadOnlyCollection<int>? StopTokenIds { get; init; }

    /// <summary>False recomputes the whole sequence every step instead of using the KV cache (for checks).</summary>
    public bool UseKvCache { get; init; } = true;

    /// <summary>
    /// Beam search width: 1 decodes one sequence (greedy or sampled); above 1 keeps that many hypotheses per prompt and
    /// returns the one with the best length-normalised log-probability (greedy only, temperature 0). Beam search always
    /// decodes with the KV cache (<see cref="UseKvCache"/> applies to single-sequence decoding).
    /// </summary>
    public int NumBeams { get; init; } = 1;

    /// <summary>
    /// Beam search: a finished hypothesis scores sum(log p) / length^LengthPenalty (length counts the stop token).
    /// 0 ranks by total log-probability (favours short answers), 1 by the mean per token (Hugging Face's default).
    /// </summary>
    public double LengthPenalty { get; init; } = 1.0;

    public static GenerationOptions Greedy(int maxNewTokens = 64) => new() { MaxNewTokens = maxNewTokens };

    public void Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "max new tokens must be at least 1");
        if (!double.IsFinite(Temperature) || Temperature < 0) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be a finite number >= 0 (0 = greedy)");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1]");
        if (NumBeams < 1 || NumBeams > 64) throw new ArgumentOutOfRangeException(nameof(NumBeams), NumBeams, "the number of beams must be in [1, 64] (1 = no beam search)");
        if (NumBeams > 1 && Temperature > 0) throw new ArgumentException($"beam search (beams {NumBeams}) is deterministic; use temperature 0, or 1 beam to sample");
        if (!double.IsFinite(LengthPenalty)) throw new ArgumentOutOfRangeException(nameof(LengthPenalty), LengthPenalty, "the length penalty must be a finite number");
    }
}

/// <summary>Why a sequence ended.</summary>
public enum GenerationStop
{
    /// <summary>A stop token (<c>&lt;|im_end|&gt;</c>) was produced.</summary>
    StopToken,

    /// <summary>MaxNewTokens or the end of the context was reached.</summary>
    Length,
}

/// <summary>
/// The generated ids of one prompt (without the stop token) and why generation ended. Beam search also gives the answer's
/// total log-probability (stop token included when it stopped on one); null otherwise.
/// </summary>
public sealed record GeneratedIds(int[] Tokens, GenerationStop Stop, double? LogProb = null);

/// <summary>Turns next-token logits into token choices.</summary>
public static class TokenChooser
{
    /// <summary>
    /// logits [B,V] → chosen ids [B]. Greedy takes the argmax. Sampling divides by the temperature, keeps the smallest
    /// set of most probable tokens whose probability reaches <paramref name="topP"/> (the most probable one always), and
    /// draws from the renormalised distribution with <paramref name="generator"/>.
    /// </summary>
    public static long[] Choose(Tensor logits, double temperature, double topP, Generator? generator)
    {
        if (logits.dim() != 2) throw new ArgumentException($"logits must be [B,V], got [{string.Join(",", logits.shape)}]");
        using var scope = NewDisposeScope();
        var x = logits.to_type(ScalarType.Float32);
        Tensor chosen;
        if (temperature <= 0)
        {
            chosen = x.argmax(-1);                                                        // [B]
        }
        else
        {
            var probs = nn.functional.softmax(x / temperature, -1);                       // [B,V]
            if (topP < 1)
            {
                var (sorted, order) = probs.sort(-1, descending: true);                   // [B,V] each
                var before = sorted.cumsum(-1) - sorted;                                  // mass of the more probable tokens
                var kept = sorted.masked_fill(before.ge(topP), 0);
                probs = zeros_like(probs).scatter(-1, order, kept);
            }
            chosen = multinomial(probs, 1, replacement: false, generator: generator).squeeze(-1);   // [B]
        }
        return chosen.to_type(ScalarType.Int64).data<long>().ToArray();
    }
}
