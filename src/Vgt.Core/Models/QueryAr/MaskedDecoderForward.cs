using TorchSharp;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>
/// Runs a <see cref="Qwen2Model"/> with an explicit attention pattern. <see cref="Qwen2Model.Forward"/> only takes a
/// key-padding mask (causal by index); training-consistent parallel decoding needs queries of one group that do not
/// see each other and cached keys that stay hidden, so this drives the model's own layers, rotary table and final
/// norm with a full boolean mask. Same math as <see cref="Qwen2Model.Forward"/> (a test checks they agree).
/// </summary>
public static class MaskedDecoderForward
{
    /// <summary>
    /// embeds [B,T,D]; positionIds [B,T] int64; allowed [B,1,T,past+T] bool (true = may attend; every row must allow
    /// at least one key); cache extended in place. Returns final-normed hidden states [B,T,D].
    /// </summary>
    public static Tensor Forward(Qwen2Model model, Tensor embeds, Tensor positionIds, Tensor allowed, KvCache cache)
    {
        long b = embeds.shape[0], t = embeds.shape[1], total = cache.Length + t;
        if (allowed.dim() != 4 || allowed.shape[0] != b || allowed.shape[1] != 1 || allowed.shape[2] != t || allowed.shape[3] != total)
            throw new ArgumentException($"allowed must be [B={b}, 1, T={t}, past+T={total}], got [{string.Join(",", allowed.shape)}]");
        if (positionIds.shape[0] != b || positionIds.shape[1] != t)
            throw new ArgumentException($"position ids must be [B={b}, T={t}], got [{string.Join(",", positionIds.shape)}]");
        using var scope = NewDisposeScope();
        long maxPos = positionIds.max().item<long>();
        if (maxPos >= model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"position {maxPos} is beyond max_position_embeddings ({model.Config.MaxPositionEmbeddings})");
        var (cos, sin) = model.Rotary.forward(positionIds);                           // [B,T,hd]
        var h = embeds;
        for (int i = 0; i < model.Config.NumHiddenLayers; i++) h = model.Layer(i).Forward(h, cos, sin, allowed, cache);
        return FinalNorm(model).forward(h).MoveToOuterDisposeScope();
    }

    private static RmsNorm FinalNorm(Qwen2Model model)
    {
        foreach (var (name, child) in model.named_children())
            if (name == "norm" && child is RmsNorm norm) return norm;
        throw new InvalidOperationException("Qwen2Model has no child 'norm'");
    }
}
