using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Qwen2ForCausalLM: `model` (<see cref="Qwen2Model"/>) and `lm_head` (Linear D→V, no bias). With tie_word_embeddings
/// the lm_head weight is the embedding matrix itself (one tensor, both names in the state dict).
/// </summary>
public sealed class Qwen2ForCausalLM : nn.Module
{
    private readonly Qwen2Model model;
    private readonly Linear lm_head;

    public Qwen2ForCausalLM(Qwen2Config config, Device? device = null, Generator? generator = null) : base(nameof(Qwen2ForCausalLM))
    {
        model = new Qwen2Model(config, device, generator);
        if (config.TieWordEmbeddings)
        {
            lm_head = nn.Linear(model.EmbedTokens.Weight, null);   // shares the embedding Parameter
        }
        else
        {
            // init: N(0, initializer_range)
            lm_head = Qwen2Init.Linear(config.HiddenSize, config.VocabSize, bias: false, config.InitializerRange, device, generator);
        }
        RegisterComponents();
    }

    public Qwen2Config Config => model.Config;

    /// <summary>The decoder without lm_head (what VGT calls `llm.model`).</summary>
    public Qwen2Model Model => model;

    public Linear LmHead => lm_head;

    /// <summary>hidden [B,T,D] → logits [B,T,V].</summary>
    public Tensor Logits(Tensor hidden) => lm_head.forward(hidden);

    /// <summary>Decoder then lm_head; arguments as <see cref="Qwen2Model.Forward"/>. Returns logits [B,T,V].</summary>
    public Tensor Forward(Tensor inputsEmbeds, Tensor? positionIds = null, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        return Logits(model.Forward(inputsEmbeds, positionIds, attentionMask, cache)).MoveToOuterDisposeScope();
    }
}
