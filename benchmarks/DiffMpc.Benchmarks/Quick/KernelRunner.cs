// `kernels`: single-core efficiency of the Riccati recursion against the machine's measured
// floating-point peak. The peak is measured here (16 independent FMA chains per vector width), so
// the percentage does not rest on a datasheet figure.
using System.Diagnostics;
using System.Runtime.Intrinsics;
using DiffMpc.Benchmarks.Problems;
using DiffMpc.LinearAlgebra;
using DiffMpc.Lqr.Lanes;
using DiffMpc.Lqr;
using DiffMpc.Problems;

namespace DiffMpc.Benchmarks.Quick;

/// <summary>
/// The kernels mode: <c>kernels [--batch B] [--horizon T] [--m M] [N ...]</c> (defaults B = 64,
/// T = 20, m = 4, n = 8 10 12 16). For each n it packs the batch of a random lqr problem into SIMD
/// lanes and times the Riccati recursion alone (<c>LaneLqr</c>'s phase Factor) on one core,
/// group after group as a solve runs them (packing excluded from the time), and reports GFLOP/s
/// by <see cref="FlopModel.RiccatiExecuted"/> (and by the textbook <see cref="FlopModel.RiccatiPerStage"/>)
/// and the share of the measured single-core peak of
/// the vector width in use, for both lane widths (8: Vector512, 4: Vector256) where the machine
/// runs them. Each shape warms up for 1 s first, then the
/// median of 41 rounds is reported.
/// </summary>
internal static class KernelRunner
{
    private const int Rounds = 41;

    public static int Run(string[] args)
    {
        int B = 64, T = 20, m = 4;
        var ns = new List<int>();
        for (int i = 0; i < args.Length; i++)
        {
            bool ok = args[i] switch
            {
                "--batch" => ++i < args.Length && TryPositive(args[i], out B),
                "--horizon" => ++i < args.Length && TryPositive(args[i], out T),
                "--m" => ++i < args.Length && TryPositive(args[i], out m),
                _ => TryPositive(args[i], out int n) && Add(ns, n),
            };
            if (!ok)
            {
                Console.Error.WriteLine($"kernels: bad argument '{args[Math.Min(i, args.Length - 1)]}'; usage: kernels [--batch B] [--horizon T] [--m M] [N ...] (positive integers)");
                return 2;
            }
        }
        if (ns.Count == 0)
        {
            ns.AddRange([8, 10, 12, 16]);
        }

        Console.WriteLine("DiffMpc kernels: Riccati recursion on one core vs the measured single-core peak");
        Console.WriteLine(MachineInfo.Describe());
        double peak512 = Vector512.IsHardwareAccelerated ? PeakGflops512() : double.NaN;
        double peak256 = PeakGflops256();
        Console.WriteLine($"measured peak, one core: Vector512 FMA {peak512:F1} GFLOP/s, Vector256 FMA {peak256:F1} GFLOP/s");
        Console.WriteLine();
        Console.WriteLine("GFLOP/s counts the flops the kernel executes (lower triangles, no dynamics at the last stage);");
        Console.WriteLine("textbook: T full stages (FlopModel.RiccatiPerStage), the yardstick of the issue's figures.");
        Console.WriteLine($"{"shape",-24} {"lanes",6} {"riccati_ms",11} {"us/prob-stage",14} {"GFLOP/s",8} {"% peak",7} {"textbook",9} {"% peak",7}");
        foreach (int n in ns)
        {
            var dims = new MpcDimensions(T, B, n, m);
            foreach (int width in new[] { 8, 4 })
            {
                string shape = $"n{n}_m{m}_T{T}_B{B}";
                if (!LaneLqr.Supports(dims, width))
                {
                    Console.WriteLine($"{shape,-24} {width,6} lane kernels of this width not used for this shape/machine");
                    continue;
                }
                double ms = width == 8 ? RiccatiMs<Vector512<double>>(dims) : RiccatiMs<Vector256<double>>(dims);
                double gflops = FlopModel.RiccatiExecuted(n, m, T, lowerTriangles: true) * B / (ms * 1e-3) / 1e9;
                double textbook = FlopModel.RiccatiPerStage(n, m) * T * B / (ms * 1e-3) / 1e9;
                double peak = width == 8 ? peak512 : peak256;
                Console.WriteLine($"{shape,-24} {width,6} {ms,11:F4} {ms * 1e3 / (T * B),14:F3} {gflops,8:F2} {100 * gflops / peak,6:F1}% {textbook,9:F2} {100 * textbook / peak,6:F1}%");
            }
        }
        return 0;
    }

