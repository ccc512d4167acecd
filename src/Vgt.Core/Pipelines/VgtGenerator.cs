using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Evaluation;
using Vgt.Logging;
using Vgt.Models.QueryAr;
using Vgt.Sampling;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>Generation defaults stored with a generator (what `vgt generate` uses when an option is not given).</summary>
public sealed record GeneratorDefaults : IValidatable
{
    public double Cfg { get; init; } = 3.0;
    public string CfgSchedule { get; init; } = "linear";
    public int Steps { get; init; } = 20;
    public SamplerKind Sampler { get; init; } = SamplerKind.EulerMaruyama;
    /// <summary>Square image side in pixels.</summary>
    public int Size { get; init; } = 64;
    public int Parallel { get; init; } = 1;
    public GenerationOrderKind Order { get; init; } = GenerationOrderKind.Random;
    /// <summary>Group sizes when parallel &gt; 1 (uniform = the reference's).</summary>
    public GroupSizeSchedule GroupSchedule { get; init; } = GroupSizeSchedule.Uniform;
    /// <summary>Head sampling temperature (1 = the reference sampler).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Flow times that get CFG (default: all, the reference).</summary>
    public GuidanceInterval GuidanceInterval { get; init; } = GuidanceInterval.Full;
    /// <summary>CFG scale on token-code logits (models with token_codes); null = the flow's scale.</summary>
    public double? CodeCfg { get; init; }
    /// <summary>
    /// Torch threads for `vgt generate` (0 = torch's default). Small models issue many tiny ops, where extra threads
    /// mostly add synchronisation: 1 was 18× faster than 2 for the shapes-vgt shape on a busy 2-core machine.
    /// </summary>
    public int Threads { get; init; }

    public void Validate()
    {
        ConfigValidationException.Require(Threads >= 0, "defaults.threads", $"must be ≥ 0, got {Threads}");
        ConfigValidationException.Require(double.IsFinite(Cfg), "defaults.cfg", $"must be finite, got {Cfg}");
        ConfigValidationException.Require(CodeCfg is null || double.IsFinite(CodeCfg.Value), "defaults.code_cfg", $"must be finite, got {CodeCfg}");
        _ = Sampling.CfgSchedule.Create(CfgSchedule, Cfg);
        ConfigValidationException.Require(Steps >= 2, "defaults.steps", $"must be ≥ 2, got {Steps}");
        ConfigValidationException.Require(Size >= 1, "defaults.size", $"must be ≥ 1, got {Size}");
        ConfigValidationException.Require(Parallel >= 1, "defaults.parallel", $"must be ≥ 1, got {Parallel}");
        ConfigValidationException.Require(Temperature > 0 && Temperature <= SamplerTemperature.Max, "defaults.temperature", $"must be in (0, {SamplerTemperature.Max}], got {Temperature}");
        ConfigValidationException.Require(GuidanceInterval.IsValid, "defaults.guidance_interval", $"must satisfy {Sampling.GuidanceInterval.Rule}, got [{GuidanceInterval}]");
    }
}

/// <summary>config.json of a generator directory.</summary>
public sealed record VgtGeneratorConfig : IValidatable
{
    public const string FormatName = "vgt-generator-v1";

    public string Format { get; init; } = FormatName;

    /// <summary>Model id written into PNGs, e.g. shapes-vgt.</summary>
    public required string Name { get; init; }

    public required QueryArConfig QueryAr { get; init; }

    /// <summary>The AE folder, relative to the generator directory (self-contained: "ae").</summary>
    public string Ae { get; init; } = "ae";

    public GeneratorDefaults Defaults { get; init; } = new();

    /// <summary>Free-form provenance (training config, steps, data).</summary>
    public IReadOnlyDictionary<string, string> Provenance { get; init; } = new Dictionary<string, string>();

    public void Validate()
    {
        ConfigValidationException.Require(Format == FormatName, "format", $"must be \"{FormatName}\", got \"{Format}\"");
        ConfigValidationException.Require(!string.IsNullOrWhiteSpace(Name), "name", "must be non-empty");
        QueryAr.Validate();
        Defaults.Validate();
        ConfigValidationException.Require(!Path.IsPathRooted(Ae) && !Ae.Contains(".."), "ae", $"must be a folder inside the generator directory, got \"{Ae}\"");
    }
}

