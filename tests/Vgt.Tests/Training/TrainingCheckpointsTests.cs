using TorchSharp;
using TorchSharp.Modules;
using Vgt.Runtime;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.Training;

public sealed class TrainingCheckpointsTests : IDisposable
{
    readonly string run = Directory.CreateTempSubdirectory("vgt-run-").FullName;

    public void Dispose() => Directory.Delete(run, true);

    static Sequential NewModel()
    {
        var m = nn.Sequential(("0", nn.Linear(4, 8)), ("1", nn.ReLU()), ("2", nn.Linear(8, 2)));
        using (no_grad())
            foreach (var (_, p) in m.named_parameters())
                p.copy_(randn(p.shape, generator: new VgtSeed(1).TorchGenerator("init/" + p.shape.Length)));
        return m;
    }

    /// <summary>One step whose data depends only on (seed, step): resuming at a step replays the same batch.</summary>
    static void Step(Sequential model, AdamW opt, Ema ema, WarmupCosineSchedule schedule, long step)
    {
        using var scope = NewDisposeScope();
        var gen = new VgtSeed(7).TorchGenerator($"batch/{step}");
        var x = randn(new long[] { 16, 4 }, generator: gen);
        var y = randn(new long[] { 16, 2 }, generator: gen);
        schedule.Apply(opt, step);
        opt.zero_grad();
        nn.functional.mse_loss(model.forward(x), y).backward();
        opt.step();
        ema.Update(step);
    }

    [Fact]
    public void ResumeContinuesBitForBit()
    {
        var schedule = new WarmupCosineSchedule(2, 6, 0.1);
        // Straight run: 6 steps.
        var a = NewModel();
        var (optA, _) = ParameterGroups.CreateAdamW(a.named_parameters(), DecayRule.VgtAr, 1e-2, 0.05);
        using var emaA = new Ema(a, 0.9, startStep: 1);
        for (long s = 0; s < 6; s++) Step(a, optA, emaA, schedule, s);

        // Interrupted run: 3 steps, checkpoint, fresh objects, resume, 3 more.
        var store = new TrainingCheckpoints(run, keepLast: 2);
        var b = NewModel();
        var (optB, _) = ParameterGroups.CreateAdamW(b.named_parameters(), DecayRule.VgtAr, 1e-2, 0.05);
        using (var emaB = new Ema(b, 0.9, startStep: 1))
        {
            for (long s = 0; s < 3; s++) Step(b, optB, emaB, schedule, s);
            store.Save(new TrainingProgress(3, 7, "{}", new Dictionary<string, double> { ["lecam_real"] = 0.5 }), b,
                new Dictionary<string, TorchSharp.Modules.OptimizerHelper> { ["model"] = optB }, emaB);
        }
        var c = NewModel();
        var (optC, _) = ParameterGroups.CreateAdamW(c.named_parameters(), DecayRule.VgtAr, 1e-2, 0.05);
        using var emaC = new Ema(c, 0.9, startStep: 1);
        var progress = TrainingCheckpoints.Load(store.Latest()!, c, new Dictionary<string, TorchSharp.Modules.OptimizerHelper> { ["model"] = optC }, emaC);
        Assert.Equal(3, progress.Step);
        Assert.Equal(0.5, progress.Scalars["lecam_real"]);
        for (long s = progress.Step; s < 6; s++) Step(c, optC, emaC, schedule, s);

        foreach (var ((name, pa), (_, pc)) in a.named_parameters().Zip(c.named_parameters()))
            Assert.True(pa.equal(pc).all().item<bool>(), $"{name} differs after resume");
        foreach (var (name, t) in emaA.StateDict())
            Assert.True(t.equal(emaC.StateDict()[name]).all().item<bool>(), $"EMA {name} differs after resume");
    }

    [Fact]
    public void KeepsTheLastCheckpointsAndIgnoresIncompleteOnes()
    {
        var store = new TrainingCheckpoints(run, keepLast: 2);
        var m = NewModel();
        var (opt, _) = ParameterGroups.CreateAdamW(m.named_parameters(), DecayRule.VgtAr, 1e-2, 0.05);
        var opts = new Dictionary<string, TorchSharp.Modules.OptimizerHelper> { ["model"] = opt };
        foreach (var step in new long[] { 10, 20, 30 })
            store.Save(new TrainingProgress(step, 1, "{}", new Dictionary<string, double>()), m, opts);
        // A crash mid-write leaves a temp folder without progress.json: never picked up.
        Directory.CreateDirectory(Path.Combine(store.Directory, "step-00000040.tmp-dead"));
        Directory.CreateDirectory(Path.Combine(store.Directory, "step-00000050"));
        Assert.Equal([20L, 30L], store.List().Select(c => c.Step));
        Assert.EndsWith("step-00000030", store.Latest());
        var missing = Assert.Throws<FileNotFoundException>(() => TrainingCheckpoints.Load(Path.Combine(store.Directory, "step-00000050"), m, opts));
        Assert.Contains("progress.json", missing.Message);
    }
}
