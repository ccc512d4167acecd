using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>How training positions are shuffled (reference §8.2 step 4, §11.2 item 9).</summary>
public enum PermutationMode
{
    /// <summary>One permutation shared by every sample of the batch (the reference).</summary>
    PerBatch,
    /// <summary>An independent permutation for each sample.</summary>
    PerSample,
}

/// <summary>Options of <see cref="QueryArLoss.Compute"/>. Fixed tensors replace the matching random draws (parity tests).</summary>
public sealed record QueryArLossOptions
{
    /// <summary>Token ids of the <c>&lt;img&gt;</c> marker (one for InternVL3, several for Qwen2.5-VL).</summary>
    public required IReadOnlyList<int> ImageStartIds { get; init; }

    public PermutationMode Permutation { get; init; } = PermutationMode.PerBatch;

    /// <summary>Probability that a drawn order (of the batch or of a sample) is raster order 0 … L−1 instead of random.</summary>
    public double RasterFraction { get; init; }

    /// <summary>Fixed generation order: [L] (shared) or [B, L] (per sample), each row a permutation of 0 … L−1.</summary>
    public Tensor? FixedPermutation { get; init; }

    /// <summary>
    /// Flow-head samples per token (MAR's diffusion_batch_mul; 1 = the reference): the [B·L] head rows are repeated m
    /// times (copy 0 of every row, then copy 1, …) and each copy gets its own t and ε.
    /// </summary>
    public int HeadBatchMul { get; init; } = 1;

    /// <summary>Fixed flow times [m·B·L] (rows in raster order of sample 0, then sample 1, …; copies after one another).</summary>
    public Tensor? FixedT { get; init; }

    /// <summary>Fixed noise ε [m·B·L, C·p²] (same row order as <see cref="FixedT"/>).</summary>
    public Tensor? FixedNoise { get; init; }

    /// <summary>
    /// REPA target features [B·L, F] or [B, L, F] in raster token order (DINOv3 patch features resized to the latent
    /// grid, §8.6). Used when the config has a REPA weight &gt; 0 and the head is in training mode.
    /// </summary>
    public Tensor? RepaTarget { get; init; }

    /// <summary>
    /// Layout-plan LM targets [B, T] int64 over the prompt positions (models with a plan): at prompt position i the id
    /// that position i + 1 must predict (the plan's tokens, and the image-start marker after the plan's last token),
    /// <see cref="QueryArLoss.IgnoreTarget"/> elsewhere. Null = no plan loss. Built by <see cref="LayoutPlanTargets"/>.
    /// </summary>
    public Tensor? PlanTargets { get; init; }
}

/// <summary>Outputs of one loss evaluation.</summary>
/// <param name="Loss">Total: flow loss + repa_loss_weight · REPA loss (the mmengine sum of all "loss" entries) + token_code_loss_weight · code loss.</param>
/// <param name="FlowLoss">Flow-matching loss (loss_text2image).</param>
/// <param name="RepaLoss">Unweighted −cos REPA loss, or null when off.</param>
/// <param name="Permutation">[B, L] the order used (row b: position of sample b fed k-th).</param>
/// <param name="Conditions">[B·L, D] head conditions in raster order.</param>
/// <param name="T">[m·B·L] flow times (m = <see cref="QueryArLossOptions.HeadBatchMul"/>).</param>
/// <param name="CodeLoss">Cross-entropy of the token codes (token_codes &gt; 0; unweighted), else null.</param>
/// <param name="CodeAccuracy">Fraction of tokens whose code is the arg-max of the logits, else null.</param>
/// <param name="PlanLoss">Cross-entropy of the layout plan's tokens (<see cref="QueryArLossOptions.PlanTargets"/>; unweighted), else null.</param>
/// <param name="PlanAccuracy">Fraction of plan targets that are the arg-max of their logits, else null.</param>
public sealed record QueryArLossResult(Tensor Loss, Tensor FlowLoss, Tensor? RepaLoss, Tensor Permutation, Tensor Conditions, Tensor T,
    Tensor? CodeLoss = null, Tensor? CodeAccuracy = null, Tensor? PlanLoss = null, Tensor? PlanAccuracy = null);
