using System.Globalization;
using Vgt.Config;
using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Sampling;
using Vgt.Tokenization;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Benchmarks;

/// <summary>
/// `vgt-generate [--model DIR] [--threads N] [--runs N]`: one 64 px image (batch 1, the model's cfg and steps) at parallel 1
/// and 16, median wall time per stage, against the FLOPs of the work done (LLM tokens fed, head evaluations, decode) and
/// the fp32 matmul floor. Without --model: a random model of configs/shapes-vgt.json's shape with a random patch-linear
/// AE (stride 8, 32 channels) and the tiny test tokenizer — same shapes, labelled as such.
/// </summary>
public static class VgtGenerateBench
{
    public static int Run(string[] args)
    {
        int threads = Int(args, "--threads", 2), runs = Int(args, "--runs", 5);
        Vgt.Runtime.TorchRuntime.Initialise(threads);
        string? modelDir = Str(args, "--model");
        string label = modelDir ?? "random model of configs/shapes-vgt.json's shape (patch-linear AE, tiny tokenizer)";
        string? temp = null;
        if (modelDir is null) modelDir = temp = MakeRandomGenerator();
        try
        {
            using var g = VgtGenerator.Load(modelDir);
            var cfg = g.Config.QueryAr;
            double floor256 = MatmulFloor.MeasureGflops(256), floor1024 = MatmulFloor.MeasureGflops(1024);
            Console.WriteLine($"model: {label}");
            if (File.Exists("/proc/loadavg")) Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} (other processes share the cores)");
            Console.WriteLine($"fp32 matmul floor: {Harness.F(floor256, "0.0")} GFLOP/s (256³), {Harness.F(floor1024, "0.0")} GFLOP/s (1024³)\n");
            Console.WriteLine("| parallel K | steps | cfg | total s | plan s | LLM s | head s | decode s | plan + LLM GFLOP | head GFLOP | decode GFLOP | floor s (256³ rate) | total / floor |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (int k in new[] { 1, 16 })
            {
                var request = g.Request(["a photo of a red circle left of a blue square"]) with { ParallelK = k, Seed = 1 };
                GenerationTimings? last = null;
                var llm = new List<double>(); var head = new List<double>(); var dec = new List<double>(); var plan = new List<double>();
                int planTokens = 0;
                var t = Harness.Measure(() =>
                {
                    using var r = g.Generate(request);
                    last = r.Timings;
                    llm.Add(r.Timings.Llm.TotalSeconds); head.Add(r.Timings.Head.TotalSeconds); dec.Add(r.Timings.Decode.TotalSeconds);
                    plan.Add(r.Timings.Plan.TotalSeconds);
                    planTokens = r.Plans is { } p ? g.Tokenizer.Encode(p[0]).Length : 0;
                }, warmup: 1, runs: runs);
                int promptTokens = g.Tokenizer.Encode(cfg.Prompts.Conditional(request.Prompts[0])).Length;
                var f = Flops(g, promptTokens, planTokens, k, request.Steps, request.Cfg != 1.0);
                // A DC-AE decoder's FLOPs are not counted here: its floor then covers LLM + head, and the ratio compares
                // total − decode time against it (decode is measured and shown on its own).
                bool decodeCounted = double.IsFinite(f.Decode);
                double floor = (f.Llm + f.Head + (decodeCounted ? f.Decode : 0)) / (floor256 * 1e9);
                double timed = decodeCounted ? t.MedianSeconds : t.MedianSeconds - Median(dec);
                string decodeFlops = decodeCounted ? (f.Decode / 1e9).ToString("0.0000", CultureInfo.InvariantCulture) : "not counted";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {k} | {request.Steps} | {request.Cfg} | {t.MedianSeconds:0.000} | {Median(plan):0.000} | {Median(llm):0.000} | {Median(head):0.000} | {Median(dec):0.000} | {f.Llm / 1e9:0.000} | {f.Head / 1e9:0.000} | {decodeFlops} | {floor:0.0000} | {timed / floor:0.0}×{(decodeCounted ? "" : " (LLM + head)")} |"));
            }
            Console.WriteLine($"\n{Harness.Machine()}; median of {runs} runs after 1 warm-up; command: dotnet run --project bench/Vgt.Benchmarks -c Release -- vgt-generate{(temp is null ? $" --model {modelDir}" : "")} --threads {threads}");
            return 0;
        }
        finally
        {
            if (temp is not null) Directory.Delete(temp, true);
        }
    }

