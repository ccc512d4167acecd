using System.Diagnostics;
using Vgt.Models.DcAe;
using Vgt.Models.QueryAr;
using Vgt.Models.VgtAe;
using Vgt.Pipelines;
using Vgt.Runtime;
using Vgt.Sampling;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Benchmarks;

/// <summary>
/// `vgt-internvl3 [--threads 2] [--parallel 16] [--steps 30] [--cfg 4.5]`: the real-size VGT-InternVL3 "0.6B" generator
/// (<see cref="QueryArConfig.InternVl3_0_6B"/>: Qwen2.5-0.5B LLM of InternVL3-1B, metaquery 64×64, flow head 1536 × 12) with
/// random weights and the real DC-AE f32c32 sana-1.1 decoder (random weights) generates one 448×448 image through
/// <see cref="TextToImagePipeline"/> (CFG on: cond and uncond rows batched; reference sampler settings: Euler–Maruyama,
/// linear CFG schedule, last step 0.04). Tokenizer: the tiny Shapes World BPE of models/shapes-vlm (the real Qwen2
/// vocabulary is not in the repository); the LLM keeps its real 151,674-row embedding.
/// Per stage: wall and process CPU time (user + sys), FLOPs of the work done and the fp32 matmul floor; peak RSS.
/// </summary>
public static class VgtRealBench
{
    const string Prompt = "a red circle to the left of a blue square";

