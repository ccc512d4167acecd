using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.IO;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>Shape of <see cref="PatchLinearAutoencoder"/> (config.json of its directory, snake_case).</summary>
public sealed record PatchLinearAeConfig : IValidatable
{
    public const string KindName = "patch_linear";

    public string Kind { get; init; } = KindName;

    /// <summary>Pixels per latent cell along each side.</summary>
    public int Stride { get; init; } = 8;

    public int LatentChannels { get; init; } = 16;

    public void Validate()
    {
        ConfigValidationException.Require(Kind == KindName, "kind", $"must be \"{KindName}\", got \"{Kind}\"");
        ConfigValidationException.Require(Stride is >= 1 and <= 64, "stride", $"must be in [1, 64], got {Stride}");
        ConfigValidationException.Require(LatentChannels is >= 1 and <= 4096, "latent_channels", $"must be in [1, 4096], got {LatentChannels}");
    }
}

/// <summary>
/// The smallest real autoencoder: each s×s pixel patch is one latent cell. encode: pixel_unshuffle → Linear(3s² → C)
/// → channel LayerNorm (the VGT-AE latent convention); decode: Linear(C → 3s²) → pixel_shuffle. Used in tests and as a
/// stand-in until a VGT-AE directory is available; <see cref="FitPca"/> gives a useful one in seconds (PCA of patches).
/// State-dict names: <c>encoder.weight/bias</c>, <c>decoder.weight/bias</c>.
/// </summary>
public sealed class PatchLinearAutoencoder : nn.Module, ILatentAutoencoder
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";

    private readonly Linear encoder;   // Linear(3·s² → C), torch default init
    private readonly Linear decoder;   // Linear(C → 3·s²), torch default init

    public PatchLinearAeConfig Config { get; }
    public int Stride => Config.Stride;
    public int LatentChannels => Config.LatentChannels;
    public string Kind => PatchLinearAeConfig.KindName;
    public string WeightsSha256 { get; private set; } = "";

    public PatchLinearAutoencoder(PatchLinearAeConfig config, Generator? generator = null) : base(nameof(PatchLinearAutoencoder))
    {
        config.Validate();
        Config = config;
        int p = 3 * config.Stride * config.Stride;
        encoder = nn.Linear(p, config.LatentChannels);
        decoder = nn.Linear(config.LatentChannels, p);
        if (generator is not null)
            using (no_grad())
                foreach (var (_, w) in named_parameters())
                    w.copy_(randn(w.shape, generator: generator) * 0.05);
        RegisterComponents();
        eval();
    }

    public Tensor Encode(Tensor images)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var patches = nn.functional.pixel_unshuffle(images.to(float32), Stride).permute(0, 2, 3, 1);   // [N,h,w,3s²]
        var z = encoder.forward(patches);                                                                // [N,h,w,C]
        z = nn.functional.layer_norm(z, [LatentChannels], eps: 1e-6);
        return z.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope();                           // [N,C,h,w]
    }

    public Tensor Decode(Tensor z)
    {
        if (z.dim() != 4 || z.shape[1] != LatentChannels)
            throw new ArgumentException($"expected latents [N, {LatentChannels}, h, w], got [{string.Join(", ", z.shape)}]", nameof(z));
        using var scope = NewDisposeScope();
        var x = decoder.forward(z.to(float32).permute(0, 2, 3, 1));                                      // [N,h,w,3s²]
        return nn.functional.pixel_shuffle(x.permute(0, 3, 1, 2), Stride).contiguous().MoveToOuterDisposeScope(); // [N,3,sh,sw]
    }

    /// <summary>
    /// Sets the weights from the principal components of the patches of <paramref name="images"/> [N,3,H,W]: the encoder
    /// projects onto the top C components (centred), the decoder is the least-squares inverse of encode (channel norm
    /// included), fitted on the same patches.
    /// </summary>
    public void FitPca(Tensor images)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = nn.functional.pixel_unshuffle(images.to(float64), Stride).permute(0, 2, 3, 1).reshape(-1, 3 * Stride * Stride); // [M,P]
        var mean = x.mean([0]);
        var centred = x - mean;
        var (_, _, vh) = linalg.svd(centred, fullMatrices: false);                                        // vh [P,P]
        var basis = vh.narrow(0, 0, LatentChannels);                                                       // [C,P]
        encoder.weight!.copy_(basis.to(float32));
        encoder.bias!.copy_((-basis.matmul(mean)).to(float32));
        // decoder: least squares from normed codes (+1) to patches
        var codes = nn.functional.layer_norm(centred.matmul(basis.T), [LatentChannels], eps: 1e-6);       // [M,C]
        var design = cat([codes, ones(codes.shape[0], 1, dtype: float64)], 1);                             // [M,C+1]
        var solution = linalg.pinv(design).matmul(x);              // [C+1,P]; minimum norm (the normed codes sum to 0: rank C)
        decoder.weight!.copy_(solution.narrow(0, 0, LatentChannels).T.to(float32));
        decoder.bias!.copy_(solution[LatentChannels].to(float32));
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        ConfigJson.Save(Config, Path.Combine(directory, ConfigFile));
        var weights = Path.Combine(directory, WeightsFile);
        SafetensorsWriter.Write(weights, state_dict().ToDictionary(kv => kv.Key, kv => kv.Value),
            new Dictionary<string, string> { ["format"] = "vgt-patch-linear-ae-v1" });
        WeightsSha256 = Sha256(weights);
    }

    public static PatchLinearAutoencoder Load(string directory)
    {
        var config = ConfigJson.Load<PatchLinearAeConfig>(Path.Combine(directory, ConfigFile));
        var weights = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"AE directory '{directory}' has no {WeightsFile}", weights);
        var ae = new PatchLinearAutoencoder(config);
        StateDictLoader.LoadFile(ae, weights, new LoadOptions { Strict = true });
        ae.WeightsSha256 = Sha256(weights);
        ae.eval();
        return ae;
    }

    /// <summary>True when <paramref name="directory"/>'s config.json says kind = patch_linear.</summary>
    public static bool IsPatchLinear(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) return false;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("kind", out var k)
            && k.ValueKind == JsonValueKind.String && k.GetString() == PatchLinearAeConfig.KindName;
    }

    internal static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    private void CheckImages(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"expected images [N, 3, H, W], got [{string.Join(", ", images.shape)}]", nameof(images));
        if (images.shape[2] % Stride != 0 || images.shape[3] % Stride != 0 || images.shape[2] == 0 || images.shape[3] == 0)
            throw new ArgumentException($"image size {images.shape[3]}×{images.shape[2]} is not a positive multiple of the AE stride {Stride}", nameof(images));
    }
}
