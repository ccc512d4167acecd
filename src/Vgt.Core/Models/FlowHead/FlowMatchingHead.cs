using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>Outputs of one flow-matching loss evaluation.</summary>
/// <param name="Loss">Scalar masked mean of the per-token MSE.</param>
/// <param name="PerToken">[N] mean over channels of (v̂ − v*)².</param>
/// <param name="T">[N] the flow times used.</param>
/// <param name="RepaFeatures">[N, F] REPA projector output; only when REPA is on and the head is training.</param>
/// <param name="RepaLoss">−cos against the given REPA target; only when features and a target exist.</param>
public sealed record FlowLossResult(Tensor Loss, Tensor PerToken, Tensor T, Tensor? RepaFeatures, Tensor? RepaLoss);

/// <summary>
/// The VGT flow-matching head (reference §8.3–8.4; state-dict prefix `image_head.`): holds `net`
/// (<see cref="SimpleMlpAdaLn"/>) and computes the training loss. Sampling lives in <c>Vgt.Sampling</c>.
/// </summary>
public sealed class FlowMatchingHead : nn.Module
{
    private readonly SimpleMlpAdaLn net;

    public FlowHeadConfig Config => net.Config;

    /// <summary>The velocity network, also what the samplers call.</summary>
    public SimpleMlpAdaLn Net => net;

    public FlowMatchingHead(FlowHeadConfig config, Generator? generator = null) : base("image_head")
    {
        net = new SimpleMlpAdaLn(config, generator);
        RegisterComponents();
    }

    /// <summary>
    /// Training loss with all randomness from <paramref name="generator"/> (one VgtSeed stream):
    /// ε ~ N(0, I) [N, C] is drawn first, then u ~ N(0, 1) [N]; t = shift(sigmoid(u)).
    /// target x [N, C], cond c [N, D], optional mask [N] (1 = counts), optional REPA target [N, F].
    /// </summary>
    public FlowLossResult Loss(Tensor x, Tensor c, Generator generator, Tensor? mask = null, Tensor? repaTarget = null)
    {
        var noise = randn(x.shape, dtype: float32, generator: generator);  // [N, C]
        var u = randn(new[] { x.shape[0] }, dtype: float32, generator: generator); // [N]
        var t = FlowTime.FromNormal(u, Config.Timeshift);
        return LossAt(x, c, t, noise, mask, repaTarget);
    }

    /// <summary>
    /// The loss at given flow times and noise (for parity tests and custom samplers of t):
    /// x_t = t·x + (1−t)·ε, v* = x − ε, per-token mean((net(x_t, t, c) − v*)²), Σ(loss·m)/(Σm + 1e−8).
    /// </summary>
    public FlowLossResult LossAt(Tensor x, Tensor c, Tensor t, Tensor noise, Tensor? mask = null, Tensor? repaTarget = null)
    {
        if (!noise.shape.SequenceEqual(x.shape))
            throw new ArgumentException($"noise must have the target's shape [{string.Join(",", x.shape)}], got [{string.Join(",", noise.shape)}]", nameof(noise));
        if (mask is not null && (mask.dim() != 1 || mask.shape[0] != x.shape[0]))
            throw new ArgumentException($"mask must be [N={x.shape[0]}], got [{string.Join(",", mask.shape)}]", nameof(mask));
        var tc = t.to(float32).unsqueeze(1);                      // [N, 1]
        var xt = tc * x + (1 - tc) * noise;                       // [N, C]
        var target = x - noise;                                   // [N, C]
        var (v, repa) = net.ForwardWithRepa(xt, t.to(float32), c);
        var perToken = (v.to(float32) - target).square().mean(new long[] { -1 }); // [N]
        var m = mask?.to(float32) ?? ones_like(perToken);
        var loss = (perToken * m).sum() / (m.sum() + 1e-8);
        Tensor? repaLoss = repa is not null && repaTarget is not null ? FlowHead.RepaLoss.NegativeCosine(repa, repaTarget) : null;
        return new FlowLossResult(loss, perToken, t, repa, repaLoss);
    }
}
