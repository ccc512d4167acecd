using Vgt.Models.QueryAr;
using Vgt.Tokenization;

namespace Vgt.Pipelines;

/// <summary>
/// The generation batch (§9.1): cond rows [p₁×G, p₂×G, …] then (with guidance) as many uncond rows (the CFG prompt,
/// or the negative prompt templated like a caption), all right-padded together with the tokenizer's pad id.
/// </summary>
public static class PromptBatch
{
    public static TokenBatch Build(Qwen2Tokenizer tokenizer, PromptTemplates templates, IReadOnlyList<string> prompts,
        string? negative, int imagesPerPrompt, bool guidance, int maxTokens, string limitName = "max_prompt_tokens")
    {
        if (prompts is null || prompts.Count == 0) throw new ArgumentException("at least one prompt is needed", nameof(prompts));
        if (imagesPerPrompt < 1) throw new ArgumentOutOfRangeException(nameof(imagesPerPrompt), imagesPerPrompt, "images per prompt must be >= 1");
        for (int i = 0; i < prompts.Count; i++)
            if (string.IsNullOrWhiteSpace(prompts[i])) throw new ArgumentException($"prompt {i} is empty", nameof(prompts));
        if (negative is not null && string.IsNullOrWhiteSpace(negative))
            throw new ArgumentException("the negative prompt is empty (pass null for the default CFG prompt)", nameof(negative));

        var texts = prompts.SelectMany(p => Enumerable.Repeat(templates.Conditional(p), imagesPerPrompt)).ToList();
        if (guidance)
        {
            var uncond = negative is null ? templates.Unconditional() : templates.Conditional(negative);
            texts.AddRange(Enumerable.Repeat(uncond, prompts.Count * imagesPerPrompt));
        }
        var batch = tokenizer.EncodeBatch(texts);
        for (int r = 0; r < batch.Count; r++)
            if (batch.Lengths[r] > maxTokens)
            {
                string which = r < prompts.Count * imagesPerPrompt ? $"prompt {r / imagesPerPrompt}" : "the negative prompt";
                throw new ArgumentException($"{which} is {batch.Lengths[r]} tokens after templating; the limit is {limitName} = {maxTokens}", nameof(prompts));
            }
        return batch;
    }
}
