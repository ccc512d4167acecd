using Vgt.Evaluation;
using Vgt.Imaging;
using Vgt.Models.VgtAe;
using Vgt.Tests.Cli;
using static TorchSharp.torch;
using static Vgt.Tests.VgtAe.VgtAeTestSupport;

namespace Vgt.Tests.VgtAe;

/// <summary>`vgt reconstruct` and `vgt eval recon` on a tiny conv AE saved as a model directory.</summary>
public class ReconCommandTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "vgtae-cli-" + Guid.NewGuid().ToString("N"));

    public ReconCommandTests()
    {
        manual_seed(21);
        using var ae = new ConvAutoencoder(TinyConvConfig());
        VgtAeModel.Save(ae, Path.Combine(dir, "model"), "# tiny\n");
    }

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    [Fact]
    public void ReconstructStatesHowAnOddSizedImageWasFitted()
    {
        using var scope = NewDisposeScope();
        var input = Path.Combine(dir, "odd.png");
        ImageFile.Save(rand(3, 30, 37) * 2 - 1, input);
        var padded = Path.Combine(dir, "pad.png");
        var (code, stdout, stderr) = CliRunner.Run("reconstruct", input, "-o", padded, "--model", Path.Combine(dir, "model"), "--fit", "pad");
        Assert.True(code == 0, stderr);
        Assert.Contains("37×30 is not a multiple of the stride 8: edge-padded to 40×32, output cropped back to 37×30", stdout);
        Assert.Contains("latent    [1, 8, 4, 5]", stdout);
        Assert.Equal([3L, 30, 37], ImageFile.Load(padded).shape);

        var cropped = Path.Combine(dir, "crop.png");
        (code, stdout, stderr) = CliRunner.Run("reconstruct", input, "-o", cropped, "--model", Path.Combine(dir, "model"));
        Assert.True(code == 0, stderr);
        Assert.Contains("centre-cropped to 32×24", stdout);
        Assert.Equal([3L, 24, 32], ImageFile.Load(cropped).shape);

        (code, _, stderr) = CliRunner.Run("reconstruct", input, "-o", cropped, "--model", Path.Combine(dir, "model"), "--fit", "stretch");
        Assert.Equal(2, code);
        Assert.Contains("--fit must be 'crop' or 'pad'", stderr);
    }

    [Fact]
    public void EvalReconPrintsTheMetricsAsTableAndJson()
    {
        var json = Path.Combine(dir, "report.json");
        var (code, stdout, stderr) = CliRunner.Run("eval", "recon", "--model", Path.Combine(dir, "model"), "--n", "8",
            "--fd-vlm", "none", "--benchmark", "none", "--json", json);
        Assert.True(code == 0, stderr);
        Assert.Contains("PSNR (dB, range 1)", stdout);
        Assert.Contains("SSIM (range 2, reference)", stdout);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(8, doc.RootElement.GetProperty("images").GetInt32());
        double psnr = doc.RootElement.GetProperty("psnr").GetDouble();
        Assert.InRange(psnr, 0.0, 20.0);   // an untrained AE
        Assert.True(doc.RootElement.GetProperty("ssim_dr2").GetDouble() > doc.RootElement.GetProperty("ssim").GetDouble());
    }

    [Fact]
    public void JudgeAgreementComparesVerdictsOnGroundTruthAndReconstruction()
    {
        using var scope = NewDisposeScope();
        var metadata = Path.Combine(dir, "meta.jsonl");
        File.WriteAllLines(metadata, File.ReadLines(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..",
            "benchmarks", "shapes-geneval-v1", "evaluation_metadata.jsonl")).Take(3));
        using var ae = VgtAeModel.Load(Path.Combine(dir, "model"));
        var j = ReconEvaluator.JudgeAgreementOf(ae, metadata, seedsPerPrompt: 2);
        Assert.Equal(6, j.Images);
        Assert.Equal(6, j.GroundTruthCorrect);                       // ground truth always passes
        Assert.Equal(j.ReconstructionCorrect, j.Agreeing);          // so agreement = reconstructions judged correct
        Assert.Equal((double)j.Agreeing / 6, j.PerCategory["single_object"]);
        Assert.Equal(j.Images - j.Agreeing, j.Disagreements.Count);   // every disagreement is listed, with the judge's reason
        Assert.All(j.Disagreements, d => Assert.True(d.GroundTruthVerdict == "" && d.ReconstructionVerdict.Length > 0, d.ToString()));
        var table = new ReconReport("m", 0, 64, 0, 0, 0, null, null, j, 0).ToTable();
        Assert.All(j.Disagreements, d => Assert.Contains($"differs: {d.Prompt} (seed {d.Seed})", table));
    }
}
