using TorchSharp;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>
/// Naming shell so the LLM's state-dict keys are <c>lmm.language_model.model.*</c>, exactly as in the official VGT
/// checkpoints (Appendix A). Only the decoder is kept: the reference's frozen, unused
/// <c>lmm.language_model.lm_head.weight</c> (V × D) is skipped when loading (see <see cref="QueryArCheckpoint"/>).
/// </summary>
public sealed class LmmContainer : nn.Module
{
    private readonly LanguageModelContainer language_model;

    public LmmContainer(Qwen2Config config, Device? device, Generator? generator) : base("lmm")
    {
        language_model = new LanguageModelContainer(config, device, generator);
        RegisterComponents();
    }

    /// <summary>The Qwen2 decoder (<c>lmm.language_model.model</c>).</summary>
    public Qwen2Model Decoder => language_model.Decoder;

    private sealed class LanguageModelContainer : nn.Module
    {
        private readonly Qwen2Model model;

        public LanguageModelContainer(Qwen2Config config, Device? device, Generator? generator) : base("language_model")
        {
            model = new Qwen2Model(config, device, generator);
            RegisterComponents();
        }

        public Qwen2Model Decoder => model;
    }
}
