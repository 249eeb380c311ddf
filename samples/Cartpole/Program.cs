using System.Globalization;
using DiffMpc.Samples.Cartpole;
using DiffMpc.Samples.Shared;

// Usage: dotnet run -c Release --project samples/Cartpole [-- --out DIR]
if (SampleArgs.Parse(args, "cartpole", "Cartpole") is not { } options)
{
    return 2;
}
var settings = new CartpoleSettings();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"DiffMpc cartpole swing-up: receding-horizon MPC (T = {settings.Horizon}, |u| <= 100) from hanging down (angle {settings.InitialAngle:F2} rad)."));
CartpoleResult result = CartpoleSwingUp.Run(settings);
foreach (CartpoleStep s in result.Steps.Where((_, i) => i % 10 == 0))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  t = {s.Time,5:F2} s   position = {s.Position,7:F3}   angle = {s.Angle,7:F3} rad   force = {s.Force,8:F3}   {s.Status} ({s.Iterations} it)"));
}
CartpoleSwingUp.WriteCsv(result, Path.Combine(options.OutputDirectory, "swingup.csv"));
CartpoleFigures.SaveTimeSeries(result, Path.Combine(options.OutputDirectory, "swingup.png"));
CartpoleFigures.SavePoseStrip(result, Path.Combine(options.OutputDirectory, "poses.png"));
int converged = result.Steps.Count(s => s.Status == DiffMpc.Results.SolveStatus.Converged);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Reached upright: {result.ReachedUpright}{(result.ReachedUpright ? $" (|angle| < {CartpoleSwingUp.UprightTolerance} rad at t = {result.FirstUprightTime:F2} s)" : "")}; held upright over the last second: {result.HeldUpright}; final position {result.Steps[^1].Position:F3}; {converged}/{result.Steps.Count} solves converged; mean solve time {result.MeanSolveMilliseconds:F3} ms per step."));
Console.WriteLine($"Output: {options.OutputDirectory} (swingup.csv, swingup.png, poses.png)");
return result.HeldUpright ? 0 : 1;
