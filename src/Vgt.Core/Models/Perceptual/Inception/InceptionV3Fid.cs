using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>
/// Inception-v3 of the FID (TF 2015-12-05 graph) in the pytorch-fid / torch-fidelity layout; loads
/// <c>pt_inception-2015-12-05-6726825d.pth</c> by name (<c>Conv2d_1a_3x3.conv.weight</c>, <c>Mixed_5b.branch1x1.bn.running_mean</c>,
/// …, <c>fc.weight</c>). Features = the 2048-d global average pool after Mixed_7c (§6.1).
/// Input path of the reference evaluator (torch-fidelity): images in [0,1] → ×255 truncated to uint8 →
/// compute dtype (fp64 in the reference) → TF1 bilinear resize to 299 → (x − 128)/128.
/// </summary>
public sealed class InceptionV3Fid : nn.Module<Tensor, Tensor>, IFeatureExtractor
{
    public const int InputSize = 299;
    public const int FeatureDim = 2048;

    private readonly BasicConv2d Conv2d_1a_3x3, Conv2d_2a_3x3, Conv2d_2b_3x3, Conv2d_3b_1x1, Conv2d_4a_3x3;
    private readonly InceptionA Mixed_5b, Mixed_5c, Mixed_5d;
    private readonly InceptionB Mixed_6a;
    private readonly InceptionC Mixed_6b, Mixed_6c, Mixed_6d, Mixed_6e;
    private readonly InceptionD Mixed_7a;
    private readonly InceptionE Mixed_7b, Mixed_7c;
    private readonly TorchSharp.Modules.Linear fc;   // 2048 → 1008 (unused for FID; kept so the file loads strictly)

    public string Name => "inception";

    /// <summary>The dtype the network runs in (parameters and activations); the reference uses float64.</summary>
    public ScalarType ComputeType { get; }

    public InceptionV3Fid(ScalarType computeType = ScalarType.Float64) : base("inception_v3_fid")
    {
        Conv2d_1a_3x3 = new BasicConv2d(3, 32, 3, stride: 2);
        Conv2d_2a_3x3 = new BasicConv2d(32, 32, 3);
        Conv2d_2b_3x3 = new BasicConv2d(32, 64, 3, padding: 1);
        Conv2d_3b_1x1 = new BasicConv2d(64, 80, 1);
        Conv2d_4a_3x3 = new BasicConv2d(80, 192, 3);
        Mixed_5b = new InceptionA(192, 32);
        Mixed_5c = new InceptionA(256, 64);
        Mixed_5d = new InceptionA(288, 64);
        Mixed_6a = new InceptionB(288);
        Mixed_6b = new InceptionC(768, 128);
        Mixed_6c = new InceptionC(768, 160);
        Mixed_6d = new InceptionC(768, 160);
        Mixed_6e = new InceptionC(768, 192);
        Mixed_7a = new InceptionD(768);
        Mixed_7b = new InceptionE(1280, maxPool: false);
        Mixed_7c = new InceptionE(2048, maxPool: true);
        fc = nn.Linear(2048, 1008);
        RegisterComponents();
        ComputeType = computeType;
        this.to(computeType);
        WeightFile.Freeze(this);
    }

    /// <summary>x [B,3,299,299] already scaled to [−1,1] in <see cref="ComputeType"/> → pool features [B,2048].</summary>
    public override Tensor forward(Tensor x)
    {
        eval();
        x = Conv2d_1a_3x3.forward(x);                                   // [B,32,149,149]
        x = Conv2d_2b_3x3.forward(Conv2d_2a_3x3.forward(x));            // [B,64,147,147]
        x = InceptionPools.Max3Stride2(x);                              // [B,64,73,73]
        x = Conv2d_4a_3x3.forward(Conv2d_3b_1x1.forward(x));            // [B,192,71,71]
        x = InceptionPools.Max3Stride2(x);                              // [B,192,35,35]
        x = Mixed_5d.forward(Mixed_5c.forward(Mixed_5b.forward(x)));    // [B,288,35,35]
        x = Mixed_6a.forward(x);                                        // [B,768,17,17]
        x = Mixed_6e.forward(Mixed_6d.forward(Mixed_6c.forward(Mixed_6b.forward(x))));
        x = Mixed_7a.forward(x);                                        // [B,1280,8,8]
        x = Mixed_7c.forward(Mixed_7b.forward(x));                      // [B,2048,8,8]
        return x.mean([2, 3]);                                          // [B,2048]
    }

    /// <summary>
    /// images [B,3,H,W] in [0,1] → [B,2048] (ComputeType). Values are clamped to [0,1] before the uint8
    /// truncation (the reference clamps its reconstructions before this point).
    /// </summary>
    public Tensor Features(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Inception expects images [B,3,H,W] in [0,1], got [{string.Join(",", images.shape)}]", nameof(images));
        using var _ = no_grad();
        var u8 = (images.to(float32).clamp(0, 1) * 255).to(uint8);         // truncation, as .to(torch.uint8)
        var x = Tf1Bilinear.Resize(u8.to(ComputeType), InputSize, InputSize);
        return forward((x - 128) / 128);
    }

    /// <summary>Loads the pytorch-fid weights file by name (all keys required, AuxLogits not part of it).</summary>
    public static InceptionV3Fid FromFile(string path, ScalarType computeType = ScalarType.Float64)
    {
        var net = new InceptionV3Fid(computeType);
        WeightFile.LoadInto(net, WeightFile.Read(path), path);
        return net;
    }
}
