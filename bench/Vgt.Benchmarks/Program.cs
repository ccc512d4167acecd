using Vgt.Benchmarks;

// Benchmarks are commands, not tests: `dotnet run --project bench/Vgt.Benchmarks -c Release -- <name> [...]`.
// Each prints a markdown block (with the command that produced it) ready to paste into docs/benchmarks.md.
var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["matmul"] = MatmulFloor.Run,
    ["dcae"] = DcAeDecodeBench.Run,   // [--threads N] [--latent 16]: real DC-AE decoder (random weights)
    ["vgt-generate"] = VgtGenerateBench.Run,   // [--model DIR] [--threads 2] [--runs 5]: 64 px at parallel 1 and 16 vs FLOPs
    ["vgtae-internvl3"] = VgtAeBench.Run,   // [--threads N]: real VGT-AE (InternVL3-1B + DC-AE), encode + decode 448 px
    ["internvl3-1b"] = InternVl3Bench.Run1B,
    ["internvl3-2b"] = InternVl3Bench.Run2B,
    ["vgt-internvl3"] = VgtRealBench.Run,   // [--threads 2] [--parallel 16] [--steps 30]: real-size VGT-InternVL3 0.6B + DC-AE, one 448 px image
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Vgt.Benchmarks <{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);