/// <summary>
/// A complete text-to-image generator loaded from one directory: <c>config.json</c> (<see cref="VgtGeneratorConfig"/>),
/// <c>model.safetensors</c> (QueryAR state-dict names, EMA weights), the tokenizer files and the frozen AE in
/// <c>ae/</c>. Implements <see cref="IImageGenerator"/> for <c>vgt bench geneval --model</c> and
/// <see cref="IImageCompleter"/> for <c>vgt eval completion</c>.
/// </summary>
public sealed class VgtGenerator : IImageGenerator, IImageCompleter, IDisposable
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";

    private readonly TextToImagePipeline pipeline;
    private IProgressFactory progress = NullProgress.Instance;

    public string Directory { get; }
    public VgtGeneratorConfig Config { get; }
    public QueryArModel Model { get; }
    public Qwen2Tokenizer Tokenizer { get; }
    public ILatentAutoencoder Autoencoder { get; }

    /// <summary>The PNG text key under which a benchmark image keeps the layout plan it was drawn from (models with a plan).</summary>
    public const string LayoutPlanKey = "Layout plan";

    /// <summary>Settings of <see cref="IImageGenerator.Generate"/> (bench); prompts and seed are replaced per call.</summary>
    public GenerationRequest BenchRequest { get; set; }

    public string Name => Config.Name;

    private VgtGenerator(string directory, VgtGeneratorConfig config, QueryArModel model, Qwen2Tokenizer tokenizer, ILatentAutoencoder ae)
    {
        (Directory, Config, Model, Tokenizer, Autoencoder) = (directory, config, model, tokenizer, ae);
        pipeline = new TextToImagePipeline(model, tokenizer, ae, new ForwardingProgress(this));
        BenchRequest = Request(["-"]);
    }

    /// <summary>Pixels per token along each side (AE stride × latent patch size).</summary>
    public int PixelStride => pipeline.PixelStride;

    /// <summary>Largest square image side the query grid allows.</summary>
    public int MaxSize => Math.Min(Config.QueryAr.MetaqueryMaxH, Config.QueryAr.MetaqueryMaxW) * PixelStride;

    /// <summary>Tokens of the longest templated prompt the model takes.</summary>
    public int MaxPromptTokens => Config.QueryAr.PromptTokenLimit;

    public static VgtGenerator Load(string directory)
    {
        Runtime.TorchRuntime.Initialise();
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Generator directory '{directory}' does not exist.");
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"'{directory}' is not a generator directory: it has no {ConfigFile}", configPath);
        var config = ConfigJson.Load<VgtGeneratorConfig>(configPath);
        var weights = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"Generator directory '{directory}' has no {WeightsFile}", weights);
        var aeDir = Path.Combine(directory, config.Ae);
        if (!System.IO.Directory.Exists(aeDir))
            throw new DirectoryNotFoundException($"Generator directory '{directory}' lacks its AE folder '{config.Ae}/' (config.json \"ae\").");
        var tokenizer = Qwen2Tokenizer.Load(directory);
        var model = new QueryArModel(config.QueryAr);
        try
        {
            StateDictLoader.LoadFile(model, weights, new LoadOptions { Strict = true });
            model.eval();
            var ae = LatentAutoencoders.Load(aeDir);
            if (ae.LatentChannels != config.QueryAr.LatentChannels)
                throw new InvalidDataException($"the AE in '{aeDir}' has {ae.LatentChannels} latent channels, the generator expects {config.QueryAr.LatentChannels}");
            return new VgtGenerator(Path.GetFullPath(directory), config, model, tokenizer, ae);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes a self-contained generator directory: config.json, model.safetensors (<paramref name="state"/>, e.g. the EMA
    /// weights, else the model's own), the tokenizer files, a copy of the AE directory's files in ae/, README.md.
    /// </summary>
    public static void Save(string directory, VgtGeneratorConfig config, QueryArModel model, Qwen2Tokenizer tokenizer, string aeDirectory,
        IReadOnlyDictionary<string, Tensor>? state = null, string? readme = null)
    {
        config.Validate();
        System.IO.Directory.CreateDirectory(directory);
        var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => state is not null && state.TryGetValue(kv.Key, out var s) ? s : kv.Value);
        var weights = Path.Combine(directory, WeightsFile);
        var tmp = weights + ".tmp";
        if (File.Exists(tmp)) File.Delete(tmp);
        SafetensorsWriter.Write(tmp, tensors, new Dictionary<string, string> { ["format"] = VgtGeneratorConfig.FormatName, ["name"] = config.Name });
        File.Move(tmp, weights, overwrite: true);
        TokenizerFiles.Write(tokenizer.Model, directory);
        var aeTarget = Path.Combine(directory, config.Ae);
        if (Path.GetFullPath(aeTarget) != Path.GetFullPath(aeDirectory))
        {
            System.IO.Directory.CreateDirectory(aeTarget);
            foreach (var f in System.IO.Directory.GetFiles(aeDirectory))
                File.Copy(f, Path.Combine(aeTarget, Path.GetFileName(f)), overwrite: true);
        }
        if (readme is not null) IO.AtomicFile.WriteAllText(Path.Combine(directory, "README.md"), readme);
        ConfigJson.Save(config, Path.Combine(directory, ConfigFile));   // last: a directory with config.json is complete
    }

    /// <summary>A request with this generator's defaults for <paramref name="prompts"/>.</summary>
    public GenerationRequest Request(IReadOnlyList<string> prompts)
    {
        var d = Config.Defaults;
        return new GenerationRequest
        {
            Prompts = prompts, Cfg = d.Cfg, CfgSchedule = d.CfgSchedule, Steps = d.Steps, Sampler = d.Sampler,
            Size = (d.Size, d.Size), ParallelK = d.Parallel, Order = d.Order, GroupSchedule = d.GroupSchedule, Temperature = d.Temperature,
            GuidanceInterval = d.GuidanceInterval, CodeCfg = d.CodeCfg,
        };
    }

    public GenerationResult Generate(GenerationRequest request, IProgressFactory? progressFactory = null)
    {
        progress = progressFactory ?? NullProgress.Instance;
        try
        {
            return pipeline.Generate(request);
        }
        finally
        {
            progress = NullProgress.Instance;
        }
    }

    /// <summary>PNG parameters of image <paramref name="index"/> of <paramref name="request"/>.</summary>
    public Imaging.GenerationParameters ParametersFor(GenerationRequest request, int index) =>
        request.ParametersFor(index, Config.Name) with { LibraryVersion = typeof(VgtGenerator).Assembly.GetName().Version?.ToString() ?? "" };

    // ---------------------------------------------------------------- IImageGenerator

    public void Check(GenEvalMetadata metadata, string where)
    {
        if (string.IsNullOrWhiteSpace(metadata.Prompt)) throw new InvalidDataException($"{where}: the prompt is empty");
        try
        {
            PromptBatch.Build(Tokenizer, Config.QueryAr.Prompts, [metadata.Prompt], BenchRequest.Negative, 1, false, MaxPromptTokens,
                Config.QueryAr.Plan is null ? "max_prompt_tokens" : "max_prompt_tokens − plan.max_tokens");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}");
        }
    }

    public RgbImage Generate(GenEvalMetadata metadata, long seed)
    {
        using var result = pipeline.Generate(BenchRequest with { Prompts = [metadata.Prompt], Seed = seed, ImagesPerPrompt = 1 });
        var image = ToRgb(result.Images[0]);
        return result.Plans is { } plans ? new RgbImage(image.Width, image.Height, image.Pixels) { Text = new Dictionary<string, string> { [LayoutPlanKey] = plans[0] } } : image;
    }

    // ---------------------------------------------------------------- IImageCompleter

    public int TokensFor(int size)
    {
        int side = size / PixelStride;
        return side * side;
    }

    /// <summary>
    /// Encodes <paramref name="reference"/> with the generator's AE, keeps <paramref name="knownTokens"/> positions
    /// (the first of a random permutation from the seed's stream "known") and generates the others with
    /// <see cref="BenchRequest"/>'s settings, the prompt of <paramref name="metadata"/> and <paramref name="seed"/>.
    /// </summary>
    public RgbImage Complete(GenEvalMetadata metadata, RgbImage reference, int knownTokens, long seed)
    {
        if (reference.Width != reference.Height)
            throw new ArgumentException($"completion takes square images, got {reference.Width}×{reference.Height}", nameof(reference));
        int tokens = TokensFor(reference.Width);
        if (knownTokens < 0 || knownTokens > tokens)
            throw new ArgumentOutOfRangeException(nameof(knownTokens), knownTokens, $"known tokens must be in [0, {tokens}]");
        using var scope = NewDisposeScope();
        Tensor latentTokens;
        using (no_grad())
        {
            var image = Imaging.ImageTensor.FromRgbBytes(reference.Pixels, reference.Width, reference.Height).unsqueeze(0); // [1,3,H,W]
            latentTokens = LatentPatchify.Patchify(Autoencoder.Encode(image).to(float32), Config.QueryAr.LatentPatchSize); // [1, L, C·p²]
        }
        var given = new bool[tokens];
        using (var generator = new Runtime.VgtSeed(seed).TorchGenerator("known"))
        using (var perm = randperm(tokens, generator: generator))
            foreach (long i in perm.data<long>().Take(knownTokens)) given[i] = true;
        var request = BenchRequest with
        {
            Prompts = [metadata.Prompt], Seed = seed, ImagesPerPrompt = 1, Size = (reference.Height, reference.Width),
            Known = new KnownTokens(latentTokens, given),
        };
        using var result = pipeline.Generate(request);
        return ToRgb(result.Images[0]);
    }

    /// <summary>[3,H,W] ≈[−1,1] → 8-bit RGB (clamped).</summary>
    public static RgbImage ToRgb(Tensor image)
    {
        var bytes = Imaging.ImageTensor.ToRgbBytes(image.clamp(-1, 1));
        return new RgbImage((int)image.shape[2], (int)image.shape[1], bytes);
    }

    public void Dispose()
    {
        Model.Dispose();
        Autoencoder.Dispose();
    }

    /// <summary>The pipeline's progress goes to whatever factory the current Generate call was given.</summary>
    private sealed class ForwardingProgress(VgtGenerator owner) : IProgressFactory
    {
        public IProgressReporter Start(string label, long total) => owner.progress.Start(label, total);
    }
}
