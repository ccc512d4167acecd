using Vgt.Models.InternVl;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Tests.Vlm;

public class BeamSearchTests
{
    static ChatRequest[] Requests() =>
    [
        new("how many circles are there?", [VlmTestKit.Image(1)]),
        new("is the circle above the square?", [VlmTestKit.Image(2)]),
        new("describe the image.", [VlmTestKit.Image(3)]),
    ];

    /// <summary>log p of each next token after prompt + prefix, by one full forward pass (no cache): [V].</summary>
    static float[] NextLogProbs(InternVlChatModel chat, ChatRequest request, IReadOnlyList<int> prefix)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = chat.EncodePrompt(request).Concat(prefix).Select(t => (long)t).ToArray();
        var pixels = chat.PreprocessImage(request.Images![0]).unsqueeze(0);
        var logits = chat.Model.Forward(tensor(ids).unsqueeze(0), pixels, chat.ImageContextId);     // [1,T,V]
        int vocab = Math.Min(chat.Tokenizer.VocabSize, chat.Config.Llm.VocabSize);
        return nn.functional.log_softmax(logits[0, -1].narrow(0, 0, vocab), 0).data<float>().ToArray();
    }

    [Fact]
    public void TwoStepBeamSearchFindsTheBestAnswerAmongItsFirstTokensByExhaustiveSearch()
    {
        using var chat = VlmTestKit.Model(seed: 13);
        var request = Requests()[0];
        const int beams = 4;
        var first = NextLogProbs(chat, request, []);
        var order = Enumerable.Range(0, first.Length).OrderByDescending(t => first[t]).ToArray();
        int stop = order[1];   // the second most likely first token ends the answer, so both kinds of ending compete

        // Exhaustive over the beam's first tokens: stop now (ranked within the beams), or any second token (stop or not).
        double best = first[stop];
        int[] bestTokens = [];
        foreach (int t in order.Take(beams).Where(t => t != stop))
        {
            var second = NextLogProbs(chat, request, [t]);
            for (int u = 0; u < second.Length; u++)
            {
                double score = first[t] + second[u];
                if (score > best) { best = score; bestTokens = u == stop ? [t] : [t, u]; }
            }
        }

        var got = chat.GenerateIds([chat.EncodePrompt(request)], chat.PreprocessImages([request]),
            new GenerationOptions { MaxNewTokens = 2, NumBeams = beams, LengthPenalty = 0, StopTokenIds = [stop] })[0];
        Assert.Equal(bestTokens, got.Tokens);
        Assert.Equal(best, got.LogProb!.Value, 4);
    }

    [Fact]
    public void TheAnswersLogProbabilityIsWhatAFullPassGivesItsTokens()
    {
        // Ten steps of cache reordering: a row that followed the wrong beam would score tokens against the wrong past.
        using var chat = VlmTestKit.Model(seed: 17);
        var requests = Requests();
        var answers = chat.GenerateIds(requests.Select(chat.EncodePrompt).ToList(), chat.PreprocessImages(requests),
            new GenerationOptions { MaxNewTokens = 10, NumBeams = 3, StopTokenIds = [] });
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(10, answers[i].Tokens.Length);
            Assert.Equal(GenerationStop.Length, answers[i].Stop);
            double sum = 0;
            for (int s = 0; s < answers[i].Tokens.Length; s++) sum += NextLogProbs(chat, requests[i], answers[i].Tokens[..s])[answers[i].Tokens[s]];
            Assert.Equal(sum, answers[i].LogProb!.Value, 3);
        }
    }

    [Fact]
    public void BatchedBeamSearchEqualsOneByOneAndNeverScoresBelowGreedy()
    {
        using var chat = VlmTestKit.Model(seed: 19);
        var options = new GenerationOptions { MaxNewTokens = 8, NumBeams = 5, LengthPenalty = 0, StopTokenIds = [] };
        var batched = chat.Generate(Requests(), options);
        var single = Requests().Select(r => chat.Generate([r], options)[0]).ToList();
        Assert.True(batched[0].PromptTokens != batched[1].PromptTokens, "prompts of different lengths exercise the left padding");
        for (int i = 0; i < 3; i++) Assert.Equal(single[i].TokenIds, batched[i].TokenIds);

        // Sum of log p over a fixed length: the best of 5 beams is at least as likely as the greedy answer here.
        var greedy = chat.Generate(Requests(), new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [] });
        for (int i = 0; i < 3; i++)
        {
            double Score(int[] tokens) => Enumerable.Range(0, tokens.Length).Sum(s => (double)NextLogProbs(chat, Requests()[i], tokens[..s])[tokens[s]]);
            Assert.True(Score(batched[i].TokenIds) >= Score(greedy[i].TokenIds) - 1e-4, $"request {i}");
        }
    }

    [Fact]
    public void BeamSearchIsRefusedWithSamplingOrTooManyBeams()
    {
        var sampling = Assert.Throws<ArgumentException>(() => new GenerationOptions { NumBeams = 3, Temperature = 0.7 }.Validate());
        Assert.Contains("temperature 0", sampling.Message);
        var many = Assert.Throws<ArgumentOutOfRangeException>(() => new GenerationOptions { NumBeams = 65 }.Validate());
        Assert.Contains("[1, 64]", many.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GenerationOptions { NumBeams = 2, LengthPenalty = double.NaN }.Validate());
    }

    [Fact]
    public void CacheRowSelectionCopiesRowsAndRefusesRowsOutsideTheBatch()
    {
        using var cache = new KvCache(1);
        using var scope = NewDisposeScope();
        var k = arange(2 * 1 * 3 * 2, dtype: ScalarType.Float32).view(2, 1, 3, 2);
        cache.Append(0, k, k + 100);
        cache.SelectRows([1, 1, 0]);
        Assert.Equal(3L, cache.BatchSize);
        var (keys, values) = cache.Append(0, zeros(3, 1, 1, 2), zeros(3, 1, 1, 2));
        Assert.True(keys.narrow(2, 0, 3)[0].eq(k[1]).all().item<bool>());
        Assert.True(keys.narrow(2, 0, 3)[1].eq(k[1]).all().item<bool>());
        Assert.True(values.narrow(2, 0, 3)[2].eq(k[0] + 100).all().item<bool>());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => cache.SelectRows([3]));
        Assert.Contains("[0, 3)", e.Message);
    }
}
