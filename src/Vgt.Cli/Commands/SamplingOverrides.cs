using System.CommandLine;
using System.Globalization;
using Vgt.Pipelines;
using Vgt.Sampling;

namespace Vgt.Cli.Commands;

/// <summary>
/// Generation settings a command line may override (null = the model's default), shared by `vgt generate` and
/// `vgt bench geneval`: one place declares the options, checks them and applies them to a request.
/// </summary>
public sealed record SamplingOverrides(double? Cfg = null, string? CfgSchedule = null, int? Steps = null, int? Parallel = null,
    string? Order = null, string? Sampler = null, double? Temperature = null, string? GuidanceInterval = null, int? Threads = null,
    string? GroupSchedule = null, double? CodeCfg = null, double? PlanTemperature = null)
{
    public bool Any => Cfg is not null || CfgSchedule is not null || Steps is not null || Parallel is not null || Order is not null
                       || Sampler is not null || Temperature is not null || GuidanceInterval is not null || Threads is not null
                       || GroupSchedule is not null || CodeCfg is not null || PlanTemperature is not null;

    /// <summary>Checks that need no model; throws <see cref="ArgumentException"/> naming the option.</summary>
    public void Check()
    {
        if (Cfg is { } c && !double.IsFinite(c))
            throw new ArgumentException($"--cfg must be a finite number (1 = no guidance; typical 1–10), got {c.ToString(CultureInfo.InvariantCulture)}");
        if (CfgSchedule is { } cs) _ = Sampling.CfgSchedule.Create(cs, 1.0);
        if (CodeCfg is { } cc && !double.IsFinite(cc))
            throw new ArgumentException($"--code-cfg must be a finite number, got {cc.ToString(CultureInfo.InvariantCulture)}");
        _ = ParseOrder(Order);
        _ = ParseGroupSchedule(GroupSchedule);
        _ = ParseSampler(Sampler);
        if (Temperature is { } t && !(t > 0 && t <= SamplerTemperature.Max))
            throw new ArgumentException($"--temperature must be in (0, {SamplerTemperature.Max.ToString(CultureInfo.InvariantCulture)}] (1 = the model's distribution, below 1 sharper), got {t.ToString(CultureInfo.InvariantCulture)}");
        _ = ParseInterval(GuidanceInterval);
        if (Threads is < 1) throw new ArgumentException($"--threads must be ≥ 1, got {Threads}");
        if (PlanTemperature is { } pt && !(pt >= 0 && double.IsFinite(pt)))
            throw new ArgumentException($"--plan-temperature must be a finite number ≥ 0 (0 = greedy: one layout per prompt), got {pt.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Sets torch to --threads, else the model's setting (one image per call is many tiny ops: extra threads only add synchronisation).</summary>
    public void ApplyThreads(VgtGenerator generator)
    {
        if ((Threads ?? generator.Config.Defaults.Threads) is > 0 and var torchThreads) Runtime.TorchRuntime.Initialise(torchThreads);
    }

    /// <summary>
    /// <paramref name="request"/> with the overrides, checked against a grid of <paramref name="tokens"/> positions
    /// (<paramref name="imageNote"/> names the image size in the message). Without --parallel, K is the model's, at most L.
    /// </summary>
    public GenerationRequest ApplyTo(GenerationRequest request, int tokens, string imageNote)
    {
        Check();
        var r = request with
        {
            Cfg = Cfg ?? request.Cfg, CfgSchedule = CfgSchedule ?? request.CfgSchedule, Steps = Steps ?? request.Steps,
            ParallelK = Parallel ?? Math.Min(request.ParallelK, tokens), Order = ParseOrder(Order) ?? request.Order,
            GroupSchedule = ParseGroupSchedule(GroupSchedule) ?? request.GroupSchedule,
            Sampler = ParseSampler(Sampler) ?? request.Sampler, Temperature = Temperature ?? request.Temperature,
            GuidanceInterval = ParseInterval(GuidanceInterval) ?? request.GuidanceInterval, CodeCfg = CodeCfg ?? request.CodeCfg,
            PlanTemperature = PlanTemperature ?? request.PlanTemperature,
        };
        if (r.ParallelK < 1 || r.ParallelK > tokens)
            throw new ArgumentException($"--parallel {r.ParallelK} is out of range: K must be in [1, {tokens}] (the tokens of {imageNote})");
        int minSteps = r.Sampler == SamplerKind.EulerMaruyama ? 2 : 1;
        if (r.Steps < minSteps) throw new ArgumentException($"--steps must be ≥ {minSteps} for this sampler, got {r.Steps}");
        return r;
    }

    /// <summary>--order text → kind (null = the model's default).</summary>
    public static GenerationOrderKind? ParseOrder(string? order) => order switch
    {
        null => null,
        "random" => GenerationOrderKind.Random,
        "raster" => GenerationOrderKind.Raster,
        _ => throw new ArgumentException($"--order must be random or raster, got '{order}'"),
    };

    /// <summary>--group-schedule text → schedule (null = the model's default).</summary>
    public static GroupSizeSchedule? ParseGroupSchedule(string? text) => text switch
    {
        null => null,
        "uniform" => GroupSizeSchedule.Uniform,
        "cosine" => GroupSizeSchedule.Cosine,
        _ => throw new ArgumentException($"--group-schedule must be uniform or cosine, got '{text}'"),
    };

    /// <summary>--sampler text → kind (null = the model's default).</summary>
    public static SamplerKind? ParseSampler(string? sampler) => sampler switch
    {
        null => null,
        "sde" => SamplerKind.EulerMaruyama,
        "ode" => SamplerKind.EulerOde,
        _ => throw new ArgumentException($"--sampler must be sde or ode, got '{sampler}'"),
    };

    /// <summary>--guidance-interval text → interval (null = the model's default).</summary>
    public static GuidanceInterval? ParseInterval(string? text) => text is null ? null : Sampling.GuidanceInterval.Parse(text);

    /// <summary>The command-line options behind <see cref="SamplingOverrides"/>; <paramref name="scope"/> (e.g. "with --model; ") goes before each description's default.</summary>
    public sealed class Options(string scope = "")
    {
        readonly Option<double?> cfg = new("--cfg") { Description = $"Guidance scale (1 = none; {scope}default: the model's)" };
        readonly Option<string?> cfgSchedule = new("--cfg-schedule") { Description = $"linear (the reference's, decreasing), constant or linear_increasing ({scope}default: the model's)" };
        readonly Option<int?> steps = new("--steps") { Description = $"Flow sampler steps per token group ({scope}default: the model's)" };
        readonly Option<int?> parallel = new("--parallel") { Description = $"Tokens decoded per step K, 1 ≤ K ≤ tokens of the grid ({scope}default: the model's)" };
        readonly Option<string?> order = new("--order") { Description = $"random or raster ({scope}default: the model's)" };
        readonly Option<string?> sampler = new("--sampler") { Description = $"sde (Euler–Maruyama, the reference's) or ode ({scope}default: the model's)" };
        readonly Option<double?> temperature = new("--temperature") { Description = $"Head sampling temperature τ > 0: noise drawn as τ·N(0, I); 1 = the reference sampler, below 1 sharper ({scope}default: the model's)" };
        readonly Option<string?> interval = new("--guidance-interval") { Description = $"Flow times LOW,HIGH in [0, 1] (0 = noise, 1 = data) where CFG applies; elsewhere the conditional velocity alone ({scope}default: the model's; 0,1 = always, the reference)" };
        readonly Option<string?> groupSchedule = new("--group-schedule") { Description = $"With --parallel K > 1: uniform (the reference's equal groups) or cosine (MAR's: small groups first, same number of steps) ({scope}default: the model's)" };
        readonly Option<double?> codeCfg = new("--code-cfg") { Description = $"Guidance scale on the token-code logits of models with token codes ({scope}default: the model's, else the flow's scale at each step)" };
        readonly Option<double?> planTemperature = new("--plan-temperature") { Description = $"Models with a layout plan: the plan's sampling temperature, 0 = greedy ({scope}default: the model's)" };
        readonly Option<int?> threads = new("--threads") { Description = $"Torch threads ({scope}default: the model's setting, else torch's)" };

        public void AddTo(Command command)
        {
            foreach (Option o in new Option[] { cfg, cfgSchedule, steps, parallel, order, groupSchedule, sampler, temperature, interval, codeCfg, planTemperature, threads }) command.Options.Add(o);
        }

        public SamplingOverrides Read(ParseResult p) => new(p.GetValue(cfg), p.GetValue(cfgSchedule), p.GetValue(steps), p.GetValue(parallel),
            p.GetValue(order), p.GetValue(sampler), p.GetValue(temperature), p.GetValue(interval), p.GetValue(threads), p.GetValue(groupSchedule), p.GetValue(codeCfg),
            p.GetValue(planTemperature));
    }
}
