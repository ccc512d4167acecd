using System.Diagnostics;
using Vgt.Models.InternVl;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Benchmarks;

/// <summary>
/// `internvl3-1b` / `internvl3-2b`: the real configuration with random weights; embed one 448×448 image (vision tower +
/// pixel shuffle + mlp1 → 256 tokens), prefill a chat prompt of realistic length, greedy-decode 32 tokens with the KV
/// cache. Times per stage, peak RSS, and the FLOP floor of each stage at the measured matmul rate.
/// </summary>
public static class InternVl3Bench
{
    public static int Run1B(string[] args) => Run(InternVlConfig.InternVl3_1B, "internvl3-1b", args);

    public static int Run2B(string[] args) => Run(InternVlConfig.InternVl3_2B, "internvl3-2b", args);

    /// <summary>A byte-level tokenizer with InternVL3's special-token ids (the real vocabulary is not needed for timing).</summary>
    static Qwen2Tokenizer SyntheticTokenizer()
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevel.ByteToChar[b].ToString(), b => b);
        var added = new List<AddedToken>
        {
            new(151643, Qwen2SpecialTokens.EndOfText, true), new(151644, Qwen2SpecialTokens.ImStart, true), new(151645, Qwen2SpecialTokens.ImEnd, true),
            new(151665, Qwen2SpecialTokens.ImgStart, true), new(151666, Qwen2SpecialTokens.ImgEnd, true), new(151667, Qwen2SpecialTokens.ImgContext, true),
            new(151673, "</box>", true),
        };
        return Qwen2Tokenizer.FromModel(new BpeModelData(vocab, [], added, Qwen2SpecialTokens.ImEnd, Qwen2SpecialTokens.EndOfText));
    }

    static int Run(InternVlConfig config, string name, string[] args)
    {
        int newTokens = args.Length > 0 ? int.Parse(args[0]) : 32;
        const int threads = 2;
        Vgt.Runtime.TorchRuntime.Initialise(threads);
        var (gflops, cpuGflops) = MatmulFloor.Measure(1024);
        double load = File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) : double.NaN;

        var clock = Stopwatch.StartNew();
        var cpu = Harness.CpuSeconds();
        using var chat = InternVlChatModel.CreateRandom(config, SyntheticTokenizer(), seed: 0);
        chat.Model.eval();
        double buildSeconds = clock.Elapsed.TotalSeconds, buildCpu = Harness.CpuSeconds() - cpu;
        double rssAfterBuild = Harness.PeakRssMiB();

        // A realistic prompt: system turn (~40 tokens in the real vocabulary), the image, a short question.
        var tok = chat.Tokenizer;
        var rng = new Random(1);
        int[] Text(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(256)).ToArray();
        int[] prompt = [tok.ImStart, .. Text(42), tok.ImEnd, .. Text(3), tok.ImStart, .. Text(2),
            tok.ImgStart, .. Enumerable.Repeat(tok.ImgContext, chat.TokensPerImage), tok.ImgEnd, .. Text(10), tok.ImEnd, .. Text(1), tok.ImStart, .. Text(2)];

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = rand(3, 448, 448, generator: new Generator(2)) * 2 - 1;     // [3,448,448] in [−1,1]

        clock.Restart(); cpu = Harness.CpuSeconds();
        var pixels = chat.PreprocessImage(image).unsqueeze(0);                    // [1,3,448,448]
        var features = chat.Model.ExtractFeature(pixels);                         // [1,256,D]
        double embedSeconds = clock.Elapsed.TotalSeconds, embedCpu = Harness.CpuSeconds() - cpu;

        var ids = tensor(prompt.Select(t => (long)t).ToArray()).unsqueeze(0);
        using var cache = chat.Model.LanguageModel.Model.NewCache();
        clock.Restart(); cpu = Harness.CpuSeconds();
        var embeds = chat.Model.EmbedWithImages(ids, features, chat.ImageContextId);
        var hidden = chat.Model.LanguageModel.Model.Forward(embeds, cache: cache);
        var logits = chat.Model.LanguageModel.Logits(hidden.select(1, hidden.shape[1] - 1));   // [1,V]
        double prefillSeconds = clock.Elapsed.TotalSeconds, prefillCpu = Harness.CpuSeconds() - cpu;

        clock.Restart(); cpu = Harness.CpuSeconds();
        var generated = new List<long>();
        for (int i = 0; i < newTokens; i++)
        {
            using var step = NewDisposeScope();
            long next = TokenChooser.Choose(logits, 0, 1, null)[0];
            generated.Add(next);
            if (i == newTokens - 1) break;
            var e = chat.Model.LanguageModel.Model.Embed(tensor(new[] { next }).view(1, 1));
            var h = chat.Model.LanguageModel.Model.Forward(e, cache: cache);
            logits = chat.Model.LanguageModel.Logits(h.select(1, 0)).MoveToOuterDisposeScope();
        }
        double decodeSeconds = clock.Elapsed.TotalSeconds, decodeCpu = Harness.CpuSeconds() - cpu;

        // End to end through the public API (same work: image, prefill, 32 greedy tokens).
        clock.Restart(); cpu = Harness.CpuSeconds();
        var api = chat.GenerateIds([prompt], pixels, new GenerationOptions { MaxNewTokens = newTokens, StopTokenIds = [] });
        double endToEnd = clock.Elapsed.TotalSeconds, endToEndCpu = Harness.CpuSeconds() - cpu;
        bool same = api[0].Tokens.Select(t => (long)t).SequenceEqual(generated);
        double peak = Harness.PeakRssMiB();

        // FLOP floors (2 FLOPs per multiply-add; attention scores + values; the lm_head of the last position only).
        var v = config.Vision;
        var l = config.Llm;
        long vt = (long)(448 / v.PatchSize) * (448 / v.PatchSize) + 1;
        double visionFlops = 2.0 * (v.ParameterCount() - (vt * v.HiddenSize)) * vt + 4.0 * v.NumHiddenLayers * vt * vt * v.HiddenSize
            + 2.0 * config.ProjectorParameterCount() * chat.TokensPerImage;
        long llmBody = l.ParameterCount() - (long)l.VocabSize * l.HiddenSize * (l.TieWordEmbeddings ? 1 : 2);
        int t = prompt.Length;
        long attnWidth = (long)l.NumAttentionHeads * l.ResolvedHeadDim;
        double prefillFlops = 2.0 * llmBody * t + 4.0 * l.NumHiddenLayers * (double)t * t * attnWidth + 2.0 * l.HiddenSize * l.VocabSize;
        double decodeFlops = newTokens * (2.0 * llmBody + 2.0 * l.HiddenSize * l.VocabSize) + 4.0 * l.NumHiddenLayers * attnWidth * newTokens * (t + newTokens / 2.0);
        double weightsGiB = (config.ParameterCount() * 4.0) / (1L << 30);

        string Row(string stage, double seconds, double cpuSeconds, double flops) =>
            $"| {stage} | {Harness.F(seconds, "0.00")} s | {Harness.F(cpuSeconds, "0.00")} s | {Harness.F(flops / 1e9, "0.0")} GFLOP | {Harness.F(flops / 1e9 / gflops, "0.00")} s | {Harness.F(seconds / (flops / 1e9 / gflops), "0.0")}× | {Harness.F(flops / 1e9 / cpuGflops, "0.00")} s | {Harness.F(cpuSeconds / (flops / 1e9 / cpuGflops), "0.0")}× |";
        Console.WriteLine($"### {name}: random weights, one 448×448 image, {t}-token prompt, {newTokens} greedy tokens (fp32)");
        Console.WriteLine();
        Console.WriteLine("| stage | wall | CPU (user+sys) | work | floor at the matmul rate | wall / floor | CPU floor | CPU / CPU floor |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        Console.WriteLine($"| build (random init, {config.ParameterCount() / 1e6:0} M parameters, {Harness.F(weightsGiB, "0.00")} GiB fp32) | {Harness.F(buildSeconds, "0.0")} s | {Harness.F(buildCpu, "0.0")} s | | | | | |");
        Console.WriteLine(Row("embed image (InternViT-300M, 1025 tokens → shuffle → mlp1 → 256)", embedSeconds, embedCpu, visionFlops));
        Console.WriteLine(Row($"prefill ({t} tokens)", prefillSeconds, prefillCpu, prefillFlops));
        Console.WriteLine(Row($"decode {newTokens} tokens with the KV cache ({Harness.F(decodeSeconds / newTokens * 1000, "0")} ms/token)", decodeSeconds, decodeCpu, decodeFlops));
        Console.WriteLine($"| end to end via GenerateIds (same tokens: {same}) | {Harness.F(endToEnd, "0.00")} s | {Harness.F(endToEndCpu, "0.00")} s | | | | | |");
        Console.WriteLine();
        Console.WriteLine($"Peak RSS {Harness.F(peak, "0")} MiB (after building: {Harness.F(rssAfterBuild, "0")} MiB). Matmul floor (1024³ fp32, measured at start): {Harness.F(gflops, "0.0")} GFLOP/s wall, {Harness.F(cpuGflops, "0.0")} GFLOP per CPU second; 1-min load average at start {Harness.F(load, "0.0")}, at end {Harness.F(Harness.LoadAverage(), "0.0")}.");
        Console.WriteLine($"{Harness.Machine()}; command: dotnet run --project bench/Vgt.Benchmarks -c Release -- {name}");
        return same ? 0 : 1;
    }
}
