using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>The stack of <see cref="InternVitLayer"/>s (state dict: layers.{i}.*); no final norm.</summary>
public sealed class InternVitEncoder : nn.Module
{
    private readonly ModuleList<InternVitLayer> layers;

    public InternVitEncoder(InternVitConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVitEncoder))
    {
        layers = new ModuleList<InternVitLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new InternVitLayer(config, device, generator));
        RegisterComponents();
    }

    public int Count => layers.Count;

    public InternVitLayer this[int index] => layers[index];

    /// <summary>x [B,N,D] through the first <paramref name="numLayers"/> layers → [B,N,D].</summary>
    public Tensor Forward(Tensor x, int numLayers)
    {
        if (numLayers < 0 || numLayers > layers.Count)
            throw new ArgumentOutOfRangeException(nameof(numLayers), $"must be in [0, {layers.Count}], got {numLayers}");
        using var scope = NewDisposeScope();
        var h = x;
        for (int i = 0; i < numLayers; i++) h = layers[i].forward(h);
        return (ReferenceEquals(h, x) ? x.alias() : h).MoveToOuterDisposeScope();
    }
}
