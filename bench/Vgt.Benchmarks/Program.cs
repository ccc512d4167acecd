// Benchmark entry points: dotnet run --project bench/Vgt.Benchmarks -c Release -- <name> [options]
using Vgt.Benchmarks;

return args.FirstOrDefault() switch
{
    "dcae" => DcAeDecodeBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run --project bench/Vgt.Benchmarks -c Release -- <benchmark> [options]");
    Console.Error.WriteLine("  dcae [--threads N] [--latent 16]   real DC-AE decoder (random weights): decode one 32×h×w latent");
    return 2;
}