    public static int Run(string[] args)
    {
        int threads = Int(args, "--threads", 2), parallel = Int(args, "--parallel", 16), steps = Int(args, "--steps", 30);
        double cfgScale = double.Parse(Str(args, "--cfg") ?? "4.5", System.Globalization.CultureInfo.InvariantCulture);
        TorchRuntime.Initialise(threads);
        double loadStart = Harness.LoadAverage();
        var (gflops, cpuGflops) = MatmulFloor.Measure(1024);
        Console.WriteLine($"load average at start: {Harness.F(loadStart, "0.0")}; torch threads {get_num_threads()}; fp32 matmul 1024³: {Harness.F(gflops, "0.0")} GFLOP/s wall, {Harness.F(cpuGflops, "0.0")} GFLOP per CPU second");

        // ---- build: tokenizer, QueryAR model (random init as in training from scratch), DC-AE decoder (default init)
        var config = QueryArConfig.InternVl3_0_6B;
        var clock = Stopwatch.StartNew();
        double cpu = Harness.CpuSeconds();
        var tokenizer = Qwen2Tokenizer.Load(Path.Combine(FindRepo(), "models", "shapes-vlm"));
        using var model = new QueryArModel(config, new VgtSeed(0).TorchGenerator("vgt-real-bench"));
        model.eval();
        using var decoder = new DcAeDecoder(DcAeConfig.Sana11F32C32);
        decoder.eval();
        double buildWall = clock.Elapsed.TotalSeconds, buildCpu = Harness.CpuSeconds() - cpu;
        long modelParams = model.parameters().Sum(p => p.numel()), headParams = model.Head.parameters().Sum(p => p.numel());
        long decoderParams = decoder.parameters().Sum(p => p.numel());
        double rssBuild = Harness.PeakRssMiB();
        Console.WriteLine($"built in {Harness.F(buildWall, "0.0")} s wall, {Harness.F(buildCpu, "0.0")} s CPU: QueryAR {modelParams:N0} parameters (head {headParams:N0}), DC-AE decoder {decoderParams:N0}; peak RSS {Harness.F(rssBuild, "0")} MiB");

        // ---- generate through the pipeline, with clocks on the noise draws (stage boundaries) and the decoder
        var latentDecoder = new ClockedDcAe(decoder, VgtAeConfig.InternVl3_1B.ScaleEmbedding);
        var pipeline = new TextToImagePipeline(model, tokenizer, latentDecoder);
        var noise = new ClockedNoise(new GeneratorNoise(new VgtSeed(1).TorchGenerator("noise")), steps);
        var request = new GenerationRequest
        {
            Prompts = [Prompt], Seed = 1, Size = (448, 448), ParallelK = parallel, Steps = steps, Cfg = cfgScale,
            CfgSchedule = "linear", Sampler = SamplerKind.EulerMaruyama, LastStepSize = 0.04, Noise = noise,
        };
        var batch = PromptBatch.Build(tokenizer, config.Prompts, request.Prompts, null, 1, true, config.MaxPromptTokens);
        clock.Restart();
        double cpu0 = Harness.CpuSeconds();
        noise.Clock = clock;
        using var result = pipeline.Generate(request);
        double totalWall = clock.Elapsed.TotalSeconds, totalCpu = Harness.CpuSeconds() - cpu0;
        double rssGenerate = Harness.PeakRssMiB();
        var tm = result.Timings;
        bool finite = result.Images.isfinite().all().item<bool>();

        // Stage split. Prefill = from the start to the first x₀ draw (prompt batching, query tokens and the first LLM call
        // [text, <img>, 16 queries]); head = the pipeline's head clock; its CPU share is measured from each group's x₀ draw to
        // its last SDE draw (steps − 1 of the steps head evaluations) and scaled by steps/(steps − 1).
        int groups = noise.Starts.Count;
        double prefillWall = noise.Starts[0].Wall - tm.Tokenize.TotalSeconds, prefillCpu = noise.Starts[0].Cpu - cpu0;
        double headCpu = Enumerable.Range(0, groups).Sum(k => noise.Lasts[k].Cpu - noise.Starts[k].Cpu) * steps / (steps - 1.0);
        double headWallCheck = Enumerable.Range(0, groups).Sum(k => noise.Lasts[k].Wall - noise.Starts[k].Wall) * steps / (steps - 1.0);
        double arWall = tm.Llm.TotalSeconds - prefillWall;
        double loopCpu = totalCpu - prefillCpu - latentDecoder.Cpu;          // AR LLM steps + head (+ negligible glue)
        double arCpu = loopCpu - headCpu;

        // ---- FLOPs (2 per multiply-add), rows R = 2 (cond, uncond)
        var l = config.Llm;
        const int rows = 2;
        int imgStart = pipeline.ImageStartIds.Count, tokens = 16 * 16;
        long hd = l.ResolvedHeadDim, q = l.NumAttentionHeads * hd, kv = l.NumKeyValueHeads * hd;
        double linearMacs = (double)l.HiddenSize * q * 2 + 2.0 * l.HiddenSize * kv + 3.0 * l.HiddenSize * l.IntermediateSize;   // per token per layer
        double ctx = 0;
        double Feed(int n)
        {
            double f = 0;
            for (int i = 0; i < n; i++) { ctx++; f += l.NumHiddenLayers * (2 * linearMacs + 4 * ctx * q); }
            return f;
        }
        var sizes = GenerationSchedule.GroupSizes(tokens, parallel);
        double outProj = 2.0 * l.HiddenSize * l.HiddenSize, inProj = 2.0 * config.TokenDim * l.HiddenSize;
        double prefillFlops = rows * (Feed(batch.Length + imgStart + sizes[0]) + sizes[0] * outProj);
        int arTokens = 0;
        double arFlops = 0;
        for (int k = 1; k < sizes.Length; k++)
        {
            arTokens += 2 * sizes[k - 1] - 1 + sizes[k];
            arFlops += rows * (Feed(2 * sizes[k - 1] - 1 + sizes[k]) + sizes[k] * outProj + sizes[k - 1] * inProj);
        }
        double headFlops = 2.0 * headParams * tokens * steps * rows;
        const double decodeFlops = 2.0 * 1046e9;                              // backbones.md §6.2: 1,046 GMACs for 16×16 → 512²
        double Floor(double flops) => flops / (gflops * 1e9);
        double CpuFloor(double flops) => flops / (cpuGflops * 1e9);

        string Row(string stage, double wall, double cpuS, double flops) =>
            $"| {stage} | {Harness.F(wall, "0.00")} s | {Harness.F(cpuS, "0.00")} s | {Harness.F(flops / 1e9, "0.0")} | {Harness.F(Floor(flops), "0.00")} s | {Harness.F(wall / Floor(flops), "0.0")}× | {Harness.F(CpuFloor(flops), "0.00")} s | {Harness.F(cpuS / CpuFloor(flops), "0.0")}× |";
        double allFlops = prefillFlops + arFlops + headFlops + decodeFlops;
        Console.WriteLine();
        Console.WriteLine($"### vgt-internvl3: random weights, one {request.Size.Width}×{request.Size.Height} image, parallel {parallel} ({sizes.Length} groups), cfg {cfgScale} linear (2 rows), {steps} Euler–Maruyama steps (fp32, {threads} threads)");
        Console.WriteLine();
        Console.WriteLine("| stage | wall | CPU (user+sys) | GFLOP | floor at the matmul rate | wall / floor | CPU floor | CPU / CPU floor |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        Console.WriteLine($"| build/alloc (random init: QueryAR {modelParams / 1e6:0.0} M + DC-AE decoder {decoderParams / 1e6:0.0} M parameters, {Harness.F((modelParams + decoderParams) * 4.0 / (1L << 30), "0.00")} GiB fp32) | {Harness.F(buildWall, "0.0")} s | {Harness.F(buildCpu, "0.0")} s | | | | | |");
        Console.WriteLine(Row($"prompt prefill (2 × {batch.Length + imgStart + sizes[0]} tokens: prompt {batch.Length} padded + <img> {imgStart} + {sizes[0]} queries)", prefillWall, prefillCpu, prefillFlops));
        Console.WriteLine(Row($"AR LLM steps ({sizes.Length - 1} calls, 2 × {arTokens} tokens)", arWall, arCpu, arFlops));
        Console.WriteLine(Row($"flow head sampling ({tokens} tokens × {steps} evaluations × 2 rows, {headParams / 1e6:0.0} M parameters)", tm.Head.TotalSeconds, headCpu, headFlops));
        Console.WriteLine(Row("DC-AE decode 16×16 → 512² → 448²", tm.Decode.TotalSeconds, latentDecoder.Cpu, decodeFlops));
        Console.WriteLine(Row("total generate (pipeline)", totalWall, totalCpu, allFlops));
        Console.WriteLine();
        Console.WriteLine($"Matmul floor (1024³ fp32, measured at start): {Harness.F(gflops, "0.0")} GFLOP/s wall, {Harness.F(cpuGflops, "0.0")} GFLOP per CPU second.");
        Console.WriteLine($"Pipeline clocks: tokenize {Harness.F(tm.Tokenize.TotalMilliseconds, "0.0")} ms, LLM {Harness.F(tm.Llm.TotalSeconds, "0.00")} s, head {Harness.F(tm.Head.TotalSeconds, "0.00")} s (noise-draw estimate {Harness.F(headWallCheck, "0.00")} s), decode {Harness.F(tm.Decode.TotalSeconds, "0.00")} s, total {Harness.F(tm.Total.TotalSeconds, "0.00")} s.");
        Console.WriteLine($"Image [{string.Join(", ", result.Images.shape)}], all finite: {finite}. Peak RSS after building {Harness.F(rssBuild, "0")} MiB, after generating {Harness.F(rssGenerate, "0")} MiB.");
        Console.WriteLine($"Load average: {Harness.F(loadStart, "0.0")} at start, {Harness.F(Harness.LoadAverage(), "0.0")} at end. {Harness.Machine()}");
        Console.WriteLine($"command: dotnet run --project bench/Vgt.Benchmarks -c Release -- vgt-internvl3 --threads {threads}{(parallel != 16 ? $" --parallel {parallel}" : "")}{(steps != 30 ? $" --steps {steps}" : "")}");
        return finite ? 0 : 1;
    }

    /// <summary>The DC-AE decoder as VGT-AE decodes (z / scale_embedding → 512² → bilinear to 28·h), with wall and CPU clocks.</summary>
    sealed class ClockedDcAe(DcAeDecoder decoder, double scaleEmbedding) : ILatentDecoder
    {
        public int Stride => DecodedImageResize.VgtStride;
        public int LatentChannels => 32;
        public double Cpu { get; private set; }

        public Tensor Decode(Tensor z)                                        // [N, 32, h, w] → [N, 3, 28h, 28w]
        {
            double c0 = Harness.CpuSeconds();
            using var scope = NewDisposeScope();
            var x = decoder.forward(z / scaleEmbedding);                      // [N, 3, 32h, 32w]
            var y = DecodedImageResize.ToStride(x, z.shape[2], z.shape[3]).MoveToOuterDisposeScope();
            Cpu += Harness.CpuSeconds() - c0;
            return y;
        }
    }

    /// <summary>Noise source that stamps (wall, CPU) at each group's first draw (x₀) and last SDE draw.</summary>
    sealed class ClockedNoise(INoiseSource inner, int steps) : INoiseSource
    {
        int draws;
        public Stopwatch Clock { get; set; } = Stopwatch.StartNew();
        public List<(double Wall, double Cpu)> Starts { get; } = [];
        public List<(double Wall, double Cpu)> Lasts { get; } = [];

        public Tensor Next(long[] shape)
        {
            int at = draws++ % steps;
            if (at == 0) Starts.Add((Clock.Elapsed.TotalSeconds, Harness.CpuSeconds()));
            else if (at == steps - 1) Lasts.Add((Clock.Elapsed.TotalSeconds, Harness.CpuSeconds()));
            return inner.Next(shape);
        }
    }

    static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VGT.NET.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("run from inside the repository (models/shapes-vlm's tokenizer is needed)");
    }

    static int Int(string[] a, string n, int d) { int i = Array.IndexOf(a, n); return i >= 0 && i + 1 < a.Length && int.TryParse(a[i + 1], out var v) ? v : d; }
    static string? Str(string[] a, string n) { int i = Array.IndexOf(a, n); return i >= 0 && i + 1 < a.Length ? a[i + 1] : null; }
}
