using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// Sana multiscale ReLU linear attention with its residual (diffusers <c>SanaMultiscaleLinearAttention</c> +
/// <c>SanaMultiscaleAttnProcessor2_0</c>; efficientvit's LiteMLA). With d = head_dim, heads = C/d, I = heads·d:
/// <list type="number">
/// <item>P = [to_q(x) | to_k(x) | to_v(x)] per pixel → [B, 3I, H, W]; A = concat(P, branch_1(P), …) → [B, 3I(1+K), H, W].</item>
/// <item>A is cut into G = (1+K)·heads consecutive groups of 3d channels; in group g, q = channels 0..d-1, k = d..2d-1,
/// v = 2d..3d-1 (so group 0 takes q, k and v all from to_q's first 3d outputs: the original fused-qkv layout).</item>
/// <item>q, k ← ReLU. If H·W &gt; d: linear attention in fp32 (bf16/fp16 are up-cast), out(n) = Σ_m v(m)(k(m)·q(n)) / (Σ_m k(m)·q(n) + 1e-15),
/// computed as [v; 1]·kᵀ·q. Otherwise the quadratic form S = kᵀq normalised over keys, out = v·S.</item>
/// <item>[B, I(1+K), H, W] → to_out per pixel → norm_out → + x.</item>
/// </list>
/// </summary>
public sealed class SanaMultiscaleLinearAttention : nn.Module<Tensor, Tensor>
{
    public readonly Linear to_q;                                              // weight [I, C], no bias
    public readonly Linear to_k;                                              // weight [I, C], no bias
    public readonly Linear to_v;                                              // weight [I, C], no bias
    public readonly ModuleList<SanaMultiscaleAttentionProjection> to_qkv_multiscale; // one per kernel size
    public readonly Linear to_out;                                            // weight [C, I(1+K)], no bias
    public readonly nn.Module<Tensor, Tensor> norm_out;                       // rms_norm [C] (w = 1, b = 0) or BatchNorm2d

    readonly long headDim;
    const double Eps = 1e-15;

    public long HeadDim => headDim;

    public SanaMultiscaleLinearAttention(long channels, long headDim, IReadOnlyList<int> kernelSizes, string normType = "rms_norm",
        Device? device = null) : base(nameof(SanaMultiscaleLinearAttention))
    {
        if (headDim <= 0 || channels % headDim != 0)
            throw new ArgumentException($"EfficientViT channels ({channels}) must be a multiple of attention_head_dim ({headDim}).");
        this.headDim = headDim;
        long heads = channels / headDim;
        long inner = heads * headDim;
        to_q = nn.Linear(channels, inner, hasBias: false, device: device);
        to_k = nn.Linear(channels, inner, hasBias: false, device: device);
        to_v = nn.Linear(channels, inner, hasBias: false, device: device);
        to_qkv_multiscale = nn.ModuleList(kernelSizes.Select(k => new SanaMultiscaleAttentionProjection(inner, heads, k, device)).ToArray());
        to_out = nn.Linear(inner * (1 + kernelSizes.Count), channels, hasBias: false, device: device);
        norm_out = DcAeLayers.Norm(normType, channels, device);
        RegisterComponents();
    }

    /// <summary>True when <paramref name="positions"/> = H·W takes the linear (fp32) path, as diffusers: H·W &gt; head_dim.</summary>
    public bool UsesLinearAttention(long positions) => positions > headDim;

    public override Tensor forward(Tensor x) // x: [B, C, H, W] -> [B, C, H, W]
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[2], w = x.shape[3], n = h * w, d = headDim;
        var xl = x.permute(0, 2, 3, 1);                                                    // [B, H, W, C]
        var p = cat([to_q.forward(xl), to_k.forward(xl), to_v.forward(xl)], 3).permute(0, 3, 1, 2); // [B, 3I, H, W]
        var parts = new List<Tensor> { p };
        foreach (var branch in to_qkv_multiscale) parts.Add(branch.forward(p));
        var a = cat(parts, 1);                                                             // [B, 3I(1+K), H, W]

        bool linear = UsesLinearAttention(n);
        if (linear) a = UpcastHalf(a);                                                     // linear path in (at least) fp32
        a = a.reshape(b, -1, 3 * d, n);                                                    // [B, G, 3d, N]
        var q = nn.functional.relu(a.narrow(2, 0, d));                                     // [B, G, d, N]
        var k = nn.functional.relu(a.narrow(2, d, d));                                     // [B, G, d, N]
        var v = a.narrow(2, 2 * d, d);                                                     // [B, G, d, N]
        var o = linear ? LinearAttention(q, k, v).to_type(x.dtype) : QuadraticAttention(q, k, v);

        o = o.reshape(b, -1, h, w);                                                        // [B, I(1+K), H, W]
        o = to_out.forward(o.permute(0, 2, 3, 1)).permute(0, 3, 1, 2);                     // [B, C, H, W]
        return (norm_out.forward(o) + x).MoveToOuterDisposeScope();
    }

    /// <summary>bf16/fp16 → fp32 as diffusers does; fp32 and fp64 stay as they are (diffusers would also cast fp64 down).</summary>
    static Tensor UpcastHalf(Tensor t) =>
        t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? t.to_type(ScalarType.Float32) : t;

    static Tensor LinearAttention(Tensor q, Tensor k, Tensor v) // [B, G, d, N] each (≥ fp32) -> [B, G, d, N]
    {
        long d = v.shape[2];
        var vp = cat([v, ones_like(v.narrow(2, 0, 1))], 2);                                // [B, G, d+1, N]
        var kv = vp.matmul(k.transpose(-1, -2));                                           // [B, G, d+1, d]
        var o = kv.matmul(q);                                                              // [B, G, d+1, N]
        return o.narrow(2, 0, d) / (o.narrow(2, d, 1) + Eps);
    }

    static Tensor QuadraticAttention(Tensor q, Tensor k, Tensor v) // [B, G, d, N] each -> [B, G, d, N]
    {
        var s = UpcastHalf(k.transpose(-1, -2).matmul(q));                                 // [B, G, N keys, N queries]
        s = s / (s.sum(2, keepdim: true) + Eps);
        return v.matmul(s.to_type(v.dtype));
    }
}
