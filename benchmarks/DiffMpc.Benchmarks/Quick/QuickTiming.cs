using System.Diagnostics;

namespace DiffMpc.Benchmarks.Quick;

/// <summary>Median-of-runs wall-clock timing for the quick mode.</summary>
internal static class QuickTiming
{
    /// <summary>Samples taken when problems.json gives no "reps".</summary>
    public const int DefaultMinRuns = 7;

    /// <summary>Never more samples than this per action.</summary>
    public const int MaxRuns = 101;

    /// <summary>A sample repeats the action until it lasts at least this long, so tiny problems are not timer noise.</summary>
    private const double MinSampleMs = 2.0;

    /// <summary>Warm-up: at least this many calls and this long per action (tiered JIT reaches its final code).</summary>
    private const int WarmupCalls = 3;

    private const double WarmupSeconds = 0.5;

    /// <summary>
    /// Warms up both actions, then takes samples of them alternately (so a load change on the shared
    /// machine hits both alike) and returns the median time per call of each, in milliseconds. Takes
    /// at least <paramref name="minRuns"/> samples of each, and more while the sampling has run for
    /// less than <paramref name="budgetSeconds"/> (at most <see cref="MaxRuns"/>).
    /// </summary>
    public static (double FirstMs, double SecondMs) MedianMs(Action first, Action second, int minRuns, double budgetSeconds)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        int innerFirst = WarmUp(first), innerSecond = WarmUp(second);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var a = new List<double>();
        var b = new List<double>();
        long start = Stopwatch.GetTimestamp();
        while (a.Count < minRuns || (a.Count < MaxRuns && Stopwatch.GetElapsedTime(start).TotalSeconds < budgetSeconds))
        {
            a.Add(Sample(first, innerFirst));
            b.Add(Sample(second, innerSecond));
        }
        return (Median(a), Median(b));
    }

    /// <summary>Runs the action for the warm-up and returns how many calls make one sample.</summary>
    private static int WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        int calls = 0;
        while (calls < WarmupCalls || Stopwatch.GetElapsedTime(start).TotalSeconds < WarmupSeconds)
        {
            action();
            calls++;
        }
        double perCall = Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
        return perCall >= MinSampleMs ? 1 : (int)Math.Ceiling(MinSampleMs / Math.Max(perCall, 1e-4));
    }

    private static double Sample(Action action, int inner)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < inner; i++)
        {
            action();
        }
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds / inner;
    }

    private static double Median(List<double> x)
    {
        x.Sort();
        int mid = x.Count / 2;
        return x.Count % 2 == 1 ? x[mid] : 0.5 * (x[mid - 1] + x[mid]);
    }
}
