using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Token embedding table (state dict: `weight` [V, D]), init N(0, initializer_range). A plain row lookup; used instead
/// of TorchSharp's Embedding, whose constructor initialises a full-size table on the CPU first (seconds at 151k × 896,
/// even for the meta device).
/// </summary>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public TokenEmbedding(long rows, long dim, double std, Device? device = null, Generator? generator = null) : base(nameof(TokenEmbedding))
    {
        using (no_grad())
            weight = new Parameter(empty([rows, dim], device: device).normal_(0, std, generator));   // init: N(0, std)
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>ids [...] (int64, each in [0, V)) → [..., D].</summary>
    public override Tensor forward(Tensor ids)
    {
        if (ids.dtype != ScalarType.Int64 && ids.dtype != ScalarType.Int32)
            throw new ArgumentException($"token ids must be int32/int64, got {ids.dtype}");
        using var scope = NewDisposeScope();
        long rows = weight.shape[0];
        // One host sync per call (the range is read only when something is out of range): an id outside the table
        // would otherwise be a native error on the CPU and a device-side assert on a GPU.
        if (ids.numel() > 0 && ids.lt(0).logical_or(ids.ge(rows)).any().item<bool>())
            throw new ArgumentOutOfRangeException(nameof(ids), $"token ids must be in [0, {rows}), got [{ids.min().to_type(ScalarType.Int64).item<long>()}, {ids.max().to_type(ScalarType.Int64).item<long>()}]");
        var flat = weight.index_select(0, ids.flatten().to_type(ScalarType.Int64));
        return flat.view([.. ids.shape, weight.shape[1]]).MoveToOuterDisposeScope();
    }
}
