using System.CommandLine;
using System.Globalization;
using Vgt.Models.VgtAe;
using Vgt.Pipelines;
using Vgt.Runtime;

namespace Vgt.Cli.Commands;

/// <summary>`vgt reconstruct IMAGE -o OUT [--model DIR] [--fit crop|pad]`: encode and decode one image with an AE.</summary>
public static class ReconstructCommand
{
    public static Command Build()
    {
        var image = new Argument<string>("IMAGE") { Description = "Input image (PNG, JPEG, WebP, …)" };
        var output = new Option<string>("--output", "-o") { Description = "Output image path (format from the extension)", Required = true };
        var model = new Option<string>("--model") { Description = "AE model directory or name", DefaultValueFactory = _ => "shapes-ae" };
        var fit = new Option<string>("--fit")
        {
            Description = "Sides that are not multiples of the AE stride: 'crop' (centre-crop, output is the cropped size) or 'pad' (edge-pad, output cropped back to the input size)",
            DefaultValueFactory = _ => "crop",
        };
        var cmd = new Command("reconstruct", "Encode an image to VGT-AE latents and decode it back.") { image, output, model, fit };
        cmd.SetAction(parse =>
        {
            var mode = parse.GetValue(fit) switch
            {
                "crop" => StrideFitMode.Crop,
                "pad" => StrideFitMode.Pad,
                var other => throw new ArgumentException($"--fit must be 'crop' or 'pad', got '{other}'"),
            };
            TorchRuntime.Initialise();
            var dir = ModelCatalog.Resolve(parse.GetValue(model)!);
            using var ae = VgtAeModel.Load(dir);
            var r = ReconstructPipeline.Run(ae, parse.GetValue(image)!, parse.GetValue(output)!, mode);
            Console.WriteLine($"model     {dir} (stride {ae.Stride}, {ae.LatentChannels} latent channels)");
            Console.WriteLine($"fit       {r.Fit}");
            Console.WriteLine($"latent    [{string.Join(", ", r.LatentShape)}]");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PSNR      {r.Psnr:F2} dB"));
            Console.WriteLine($"wrote     {r.Output} ({r.OutputWidth}×{r.OutputHeight})");
            return 0;
        });
        return cmd;
    }
}
