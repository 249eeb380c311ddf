using System.Globalization;
using DiffMpc.Samples.Pendulum;

// Usage: dotnet run -c Release --project samples/Pendulum [-- --out DIR]
string outDir = args.Length >= 2 && args[0] == "--out" ? args[1] : Path.Combine("out", "pendulum");
Directory.CreateDirectory(outDir);
Console.WriteLine("DiffMpc pendulum swing-up: receding-horizon MPC (T = 20, |u| <= 2) from near hanging down (angle pi - 0.2).");
SwingUpResult result = SwingUp.Run(new SwingUpSettings());
foreach (SwingUpStep s in result.Steps.Where((_, i) => i % 10 == 0))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  t = {s.Time,5:F2} s   angle = {s.Angle,7:F3} rad   velocity = {s.Velocity,7:F3}   torque = {s.Torque,6:F3}   {s.Status}"));
}
string csv = Path.Combine(outDir, "swingup.csv");
SwingUp.WriteCsv(result, csv);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Reached upright: {result.ReachedUpright}; held upright over the last second: {result.HeldUpright}; mean solve time {result.MeanSolveMilliseconds:F3} ms per step."));
Console.WriteLine($"Trajectory written to {Path.GetFullPath(csv)}");
return result.HeldUpright ? 0 : 1;
