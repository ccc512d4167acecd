using Vgt.Models.InternVl;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Tests.Vlm;

public class ChatGenerationTests
{
    static readonly string[] Questions = ["how many circles are there?", "is the circle above the square?", "describe the image."];

    [Fact]
    public void ImageTokensSitBetweenImgAndEndImgAndReplaceTheContextEmbeddings()
    {
        using var chat = VlmTestKit.Model();
        var tok = chat.Tokenizer;
        var ids = chat.EncodePrompt(new ChatRequest("what shape is the red object?", [VlmTestKit.Image(1)]));
        int start = Array.IndexOf(ids, tok.ImgStart);
        Assert.Equal(tok.ImStart, ids[0]);
        Assert.Equal(3, start);                                                   // <|im_start|> user \n <img>
        for (int i = 1; i <= 4; i++) Assert.Equal(tok.ImgContext, ids[start + i]);
        Assert.Equal(tok.ImgEnd, ids[start + 5]);
        Assert.Equal(4, ids.Count(t => t == tok.ImgContext));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = chat.PreprocessImage(VlmTestKit.Image(1)).unsqueeze(0);
        var features = chat.Model.ExtractFeature(pixels);                                     // [1,4,D]
        var idT = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var merged = chat.Model.EmbedWithImages(idT, features, tok.ImgContext);             // [1,T,D]
        var plain = chat.Model.LanguageModel.Model.Embed(idT);
        for (int i = 0; i < ids.Length; i++)
        {
            var expected = i > start && i <= start + 4 ? features[0, i - start - 1] : plain[0, i];
            Assert.True(merged[0, i].eq(expected).all().item<bool>(), $"position {i}");
        }
    }

    static ChatRequest[] Requests() =>
    [
        new(Questions[0], [VlmTestKit.Image(1)]),
        new(Questions[1], [VlmTestKit.Image(2, size: 24)]),   // resized to 16
        new(Questions[2], [VlmTestKit.Image(3)]),
    ];

