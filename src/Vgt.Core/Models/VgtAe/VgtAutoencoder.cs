using TorchSharp;
using TorchSharp.Modules;
using Vgt.Checkpoints;
using Vgt.Models.InternVit;
using Vgt.Models.InternVl;
using static TorchSharp.torch;

namespace Vgt.Models.VgtAe;

/// <summary>
/// VGT-AE with a VLM encoder (vgt-reference §4.1–4.3). State-dict names are the official `vgt_ae_internvl3.pth` layout:
/// `encoder.*` (InternViT), `mlp1.{0,1,3}.*`, `down_blocks.{i}.mlp.{0,1,3}.*`, `down_mlp.{0,1,3}.*`, `decoder.*`
/// (DC-AE decoder) and, when built for training, the frozen `teacher.*`, `teacher_mlp1.*`.
/// Encode: normalise (always; the reference's min ≥ 0 skip only behind <see cref="VgtAeConfig.ReferenceNormalizationQuirk"/>)
/// → InternViT (all layers) → drop CLS → pixel shuffle → mlp1 [B,L,D] (= the distillation feature) → down_blocks →
/// down_mlp [B,L,C'] → [B,C',h,w] (raster order) → latent post-processing (<see cref="LatentAutoencoder"/>).
/// In training with a teacher: distill = mean((f − teacher(x))²) over [B,L,D].
/// </summary>
public sealed class VgtAutoencoder : LatentAutoencoder
{
    public readonly InternVisionModel encoder;
    public readonly VisionProjector mlp1;
    public readonly ModuleList<ResidualMlpBlock> down_blocks;
    public readonly BottleneckMlp down_mlp;
    public readonly InternVisionModel? teacher;
    public readonly VisionProjector? teacher_mlp1;

    public VgtAutoencoder(VgtAeConfig config, Device? device = null, Generator? generator = null) : base(nameof(VgtAutoencoder), config, device)
    {
        if (config.Encoder != AeEncoderKind.Vlm) throw new ArgumentException("VgtAutoencoder needs encoder = vlm (use ConvAutoencoder for the conv baseline)");
        var v = config.Vision!;
        encoder = new InternVisionModel(v.Vision, device, generator);
        mlp1 = new VisionProjector(v.ProjectorInputSize, v.ProjectorSize, v.ProjectorLayerNormEps, device, generator);
        down_blocks = nn.ModuleList(Enumerable.Range(0, config.DownBlocks).Select(_ => new ResidualMlpBlock(v.ProjectorSize, device, generator)).ToArray());
        down_mlp = new BottleneckMlp(v.ProjectorSize, config.EncoderOutChannels, 1e-5, device, generator);
        if (config.Teacher)
        {
            teacher = new InternVisionModel(v.Vision, device);
            teacher_mlp1 = new VisionProjector(v.ProjectorInputSize, v.ProjectorSize, v.ProjectorLayerNormEps, device);
        }
        RegisterComponents();
        ResetTeacher();
    }

    public override IReadOnlyList<string> ExcludedFromExport => ["teacher.", "teacher_mlp1."];

    /// <summary>Makes the teacher an exact frozen copy of the current encoder + mlp1 (call after loading the VLM's weights).</summary>
    public void ResetTeacher()
    {
        if (teacher is null || teacher_mlp1 is null) return;
        using var _ = no_grad();
        Copy(encoder, teacher);
        Copy(mlp1, teacher_mlp1);
        foreach (var p in teacher.parameters().Concat(teacher_mlp1.parameters())) p.requires_grad = false;
    }

    static void Copy(nn.Module from, nn.Module to)
    {
        var source = from.state_dict();
        foreach (var (name, target) in to.state_dict()) target.copy_(source[name]);
    }

    /// <summary>
    /// Loads the vision tower and projector of a VLM checkpoint (InternVL names `vision_model.*`, `mlp1.*` by default)
    /// into encoder and mlp1 (strictly), then copies them into the teacher.
    /// </summary>
    public void LoadVlmModules(ICheckpoint checkpoint, string visionPrefix = "vision_model.", string projectorPrefix = "mlp1.")
    {
        StateDictLoader.Load(encoder, checkpoint, new LoadOptions { Prefix = visionPrefix, Strict = true });
        StateDictLoader.Load(mlp1, checkpoint, new LoadOptions { Prefix = projectorPrefix, Strict = true });
        ResetTeacher();
    }

    /// <summary>Normalised pixels as the VLM expects them (ImageNet statistics), from [−1,1] images.</summary>
    public Tensor NormalisePixels(Tensor images)
    {
        if (Config.ReferenceNormalizationQuirk && images.min().item<float>() >= 0) return images.alias();   // reference bug, opt-in only
        return ImageNetNormalize.FromSigned(images);
    }

    /// <summary>Post-projector features [B, L, D] of the trainable encoder (<paramref name="useTeacher"/> = false) or the frozen teacher.</summary>
    public Tensor SemanticFeatures(Tensor normalisedPixels, bool useTeacher = false)
    {
        var (tower, projector) = useTeacher
            ? (teacher ?? throw new InvalidOperationException("this AE was built without a teacher (teacher: false)"), teacher_mlp1!)
            : (encoder, mlp1);
        using var scope = NewDisposeScope();
        var v = Config.Vision!;
        var hidden = tower.Forward(normalisedPixels, v.Vision.NumHiddenLayers);                          // [B,1+R·Cc,Dv]
        var grid = VisionFeatures.ToGrid(hidden, v.Vision.PatchSize, normalisedPixels.shape[2], normalisedPixels.shape[3]);
        var shuffled = Vgt.Models.InternVl.PixelShuffle.Apply(grid, v.DownsampleRatio, v.PsVersion);                          // [B,h,w,Dv·k²]
        return projector.forward(shuffled.flatten(1, 2)).MoveToOuterDisposeScope();                      // [B,L,D]
    }

    /// <summary>The frozen teacher's features of images in [−1,1] (no gradient flows into the teacher's weights).</summary>
    public Tensor TeacherFeatures(Tensor images)
    {
        using var scope = NewDisposeScope();
        return SemanticFeatures(NormalisePixels(images), useTeacher: true).MoveToOuterDisposeScope();
    }

    protected override Tensor EncodeRaw(Tensor images, out Tensor? distillLoss)
    {
        using var scope = NewDisposeScope();
        long b = images.shape[0];
        var (h, w) = LatentSize(images.shape[2], images.shape[3]);
        var pixels = NormalisePixels(images);
        var f = SemanticFeatures(pixels);                                                 // [B,L,D]
        distillLoss = null;
        if (training && teacher is not null)
        {
            Tensor target;
            using (no_grad()) target = SemanticFeatures(pixels, useTeacher: true);
            distillLoss = (f - target.detach()).square().mean().MoveToOuterDisposeScope();
        }
        var x = f;
        foreach (var block in down_blocks) x = block.forward(x);                          // [B,L,D]
        x = down_mlp.forward(x);                                                           // [B,L,C']
        return x.transpose(1, 2).reshape(b, Config.EncoderOutChannels, h, w).MoveToOuterDisposeScope();
    }
}
