using System.Globalization;
using DiffMpc.Samples.Pendulum;
using DiffMpc.Samples.Shared;

// Usage: dotnet run -c Release --project samples/Pendulum [-- --out DIR]
if (SampleArgs.Parse(args, "pendulum", "Pendulum") is not { } options)
{
    return 2;
}
Console.WriteLine("DiffMpc pendulum swing-up: receding-horizon MPC (T = 20, |u| <= 2) from near hanging down (angle pi - 0.2).");
SwingUpResult result = SwingUp.Run(new SwingUpSettings());
foreach (SwingUpStep s in result.Steps.Where((_, i) => i % 10 == 0))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  t = {s.Time,5:F2} s   angle = {s.Angle,7:F3} rad   velocity = {s.Velocity,7:F3}   torque = {s.Torque,6:F3}   {s.Status}"));
}
string csv = Path.Combine(options.OutputDirectory, "swingup.csv");
SwingUp.WriteCsv(result, csv);
string series = Path.Combine(options.OutputDirectory, "swingup.png");
string poses = Path.Combine(options.OutputDirectory, "poses.png");
SwingUpFigures.SaveTimeSeries(result, series);
SwingUpFigures.SavePoseStrip(result, poses);
int first = result.Steps.ToList().FindIndex(s => Math.Abs(s.Angle) < SwingUp.UprightTolerance);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Reached upright: {result.ReachedUpright}{(first >= 0 ? $" (|angle| < {SwingUp.UprightTolerance} rad at t = {result.Steps[first].Time:F2} s)" : "")}; held upright over the last second: {result.HeldUpright}; mean solve time {result.MeanSolveMilliseconds:F3} ms per step."));
Console.WriteLine($"Output: {options.OutputDirectory} (swingup.csv, swingup.png, poses.png)");
return result.HeldUpright ? 0 : 1;
