using System.Diagnostics;
using System.Globalization;
using DiffMpc.Options;
using DiffMpc.Samples.ImitationLearning;
using DiffMpc.Samples.Shared;

// Usage: dotnet run -c Release --project samples/ImitationLearning [-- --out DIR] [--quick]
if (SampleArgs.Parse(args, "imitation", "ImitationLearning", allowQuick: true) is not { } options)
{
    return 2;
}
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var total = Stopwatch.StartNew();

// 1. LQR: learn (A, B) from the expert's trajectories.
var lqrSettings = options.Quick ? new LqrImitationSettings(Epochs: 800) : new LqrImitationSettings();
Console.WriteLine($"LQR imitation: n = {lqrSettings.StateDim}, m = {lqrSettings.ControlDim}, T = {lqrSettings.Horizon}, fresh batches of {lqrSettings.BatchSize} x_init, RMSprop lr {lqrSettings.LearningRate}, {lqrSettings.Epochs} epochs.");
var clock = Stopwatch.StartNew();
int every = Math.Max(1, lqrSettings.Epochs / 10);
LqrImitationResult lqr = LqrImitation.Run(lqrSettings, (epoch, loss, error) =>
{
    if (epoch % every == 0 || epoch == lqrSettings.Epochs - 1)
    {
        Console.WriteLine($"  epoch {epoch,5}   imitation loss {loss,10:E3}   model error {error,10:E3}");
    }
});
double lqrSeconds = clock.Elapsed.TotalSeconds;
using (var w = new StreamWriter(Path.Combine(options.OutputDirectory, "lqr.csv")))
{
    w.WriteLine("epoch,imitation_loss,model_error");
    for (int e = 0; e < lqr.Loss.Length; e++)
    {
        w.WriteLine($"{e},{lqr.Loss[e]:R},{lqr.ModelError[e]:R}");
    }
}
ImitationFigures.SaveLqr(lqr, Path.Combine(options.OutputDirectory, "lqr.png"));

// 2. Pendulum: learn (g, mass, length) from the expert's controls, with each gradient mode.
var runs = new List<PendulumImitationResult>();
var seconds = new List<double>();
foreach (NonlinearGradientMode mode in new[] { NonlinearGradientMode.Exact, NonlinearGradientMode.FirstOrder })
{
    var settings = options.Quick ? new PendulumImitationSettings(mode, Epochs: 100) : new PendulumImitationSettings(mode, Epochs: 200, Starts: 32);
    double[] guess = DiffMpc.Systems.Pendulum.TextbookParameters.Select((v, i) => v * Math.Exp(settings.InitialLogOffset[i])).ToArray();
    Console.WriteLine($"Pendulum imitation ({mode} gradient): T = {settings.Horizon}, {settings.Starts} expert trajectories, Adam lr {settings.LearningRate} on log-parameters, {settings.Epochs} epochs; true [g, mass, length] = [10, 1, 1], initial guess [{string.Join(", ", guess.Select(v => v.ToString("F3")))}].");
    int every2 = Math.Max(1, settings.Epochs / 10);
    clock.Restart();
    PendulumImitationResult run = PendulumImitation.Run(settings, (epoch, loss, error) =>
    {
        if (epoch % every2 == 0 || epoch == settings.Epochs - 1)
        {
            Console.WriteLine($"  epoch {epoch,5}   imitation loss {loss,10:E3}   parameter error {error,10:E3}");
        }
    });
    seconds.Add(clock.Elapsed.TotalSeconds);
    runs.Add(run);
}
using (var w = new StreamWriter(Path.Combine(options.OutputDirectory, "pendulum.csv")))
{
    w.WriteLine("mode,epoch,imitation_loss,parameter_error,raw_parameter_error,g,mass,length,converged_fraction");
    foreach (PendulumImitationResult run in runs)
    {
        for (int e = 0; e < run.Loss.Length; e++)
        {
            double[] th = run.Parameters[e];
            w.WriteLine($"{run.Mode},{e},{run.Loss[e]:R},{run.ParameterError[e]:R},{run.RawParameterError[e]:R},{th[0]:R},{th[1]:R},{th[2]:R},{run.ConvergedFraction[e]:R}");
        }
    }
}
ImitationFigures.SavePendulum(runs, Path.Combine(options.OutputDirectory, "pendulum.png"));

Console.WriteLine();
Console.WriteLine("Summary");
Console.WriteLine($"  LQR: model error {lqr.ModelError[0]:E3} -> {lqr.ModelError[^1]:E3} ({lqr.ModelError[0] / lqr.ModelError[^1]:F0}x smaller), imitation loss {lqr.Loss[0]:E3} -> {lqr.Loss[^1]:E3}, {lqrSeconds:F1} s.");
for (int r = 0; r < runs.Count; r++)
{
    PendulumImitationResult run = runs[r];
    double[] th = run.Parameters[^1];
    int to3 = run.EpochsTo(1e-3), to5 = run.EpochsTo(1e-5);
    double best = run.ParameterError.Min();
    Console.WriteLine($"  Pendulum, {run.Mode} gradient: parameter error {run.ParameterError[0]:E2} -> {run.ParameterError[^1]:E2} (best {best:E2}); "
        + $"below 1e-3 at epoch {(to3 < 0 ? "never" : to3)}, below 1e-5 at epoch {(to5 < 0 ? "never" : to5)}; "
        + $"final [g, mass, length] = [{th[0]:F3}, {th[1]:F3}, {th[2]:F3}] (g/length = {th[0] / th[2]:F4}, mass length^2 = {th[1] * th[2] * th[2]:F4}); "
        + $"{1000 * seconds[r] / run.Loss.Length:F0} ms per epoch.");
}
Console.WriteLine("  (Parameter error = squared log-error of g/length and mass*length^2: the pendulum's dynamics depend on (g, mass, length) only through these, so a third direction cannot be learnt from any trajectory.)");
Console.WriteLine($"Output: {options.OutputDirectory} (lqr.csv, lqr.png, pendulum.csv, pendulum.png); total {total.Elapsed.TotalSeconds:F1} s.");
return 0;
