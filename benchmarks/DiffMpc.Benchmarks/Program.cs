// Entry point. `quick ...` runs the quick mode (see Quick/QuickRunner.cs); `kernels ...` the single-core
// Riccati efficiency (Quick/KernelRunner.cs); `baseline-check` verifies
// that the MathNet baseline matches the library; anything else goes to BenchmarkDotNet.
using BenchmarkDotNet.Running;
using DiffMpc.Benchmarks.Baseline;
using DiffMpc.Benchmarks.Problems;
using DiffMpc.Benchmarks.Quick;

if (args.Length > 0 && args[0] == "quick")
{
    return QuickRunner.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "kernels")
{
    return KernelRunner.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "baseline-check")
{
    string name = args.Length > 1 ? args[1] : DiffMpc.Benchmarks.Suites.MathNetBaselineBenchmarks.ProblemName;
    try
    {
        ProblemSpec spec = ProblemCatalog.LoadDefault().Get(name);
        double worst = BaselineCheck.Verify(LqrProblemGenerator.Build(spec));
        Console.WriteLine($"{name}: MathNet baseline matches the library (largest scaled difference {worst:E2} <= {BaselineCheck.Tolerance:E0}).");
        return 0;
    }
    catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
    {
        Console.Error.WriteLine($"baseline-check: {ex.Message}");
        return 2;
    }
    catch (InvalidOperationException ex)
    {
        Console.Error.WriteLine($"baseline-check: FAILED: {ex.Message}");
        return 1;
    }
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
