using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>
/// Beam search for <see cref="InternVlChatModel.GenerateIds"/> (GenerationOptions.NumBeams &gt; 1). Each prompt keeps
/// NumBeams running hypotheses. At every step the 2·NumBeams best one-token extensions of all of them are ranked by total
/// log-probability; an extension that is a stop token and ranks among the first NumBeams becomes a finished hypothesis,
/// scored sum(log p) / length^LengthPenalty (length counts the stop token); the best NumBeams others run on. A prompt is
/// done when it holds NumBeams finished hypotheses that its best running one can no longer beat (Hugging Face's
/// heuristic for early_stopping=False), or when its beams reach the length limit, which finishes them as they are.
/// One prefill per prompt; the KV cache is then copied into the beams and reordered to follow the survivors.
/// </summary>
public sealed partial class InternVlChatModel
{
    /// <summary>A hypothesis of one prompt: its tokens (stop token excluded), its total log-probability and its row.</summary>
    sealed record Beam(List<int> Tokens, double LogProb, int Row);

    sealed record FinishedBeam(int[] Tokens, double LogProb, double Score, GenerationStop Stop);

    IReadOnlyList<GeneratedIds> BeamSearchIds(IReadOnlyList<int[]> prompts, Tensor? pixels, GenerationOptions options)
    {
        int b = prompts.Count, k = options.NumBeams, rows = b * k;
        var stops = new HashSet<int>(options.StopTokenIds ?? DefaultStopIds);
        int vocab = Math.Min(Tokenizer.VocabSize, Config.Llm.VocabSize);
        int pad = Tokenizer.PadId;
        var device = ParameterDevice;
        double Normalised(double logProb, int length) => logProb / Math.Pow(length, options.LengthPenalty);

        // Prefill one row per prompt, left-padded as in greedy decoding.
        var (ids, keyMask) = LeftPad(prompts, pad);
        var maxNew = prompts.Select(p => Math.Min(options.MaxNewTokens, ContextLength - p.Length)).ToArray();

        using var cache = Model.LanguageModel.Model.NewCache();
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var imageTokens = pixels is null ? null : Model.ExtractFeature(pixels.to(device));   // [N, N', D]
        Tensor logits, rowMask;                                                               // [rows, V], [rows, T] after the prefill
        {
            using var step = NewDisposeScope();
            var first = FullForward(ids, keyMask, imageTokens, cache, device);                 // [B,V]
            var expand = Enumerable.Range(0, rows).Select(r => (long)(r / k)).ToArray();
            cache.SelectRows(expand);
            var expandT = tensor(expand, device: device);
            logits = first.index_select(0, expandT).MoveToOuterDisposeScope();
            rowMask = tensor(keyMask.SelectMany(m => m).ToArray(), device: device).view(b, -1).index_select(0, expandT).MoveToOuterDisposeScope();
        }

        // Row p·k + j holds beam j of prompt p. At the start only beam 0 is alive, so the first step picks k distinct tokens.
        var rowNextPos = Enumerable.Range(0, rows).Select(r => (long)prompts[r / k].Length).ToArray();
        var running = Enumerable.Range(0, b).Select(p => new List<Beam> { new([], 0.0, p * k) }).ToArray();
        var finished = Enumerable.Range(0, b).Select(_ => new List<FinishedBeam>()).ToArray();
        var done = new bool[b];

        while (true)
        {
            using var step = NewDisposeScope();
            var rowScore = new float[rows];
            Array.Fill(rowScore, float.NegativeInfinity);
            foreach (var beams in running) foreach (var beam in beams) rowScore[beam.Row] = (float)beam.LogProb;
            var logp = nn.functional.log_softmax(logits.narrow(-1, 0, vocab).to_type(ScalarType.Float32), -1);   // [rows,V]
            var total = (logp + tensor(rowScore, device: device).unsqueeze(1)).view(b, k * vocab);               // [B, k·V]
            var (topValues, topIndices) = total.topk(Math.Min(2 * k, k * vocab), dim: 1);                       // [B, 2k]
            var values = topValues.cpu().data<float>().ToArray();
            var indices = topIndices.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
            int width2k = (int)topValues.shape[1];

            // Next step: row r continues from source row select[r] with token next[r] (pad and masked when dead).
            var select = Enumerable.Range(0, rows).Select(r => (long)r).ToArray();
            var next = Enumerable.Repeat((long)pad, rows).ToArray();
            var alive = new bool[rows];
            for (int p = 0; p < b; p++)
            {
                if (done[p]) { running[p] = []; continue; }
                var byRow = running[p].ToDictionary(beam => beam.Row);
                var kept = new List<Beam>(k);
                for (int c = 0; c < width2k && kept.Count < k; c++)
                {
                    double score = values[p * width2k + c];
                    if (double.IsNegativeInfinity(score)) break;
                    int source = p * k + (int)(indices[p * width2k + c] / vocab);
                    int token = (int)(indices[p * width2k + c] % vocab);
                    var parent = byRow[source];
                    if (stops.Contains(token))
                    {
                        if (c < k) finished[p].Add(new([.. parent.Tokens], score, Normalised(score, parent.Tokens.Count + 1), GenerationStop.StopToken));
                        continue;
                    }
                    int row = p * k + kept.Count;
                    kept.Add(new([.. parent.Tokens, token], score, row));
                    select[row] = source;
                    next[row] = token;
                    alive[row] = true;
                }
                KeepBest(finished[p], k);
                int length = kept.Count == 0 ? 0 : kept[0].Tokens.Count;
                bool full = finished[p].Count >= k;
                bool cannotImprove = full && (kept.Count == 0 || Normalised(kept[0].LogProb, length + 1) <= finished[p][^1].Score);
                if (kept.Count == 0 || cannotImprove || length >= maxNew[p])
                {
                    if (length >= maxNew[p] && !cannotImprove)
                        foreach (var beam in kept) finished[p].Add(new([.. beam.Tokens], beam.LogProb, Normalised(beam.LogProb, beam.Tokens.Count), GenerationStop.Length));
                    KeepBest(finished[p], k);
                    done[p] = true;
                    for (int j = 0; j < k; j++) { select[p * k + j] = p * k + j; next[p * k + j] = pad; alive[p * k + j] = false; }
                    kept = [];
                }
                running[p] = kept;
            }
            if (done.All(d => d)) break;

            // Follow the surviving beams: reorder the cache, the key mask and the positions, then run one position.
            cache.SelectRows(select);
            var positions = select.Select(s => rowNextPos[s]).ToArray();
            var newPos = new long[rows];
            for (int r = 0; r < rows; r++)
            {
                newPos[r] = alive[r] ? positions[r] : Math.Max(0, positions[r] - 1);
                rowNextPos[r] = alive[r] ? positions[r] + 1 : positions[r];
            }
            var mask = cat([rowMask.index_select(0, tensor(select, device: device)),
                            tensor(alive, device: device).unsqueeze(1)], 1).MoveToOuterDisposeScope();          // [rows, past+1]
            rowMask.Dispose();
            rowMask = mask;
            var stepLogits = CachedStep(next, newPos, rowMask, cache, device).MoveToOuterDisposeScope();          // [rows,V]
            logits.Dispose();
            logits = stepLogits;
        }
        if (finished.Any(f => f.Count == 0)) throw new InvalidOperationException("beam search ended a prompt without any hypothesis (every extension had probability 0)");
        return finished.Select(f => new GeneratedIds(f[0].Tokens, f[0].Stop, f[0].LogProb)).ToList();
    }

    /// <summary>Sorts best first (ties keep the order found) and drops all but the best <paramref name="k"/>.</summary>
    static void KeepBest(List<FinishedBeam> finished, int k)
    {
        var sorted = finished.Select((f, i) => (f, i)).OrderByDescending(x => x.f.Score).ThenBy(x => x.i).Select(x => x.f).Take(k).ToList();
        finished.Clear();
        finished.AddRange(sorted);
    }
}
