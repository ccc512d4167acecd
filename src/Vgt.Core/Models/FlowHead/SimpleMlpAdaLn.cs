using TorchSharp;
using TorchSharp.Modules;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>
/// The flow-matching network of the VGT head (reference §8.3, "SimpleMLPAdaLN"; state-dict names under
/// `image_head.net.`). Forward: h = input_proj(x); y = time_embed(t) + cond_embed(c);
/// h ← res_blocks[k](h, y) for each k (REPA features taken after block repa.depth); out = final_layer(h, y).
/// </summary>
public sealed class SimpleMlpAdaLn : nn.Module<Tensor, Tensor, Tensor, Tensor>, IVelocityField
{
    private readonly TimestepEmbedder time_embed;      // sinusoid(freq_dim) → Linear → SiLU → Linear, N(0,0.02)
    private readonly Linear cond_embed;                // Linear(cond_dim→width), xavier_uniform, bias 0
    private readonly Linear input_proj;                // Linear(input_dim→width), xavier_uniform, bias 0
    private readonly ModuleList<AdaLnResBlock> res_blocks;
    private readonly FinalLayer final_layer;           // zero-init ⇒ the net outputs exactly 0 at init
    private readonly Sequential? repa_projector;       // .0 Linear(width→P), SiLU, .2 Linear(P→P), SiLU, .4 Linear(P→F)

    public FlowHeadConfig Config { get; }

    public int InputDim => Config.InputDim;

    public SimpleMlpAdaLn(FlowHeadConfig config, Generator? generator = null) : base("net")
    {
        config.Validate();
        Config = config;
        time_embed = new TimestepEmbedder(config.Width, config.FreqDim, generator);
        cond_embed = nn.Linear(config.CondDim, config.Width);
        input_proj = nn.Linear(config.InputDim, config.Width);
        res_blocks = new ModuleList<AdaLnResBlock>();
        for (int k = 0; k < config.Depth; k++) res_blocks.Add(new AdaLnResBlock(config.Width, config.MlpHidden, generator));
        final_layer = new FinalLayer(config.Width, config.InputDim);
        if (config.Repa is { } r)
            repa_projector = nn.Sequential(
                nn.Linear(config.Width, r.ProjectorDim), nn.SiLU(),
                nn.Linear(r.ProjectorDim, r.ProjectorDim), nn.SiLU(),
                nn.Linear(r.ProjectorDim, r.FeatureDim));
        RegisterComponents();

        ParamInit.XavierLinear(cond_embed, generator);
        ParamInit.XavierLinear(input_proj, generator);
        if (repa_projector is not null)
            foreach (var i in new[] { 0, 2, 4 }) ParamInit.XavierLinear((Linear)repa_projector[i], generator);
    }

    /// <summary>x [N, input_dim], t [N], c [N, cond_dim] → v [N, input_dim].</summary>
    public override Tensor forward(Tensor x, Tensor t, Tensor c) => ForwardWithRepa(x, t, c).Output;

    public Tensor Velocity(Tensor x, Tensor t, Tensor c) => forward(x, t, c);

    /// <summary>
    /// As <see cref="forward"/>, plus REPA features [N, feature_dim] — only when REPA is configured AND the
    /// module is in training mode (reference behaviour, §11.2 item 17); otherwise Repa is null.
    /// </summary>
    public (Tensor Output, Tensor? Repa) ForwardWithRepa(Tensor x, Tensor t, Tensor c)
    {
        CheckInputs(x, t, c);
        var h = input_proj.forward(x);                               // [N, width]
        var y = time_embed.forward(t) + cond_embed.forward(c);       // [N, width]
        Tensor? repa = null;
        bool wantRepa = repa_projector is not null && training;
        for (int k = 0; k < res_blocks.Count; k++)
        {
            h = res_blocks[k].forward(h, y);
            if (wantRepa && k + 1 == Config.Repa!.Depth) repa = repa_projector!.forward(h); // [N, feature_dim]
        }
        return (final_layer.forward(h, y), repa);                    // [N, input_dim]
    }

    private void CheckInputs(Tensor x, Tensor t, Tensor c)
    {
        if (x.dim() != 2 || x.shape[1] != Config.InputDim)
            throw new ArgumentException($"x must be [N, input_dim={Config.InputDim}], got [{string.Join(",", x.shape)}]", nameof(x));
        if (c.dim() != 2 || c.shape[1] != Config.CondDim || c.shape[0] != x.shape[0])
            throw new ArgumentException($"c must be [N={x.shape[0]}, cond_dim={Config.CondDim}], got [{string.Join(",", c.shape)}]", nameof(c));
        if (t.dim() != 1 || t.shape[0] != x.shape[0])
            throw new ArgumentException($"t must be [N={x.shape[0]}], got [{string.Join(",", t.shape)}]", nameof(t));
    }
}
