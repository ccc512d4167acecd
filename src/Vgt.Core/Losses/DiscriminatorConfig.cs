using Vgt.Config;

namespace Vgt.Losses;

/// <summary>
/// Shape of <see cref="NLayerDiscriminator"/>. Defaults = the reference (3 input channels, 128 hidden, 3 stages,
/// blur kernel 4, GroupNorm 32, max-pool to 16×16). JSON (snake_case): in_channels, hidden_channels, num_stages,
/// group_norm_groups, pool_size, blur_resample, blur_kernel_size.
/// </summary>
public sealed record DiscriminatorConfig : IValidatable
{
    public int InChannels { get; init; } = 3;
    public int HiddenChannels { get; init; } = 128;

    /// <summary>Stage k maps hidden·mult[k] → hidden·mult[k+1] with mult = (1, 1, 2, 4, …) and halves the size.</summary>
    public int NumStages { get; init; } = 3;

    public int GroupNormGroups { get; init; } = 32;

    /// <summary>AdaptiveMaxPool2d output (square).</summary>
    public int PoolSize { get; init; } = 16;

    /// <summary>true: BlurBlock downsampling; false: AvgPool2d(2, 2).</summary>
    public bool BlurResample { get; init; } = true;

    public int BlurKernelSize { get; init; } = 4;

    /// <summary>The reference discriminator for 448 px inputs (448 → 224 → 112 → 56 → pool 16).</summary>
    public static DiscriminatorConfig Reference => new();

    /// <summary>A small discriminator for 64 px Shapes World images (64 → 32 → 16 → 8 → pool 4; widths 32/64/128).</summary>
    public static DiscriminatorConfig ShapesWorld => new() { HiddenChannels = 32, GroupNormGroups = 8, PoolSize = 4 };

    /// <summary>Output width of every stage.</summary>
    public int[] StageChannels => Enumerable.Range(0, NumStages).Select(k => HiddenChannels * (1 << k)).ToArray();

    public void Validate()
    {
        ConfigValidationException.Require(InChannels >= 1, "in_channels", $"must be >= 1, got {InChannels}");
        ConfigValidationException.Require(HiddenChannels >= 1, "hidden_channels", $"must be >= 1, got {HiddenChannels}");
        ConfigValidationException.Require(NumStages is >= 1 and <= 8, "num_stages", $"must be in [1, 8], got {NumStages}");
        ConfigValidationException.Require(GroupNormGroups >= 1 && StageChannels.All(c => c % GroupNormGroups == 0),
            "group_norm_groups", $"must divide every stage width ({string.Join(", ", StageChannels)}), got {GroupNormGroups}");
        ConfigValidationException.Require(PoolSize >= 1, "pool_size", $"must be >= 1, got {PoolSize}");
        ConfigValidationException.Require(!BlurResample || BlurKernelSize is >= 3 and <= 5, "blur_kernel_size",
            $"must be 3, 4 or 5 with blur resampling, got {BlurKernelSize}");
    }
}