    [Fact]
    public void BatchedGreedyEqualsOneByOne()
    {
        using var chat = VlmTestKit.Model();
        var options = new GenerationOptions { MaxNewTokens = 12, StopTokenIds = [] };
        var batched = chat.Generate(Requests(), options);
        var single = Requests().Select(r => chat.Generate([r], options)[0]).ToList();
        Assert.Equal(3, batched.Count);
        Assert.True(batched[0].PromptTokens != batched[1].PromptTokens, "prompts of different lengths exercise the left padding");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(12, batched[i].TokenIds.Length);
            Assert.Equal(single[i].TokenIds, batched[i].TokenIds);
            Assert.Equal(GenerationStop.Length, batched[i].Stop);
        }
        Assert.NotEqual(batched[0].TokenIds, batched[2].TokenIds);
    }

    [Fact]
    public void KvCacheDecodingEqualsFullRecompute()
    {
        using var chat = VlmTestKit.Model(seed: 11);
        var cached = chat.Generate(Requests(), new GenerationOptions { MaxNewTokens = 10, StopTokenIds = [] });
        var full = chat.Generate(Requests(), new GenerationOptions { MaxNewTokens = 10, StopTokenIds = [], UseKvCache = false });
        for (int i = 0; i < 3; i++) Assert.Equal(full[i].TokenIds, cached[i].TokenIds);

        // and the logits agree, not only the argmax: one cached step against a full pass over the same tokens
        var prompt = chat.EncodePrompt(Requests()[0]);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = chat.PreprocessImage(VlmTestKit.Image(1)).unsqueeze(0);
        long next = cached[0].TokenIds[0];
        var all = tensor(prompt.Select(t => (long)t).Append(next).ToArray()).unsqueeze(0);
        var fullLogits = chat.Model.Forward(all, pixels, chat.ImageContextId);                          // [1,T+1,V]
        using var cache = chat.Model.LanguageModel.Model.NewCache();
        chat.Model.Forward(all.narrow(1, 0, prompt.Length), pixels, chat.ImageContextId, cache: cache);
        var step = chat.Model.LanguageModel.Forward(chat.Model.LanguageModel.Model.Embed(all.narrow(1, prompt.Length, 1)), cache: cache);
        var a = step[0, 0];
        var b = fullLogits[0, prompt.Length];
        Assert.True((a - b).abs().max().item<float>() <= 1e-4f * b.abs().max().item<float>());
    }

    [Fact]
    public void GenerationStopsOnTheStopTokenAndDropsIt()
    {
        using var chat = VlmTestKit.Model(seed: 5);
        Assert.Contains(chat.Tokenizer.ImEnd, chat.DefaultStopIds);
        var request = Requests()[2];
        var free = chat.Generate([request], new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [] })[0].TokenIds;
        int cut = Enumerable.Range(1, free.Length - 1).First(i => !free[..i].Contains(free[i]));   // first token not seen before it
        var stopped = chat.Generate([request], new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [free[cut]] })[0];
        Assert.Equal(free[..cut], stopped.TokenIds);
        Assert.Equal(GenerationStop.StopToken, stopped.Stop);
        Assert.Equal(chat.Tokenizer.Decode(free[..cut], skipSpecialTokens: true), stopped.Text);
    }

    [Fact]
    public void TopPSamplingIsReproducibleWithItsSeedAndTinyTopPIsGreedy()
    {
        using var chat = VlmTestKit.Model(seed: 3);
        GenerationOptions Sampling(long seed, double topP = 0.9) => new() { MaxNewTokens = 10, StopTokenIds = [], Temperature = 3.0, TopP = topP, Seed = seed };
        var a = chat.Generate(Requests(), Sampling(42));
        var b = chat.Generate(Requests(), Sampling(42));
        for (int i = 0; i < 3; i++) Assert.Equal(a[i].TokenIds, b[i].TokenIds);
        var others = Enumerable.Range(0, 4).Select(s => chat.Generate(Requests(), Sampling(100 + s))[0].TokenIds).ToList();
        Assert.Contains(others, o => !o.SequenceEqual(a[0].TokenIds));
        var greedy = chat.Generate(Requests(), new GenerationOptions { MaxNewTokens = 10, StopTokenIds = [] });
        var nucleus = chat.Generate(Requests(), Sampling(7, topP: 1e-9));
        for (int i = 0; i < 3; i++) Assert.Equal(greedy[i].TokenIds, nucleus[i].TokenIds);
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingTheMass()
    {
        var logits = log(tensor(new float[] { 0.5f, 0.3f, 0.15f, 0.05f })).unsqueeze(0).expand(2000, 4).contiguous();
        var drawn = TokenChooser.Choose(logits, 1.0, 0.7, new Generator(9));   // keeps 0.5 + 0.3 (0.5 < 0.7 ≤ 0.8)
        Assert.All(drawn, t => Assert.True(t is 0 or 1));
        double share0 = drawn.Count(t => t == 0) / 2000.0;
        Assert.InRange(share0, 0.5 / 0.8 - 0.05, 0.5 / 0.8 + 0.05);
        Assert.Equal([0L, 0L], TokenChooser.Choose(logits.narrow(0, 0, 2), 0, 1, null));
    }

    [Fact]
    public void PromptsLongerThanTheContextAreRefusedNamingTheLimit()
    {
        using var chat = VlmTestKit.Model(maxPositions: 40);
        var e = Assert.Throws<ArgumentException>(() => chat.Generate([new ChatRequest(string.Join(' ', Enumerable.Repeat("describe the image.", 20)), [VlmTestKit.Image(1)])]));
        Assert.Contains("context is 40 tokens", e.Message);
        Assert.Contains("max_position_embeddings", e.Message);
        // a prompt that fits leaves the rest of the context to the answer, never more
        var r = chat.Generate([new ChatRequest("describe the image.", [VlmTestKit.Image(1)])], new GenerationOptions { MaxNewTokens = 500, StopTokenIds = [] })[0];
        Assert.Equal(40, r.PromptTokens + r.TokenIds.Length);
        Assert.Equal(GenerationStop.Length, r.Stop);
    }

    [Fact]
    public void ImagesOfTheWrongShapeAreRefusedAndOtherSizesResized()
    {
        using var chat = VlmTestKit.Model();
        var e = Assert.Throws<ArgumentException>(() => chat.PreprocessImage(zeros(1, 16, 16)));
        Assert.Contains("[3,H,W]", e.Message);
        Assert.Contains("[1,16,16]", e.Message);
        Assert.Throws<ArgumentException>(() => chat.PreprocessImage(zeros(new long[] { 3, 16, 16 }, ScalarType.Int64)));
        Assert.Equal([3L, 16, 16], chat.PreprocessImage(VlmTestKit.Image(1, size: 40)).shape);
        var e2 = Assert.Throws<ArgumentException>(() => chat.Generate([new ChatRequest("<image> <image>", [VlmTestKit.Image(1)])]));
        Assert.Contains("placeholder", e2.Message);
    }
}