    private static bool TryPositive(string text, out int value) =>
        int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 1;

    private static bool Add(List<int> list, int value)
    {
        list.Add(value);
        return true;
    }

    /// <summary>Median over rounds of the time of Factor over every group (each packed just before, untimed), lanes of type TV.</summary>
    private static double RiccatiMs<TV>(MpcDimensions dims)
        where TV : struct
    {
        LqrProblem problem = LqrProblemGenerator.Build(dims);
        LqrData data = LqrData.From(problem, 0);
        var ws = new LqrWorkspace(dims, 1);
        var lanes = new LaneLqr<TV>(dims, ws, 1);
        lanes.Prepare(data);
        var samples = new List<double>();
        TV sink = default;
        long warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;   // 1 s warm-up: the tiered JIT's final code
        for (int round = -1; round < Rounds; round++)
        {
            if (round == -1 && Stopwatch.GetTimestamp() < warmUntil)
            {
                round = -2;
            }
            long ticks = 0;
            for (int g = 0; g < lanes.Groups; g++)
            {
                if (!lanes.PackForKernelTiming(data, g))
                {
                    throw new InvalidOperationException("generated data not finite");
                }
                long t0 = Stopwatch.GetTimestamp();
                sink = Simd.Or(sink, lanes.FactorPacked(0, g));
                ticks += Stopwatch.GetTimestamp() - t0;
            }
            if (round >= 0)
            {
                samples.Add(ticks * 1e3 / Stopwatch.Frequency);
            }
        }
        if (!Simd.EqualsAll(sink, default(TV)))
        {
            throw new InvalidOperationException("a generated Q_uu was not positive definite");
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }

    /// <summary>Best of 6 timings of <see cref="FmaChains{T}"/> with Vector512: 16 chains x 8 lanes x 2 flops per iteration.</summary>
    private static double PeakGflops512() => Peak(iterations => FmaChains<Vector512<double>>(iterations), 2.0 * 8 * 16);

    /// <summary>As <see cref="PeakGflops512"/> with Vector256 (4 lanes).</summary>
    private static double PeakGflops256() => Peak(iterations => FmaChains<Vector256<double>>(iterations), 2.0 * 4 * 16);

    private static double Peak(Func<int, double> loop, double flopsPerIteration)
    {
        const int Iterations = 20_000_000;
        double best = 0, sink = 0;
        for (int rep = 0; rep < 6; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += loop(Iterations);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            best = Math.Max(best, flopsPerIteration * Iterations / s / 1e9);
        }
        return double.IsNaN(sink) ? double.NaN : best;
    }

    /// <summary>
    /// 16 independent FMA chains (more than latency x throughput), no calls inside, so the
    /// accumulators stay in registers; returns one lane of their sum so the work is not removed.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization
        | System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double FmaChains<T>(int iterations)
        where T : struct
    {
        T a0 = Simd.Create<T>(1.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        T a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        T x = Simd.Create<T>(0.999999), y = Simd.Create<T>(1e-7);
        for (int i = 0; i < iterations; i++)
        {
            a0 = Simd.Fma(a0, x, y); a1 = Simd.Fma(a1, x, y); a2 = Simd.Fma(a2, x, y); a3 = Simd.Fma(a3, x, y);
            a4 = Simd.Fma(a4, x, y); a5 = Simd.Fma(a5, x, y); a6 = Simd.Fma(a6, x, y); a7 = Simd.Fma(a7, x, y);
            a8 = Simd.Fma(a8, x, y); a9 = Simd.Fma(a9, x, y); a10 = Simd.Fma(a10, x, y); a11 = Simd.Fma(a11, x, y);
            a12 = Simd.Fma(a12, x, y); a13 = Simd.Fma(a13, x, y); a14 = Simd.Fma(a14, x, y); a15 = Simd.Fma(a15, x, y);
        }
        T s0 = Simd.Add(Simd.Add(a0, a1), Simd.Add(a2, a3)), s1 = Simd.Add(Simd.Add(a4, a5), Simd.Add(a6, a7));
        T s2 = Simd.Add(Simd.Add(a8, a9), Simd.Add(a10, a11)), s3 = Simd.Add(Simd.Add(a12, a13), Simd.Add(a14, a15));
        return Simd.Get(Simd.Add(Simd.Add(s0, s1), Simd.Add(s2, s3)), 0);
    }
}