    /// <summary>
    /// Matmul FLOPs of one generation (rows = 2 with guidance): LLM linear layers 2·P per token fed plus attention 4·ctx·H·d
    /// per token per layer (prefill, then per group of k: k bare queries and 2k − 1 re-fed pair tokens); the head 2·P_head per
    /// token per step; the decoder as the AE reports it (patch-linear: 2·C·3s² per cell). A layout plan of
    /// <paramref name="planTokens"/> tokens adds its own decoding (one row: the prompt, then one token at a time, each with
    /// the tied-embedding logits 2·V·D, the last one predicting the image start) and lengthens the conditional prefill.
    /// </summary>
    public static (double Llm, double Head, double Decode) Flops(VgtGenerator g, int promptTokens, int planTokens, int k, int steps, bool guidance)
    {
        var c = g.Config.QueryAr;
        var l = c.Llm;
        int rows = guidance ? 2 : 1;
        long hd = l.ResolvedHeadDim, q = l.NumAttentionHeads * hd, kv = l.NumKeyValueHeads * hd;
        double linear = (double)l.HiddenSize * q * 2 + 2.0 * l.HiddenSize * kv + 3.0 * l.HiddenSize * l.IntermediateSize;
        int tokens = (g.Config.Defaults.Size / g.PixelStride) * (g.Config.Defaults.Size / g.PixelStride);
        double llm = 0, ctx = 0;
        void Feed(int n) { for (int i = 0; i < n; i++) { ctx++; llm += l.NumHiddenLayers * (2 * linear + 4 * ctx * q); } }
        double plan = 0;
        if (c.Plan is not null)
        {
            Feed(promptTokens + planTokens);                                                  // the plan's own decode, one row
            plan = llm + (planTokens + 1) * 2.0 * l.VocabSize * l.HiddenSize;
            (llm, ctx) = (0, 0);
        }
        Feed(promptTokens + planTokens + g.Tokenizer.Encode(c.Prompts.ImageStart).Length);   // the uncond row's shorter prompt counted as long
        var sizes = GenerationSchedule.GroupSizes(tokens, k);
        for (int i = 0; i < sizes.Length; i++)
        {
            if (i > 0) Feed(2 * sizes[i - 1] - 1);
            Feed(sizes[i]);
        }
        llm *= rows;
        llm += rows * tokens * 2.0 * l.HiddenSize * l.HiddenSize + plan;                      // image_out_projector; the plan
        long headParams = g.Model.Head.parameters().Sum(p => p.numel());
        double head = 2.0 * headParams * tokens * steps * rows;
        double decode = g.Autoencoder is PatchLinearAutoencoder pl ? 2.0 * pl.LatentChannels * 3 * pl.Stride * pl.Stride * tokens : double.NaN;
        return (llm, head, decode);
    }

    static string MakeRandomGenerator()
    {
        var root = FindRepo();
        var train = ConfigJson.Load<QueryArTrainConfig>(Path.Combine(root, "configs", "shapes-vgt.json"));
        var dir = Directory.CreateTempSubdirectory("vgt-bench-").FullName;
        var aeDir = Path.Combine(dir, "ae-src");
        using (var ae = new PatchLinearAutoencoder(new PatchLinearAeConfig { Stride = 8, LatentChannels = train.Model.LatentChannels }, new Generator(3)))
            ae.Save(aeDir);
        var tok = Qwen2Tokenizer.Load(Path.Combine(root, "tests", "Vgt.Tests", "Fixtures", "tokenization", "tiny"));
        using var model = new QueryArModel(train.Model, new Generator(1));
        var config = new VgtGeneratorConfig { Name = "random-shapes-vgt-shape", QueryAr = train.Model, Defaults = train.Generation };
        VgtGenerator.Save(Path.Combine(dir, "g"), config, model, tok, aeDir);
        return Path.Combine(dir, "g");
    }

    static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VGT.NET.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("run from inside the repository (configs/shapes-vgt.json is needed)");
    }

    static double Median(List<double> v) { var s = v.Skip(1).Order().ToList(); return s.Count == 0 ? double.NaN : s[s.Count / 2]; }
    static int Int(string[] a, string n, int d) { int i = Array.IndexOf(a, n); return i >= 0 && i + 1 < a.Length && int.TryParse(a[i + 1], out var v) ? v : d; }
    static string? Str(string[] a, string n) { int i = Array.IndexOf(a, n); return i >= 0 && i + 1 < a.Length ? a[i + 1] : null; }
}
