using System.Globalization;
using System.Text;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Box;
using DiffMpc.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace DiffMpc.Tests.Robustness;

/// <summary>
/// Fuzzing with garbage: NaN, +-Infinity, 1e300 / 1e-300 magnitudes, zero, negative-definite and
/// indefinite C, zero and rank-deficient F, equal bounds, crossed or NaN bounds, T = 1, m = 1,
/// B = 1, B = 0, wrong lengths and out-of-range options, for LQR / box LQR and pendulum iLQR.
/// Every input must end in exactly one of: an ArgumentException at validation (and only when the
/// input really is invalid), or a result whose every element has a defined status, where
/// Converged elements are finite and satisfy the KKT conditions (checked independently),
/// failed elements are NaN, and elements that are not differentiable get zero gradients.
/// No other exception, no hang (each call runs under a timeout), inputs never modified.
/// Input i is reproducible from <c>new Random(Seed * 1_000_003 + i)</c>.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 7;
    private const int LqrInputs = 5000;
    private const int IlqrInputs = 1500;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public void Lqr_GarbageInputs_AreRejectedOrReportedPerElement() =>
        RunFuzz("LQR", LqrInputs, i => LqrInput(new Random(Seed * 1_000_003 + i), strict: false));

    [Fact]
    public void Lqr_GarbageInputs_Strict_ExtremeMagnitudesAndNaNGradients() =>
        RunFuzz("LQR (strict)", LqrInputs, i => LqrInput(new Random(Seed * 1_000_003 + i), strict: true));

    [Fact]
    public void Ilqr_GarbageInputs_AreRejectedOrReportedPerElement() =>
        RunFuzz("iLQR", IlqrInputs, i => IlqrInput(new Random(Seed * 1_000_003 + 500_000 + i), strict: false));

    // ---- driver ----

    private sealed class Tally
    {
        public int Rejected;
        public int Solved;
        public readonly Dictionary<SolveStatus, int> Statuses = [];
        public int Unverifiable;
        public double WorstRelativeResidual;
    }

    private delegate string? FuzzCase(Tally tally);

    private void RunFuzz(string what, int count, Func<int, FuzzCase> make)
    {
        var tally = new Tally();
        var failures = new StringBuilder();
        int failed = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            FuzzCase run = make(i);
            var task = Task.Run(() =>
            {
                try
                {
                    return run(tally);
                }
                catch (Exception e)
                {
                    return $"unexpected {e.GetType().Name}: {e.Message}";
                }
            });
            string? problem = task.Wait(CallTimeout) ? task.Result : $"did not finish within {CallTimeout.TotalSeconds} s";
            if (problem is not null)
            {
                failed++;
                if (failed <= 15)
                {
                    failures.AppendLine(CultureInfo.InvariantCulture, $"  input {i}: {problem}");
                }
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {count} fuzz inputs in {watch.Elapsed.TotalSeconds:F1} s: {tally.Rejected} rejected at validation, {tally.Solved} solved; " +
            $"element statuses {string.Join(", ", tally.Statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}; " +
            $"{tally.Unverifiable} converged elements not KKT-checked (extreme magnitudes, or the known clamp bug); worst relative KKT residual {tally.WorstRelativeResidual:G3}"));
        if (failed > 0)
        {
            throw new XunitException($"{failed} of {count} {what} fuzz inputs misbehaved (first 15):\n{failures}");
        }
        Assert.True(tally.Rejected > count / 10 && tally.Solved > count / 3, "the fuzz mix should produce both rejections and solves");
    }

    // ---- garbage ----

    private static double Garbage(Random r)
    {
        double u = r.NextDouble();
        double sign = r.Next(2) == 0 ? -1 : 1;
        return u switch
        {
            < 0.04 => double.NaN,
            < 0.08 => double.PositiveInfinity,
            < 0.12 => double.NegativeInfinity,
            < 0.20 => sign * 1e300,
            < 0.28 => sign * 1e-300,
            < 0.36 => 0,
            _ => sign * Normal(r) * Math.Pow(10, 6 * r.NextDouble() - 3),
        };
    }

    private static double Normal(Random r) => BoxTestProblems.Normal(r);

    private static double[] Fill(Random r, int count, Func<Random, double> value)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = value(r);
        }
        return a;
    }

    /// <summary>count blocks of N x N: PD, zero, negative definite, indefinite, singular C_uu, garbage, 1e300 or 1e-300 scaled.</summary>
    private static double[] CostMatrices(Random r, int blocks, int N, int n, out string mode)
    {
        int k = r.Next(10);
        mode = new[] { "pd", "pd", "pd", "zero", "negdef", "indefinite", "singular-Cuu", "garbage", "huge", "tiny" }[k];
        var C = new double[blocks * N * N];
        for (int e = 0; e < blocks; e++)
        {
            double[] A = Fill(r, N * N, Normal);
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double s = 0;
                    for (int q = 0; q < N; q++)
                    {
                        s += A[i * N + q] * A[j * N + q];
                    }
                    s = s / N + (i == j ? 0.5 : 0);
                    C[e * N * N + i * N + j] = mode switch
                    {
                        "zero" => 0,
                        "negdef" => -s,
                        "indefinite" => A[i * N + j] + A[j * N + i],
                        "singular-Cuu" => i >= n || j >= n ? 0 : s,
                        "garbage" => Garbage(r),
                        "huge" => 1e300 * s,
                        "tiny" => 1e-300 * s,
                        _ => s,
                    };
                }
            }
        }
        return C;
    }

    private static double[] Vectors(Random r, int count, out string mode)
    {
        mode = new[] { "normal", "normal", "zero", "huge", "tiny", "garbage" }[r.Next(6)];
        string m = mode;
        return Fill(r, count, q => m switch
        {
            "zero" => 0,
            "huge" => 1e300 * Normal(q),
            "tiny" => 1e-300 * Normal(q),
            "garbage" => Garbage(q),
            _ => Normal(q),
        });
    }

    private static StageArray Wrap(Random r, Func<Layout, double[]> data, out Layout layout)
    {
        layout = r.Next(2) == 0 ? Layout.PerStage : (Layout)r.Next(1, 4);
        return Layouts.Wrap(layout, data(layout));
    }

    /// <summary>Bounds: none, finite, equal, one-sided, infinite, crossed (invalid), NaN (invalid), lower = +Inf (invalid).</summary>
    private static (StageArray? Lo, StageArray? Hi, string Mode) Bounds(Random r, int T, int B, int m)
    {
        string mode = new[] { "none", "none", "finite", "finite", "equal", "lower", "upper", "infinite", "crossed", "nan", "plusinf-lower", "huge" }[r.Next(12)];
        if (mode == "none")
        {
            return (null, null, mode);
        }
        int layout = r.Next(5);
        int count = layout switch { 0 => T * B * m, 1 => B * m, 2 => T * m, 3 => m, _ => 1 };
        double[] lo = new double[count], hi = new double[count];
        for (int i = 0; i < count; i++)
        {
            double a = -Math.Abs(Normal(r)) - 0.01, b = Math.Abs(Normal(r)) + 0.01;
            (lo[i], hi[i]) = mode switch
            {
                "equal" => (a, r.Next(2) == 0 ? a : b),
                "infinite" => (r.Next(2) == 0 ? double.NegativeInfinity : a, r.Next(2) == 0 ? double.PositiveInfinity : b),
                "crossed" => i == count - 1 ? (b, a) : (a, b),
                "nan" => i == count - 1 ? (double.NaN, b) : (a, b),
                "plusinf-lower" => i == count - 1 ? (double.PositiveInfinity, double.PositiveInfinity) : (a, b),
                "huge" => (-1e300, 1e-300),
                _ => (a, b),
            };
        }
        StageArray W(double[] d) => layout switch
        {
            0 => StageArray.PerStage(d),
            1 => StageArray.TimeInvariant(d),
            2 => StageArray.BatchShared(d),
            3 => StageArray.Shared(d),
            _ => StageArray.Scalar(d[0]),
        };
        return (mode == "upper" ? null : W(lo), mode == "lower" ? null : W(hi), mode);
    }

    private static (MpcOptions? Options, bool Invalid, string Mode) Options(Random r)
    {
        if (r.Next(100) >= 20)
        {
            return (null, false, "default");
        }
        return r.Next(14) switch
        {
            0 => (new MpcOptions { MaxIterations = r.Next(1, 4) }, false, "few-iterations"),
            1 => (new MpcOptions { ControlRegularization = 1e-6 }, false, "regularized"),
            2 => (new MpcOptions { DifferentiateUnconverged = true, MaxIterations = 2 }, false, "differentiate-unconverged"),
            3 => (new MpcOptions { MaxDegreeOfParallelism = 1 }, false, "dop1"),
            4 => (new MpcOptions { TrustRegion = 0.1 }, false, "trust-region"),
            5 => (new MpcOptions { LineSearchMaxSteps = 1 }, false, "one-line-search-step"),
            6 => (new MpcOptions { BoxQpMaxIterations = 1 }, false, "one-boxqp-iteration"),
            7 => (new MpcOptions { Tolerance = 0 }, true, "tolerance-0"),
            8 => (new MpcOptions { Tolerance = double.NaN }, true, "tolerance-nan"),
            9 => (new MpcOptions { MaxIterations = 0 }, true, "maxiter-0"),
            10 => (new MpcOptions { ControlRegularization = -1 }, true, "negative-regularization"),
            11 => (new MpcOptions { LineSearchDecay = 1 }, true, "decay-1"),
            12 => (new MpcOptions { MaxDegreeOfParallelism = 0 }, true, "dop0"),
            _ => (new MpcOptions { TrustRegion = 0 }, true, "trust-0"),
        };
    }

    private static bool AnyNonFinite(double[]? a) => a is not null && a.Any(v => !double.IsFinite(v));

    private static bool BoundsInvalid(StageArray? lo, StageArray? hi, MpcDimensions d)
    {
        if (lo is not null && lo.Data.Any(v => double.IsNaN(v) || v == double.PositiveInfinity))
        {
            return true;
        }
        if (hi is not null && hi.Data.Any(v => double.IsNaN(v) || v == double.NegativeInfinity))
        {
            return true;
        }
        for (int t = 0; t < d.Horizon; t++)
        {
            for (int b = 0; b < d.BatchSize; b++)
            {
                for (int i = 0; i < d.ControlDim; i++)
                {
                    if (BoxTestProblems.BoundAt(lo, d, t, b, i, true) > BoxTestProblems.BoundAt(hi, d, t, b, i, false))
                    {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static (int T, int B, int m) Sizes(Random r, int maxM)
    {
        int T = r.Next(1, 7), B = r.Next(1, 5), m = r.Next(1, maxM + 1);
        switch (r.Next(10))
        {
            case 0: T = 1; break;
            case 1: B = 1; break;
            case 2: (T, B, m) = (1, 1, 1); break;
            case 3 when r.Next(3) == 0: B = 0; break;
        }
        return (T, B, m);
    }

    // ---- LQR ----

    /// <param name="strict">Also assert the KKT residual at extreme magnitudes (terms beyond 1e+-250) and
    /// NaN-free gradients, which currently fail (library bugs); otherwise those are counted only.</param>
    private static FuzzCase LqrInput(Random r, bool strict)
    {
        (int T, int B, int m) = Sizes(r, 3);
        int n = r.Next(1, 5), N = n + m;
        var d = new MpcDimensions(T, B, n, m);
        string cm = "", vm = "", fm = "-", xm;
        StageArray C = Wrap(r, l => CostMatrices(r, Layouts.Length(l, T, B, N * N) / (N * N), N, n, out cm), out Layout cl);
        StageArray c = Wrap(r, l => Vectors(r, Layouts.Length(l, T, B, N), out vm), out _);
        int Fmode = r.Next(7);
        StageArray F = Wrap(r, l =>
        {
            int len = Layouts.Length(l, T - 1, B, n * N);
            return Fill(r, len, q => Fmode switch
            {
                0 => 0,                                  // F = 0
                1 => 1,                                  // rank 1
                2 => 1e200 * Normal(q),
                3 => Garbage(q),
                4 => 1e-300 * Normal(q),
                _ => Normal(q),
            });
        }, out _);
        StageArray? f = r.Next(3) == 0 ? null : Wrap(r, l => Vectors(r, Layouts.Length(l, T - 1, B, n), out fm), out _);
        double[] xInit = Vectors(r, B * n, out xm);
        (StageArray? lo, StageArray? hi, string bm) = Bounds(r, T, B, m);
        (MpcOptions? options, bool badOptions, string om) = Options(r);
        bool corrupt = r.Next(100) < 3;
        if (corrupt)
        {
            xInit = [.. xInit, 0.0];
        }
        bool invalid = B == 0 || corrupt || badOptions || AnyNonFinite(xInit) || AnyNonFinite(C.Data) || AnyNonFinite(c.Data)
            || AnyNonFinite(F.Data) || AnyNonFinite(f?.Data) || BoundsInvalid(lo, hi, d);
        double[] dLdx = Fill(r, T * B * n, Normal), dLdu = Fill(r, T * B * m, Normal);
        bool nullLoss = r.Next(4) == 0;
        string describe = $"{d}, C {cm} ({cl}), c {vm}, F mode {Fmode}, f {fm}, xInit {xm}, bounds {bm}, options {om}";
        // Known library bugs (asserted only in strict mode): Converged with a large KKT residual when
        // any input is near overflow/underflow, and box solutions that ignore ControlRegularization.
        bool extreme = cm is "huge" or "tiny" or "garbage" || vm is "huge" or "tiny" or "garbage" || Fmode is 2 or 3 or 4
            || fm is "huge" or "tiny" or "garbage" || xm is "huge" or "tiny" or "garbage" || bm == "huge" || (om == "regularized" && lo is not null | hi is not null);

        return tally =>
        {
            var inputs = new List<double[]> { xInit, C.Data, c.Data, F.Data };
            if (f is not null) inputs.Add(f.Data);
            if (lo is not null) inputs.Add(lo.Data);
            if (hi is not null) inputs.Add(hi.Data);
            long[][] snapshot = [.. inputs.Select(a => Bitwise.Bits(a))];
            MpcSolution sol;
            LqrProblem problem;
            try
            {
                problem = new LqrProblem(d, xInit, C, c, F, f, lo, hi);
                sol = Mpc.Solve(problem, options);
            }
            catch (ArgumentException e)
            {
                Interlocked.Increment(ref tally.Rejected);
                return invalid ? null : $"valid input rejected ({describe}): {e.GetType().Name}: {e.Message}";
            }
            if (invalid)
            {
                return $"invalid input accepted ({describe})";
            }
            Interlocked.Increment(ref tally.Solved);
            MpcGradients g = nullLoss ? Mpc.Backward(sol, null, dLdu) : Mpc.Backward(sol, dLdx, dLdu);
            for (int k = 0; k < inputs.Count; k++)
            {
                if (!snapshot[k].AsSpan().SequenceEqual(Bitwise.Bits(inputs[k])))
                {
                    return $"input array {k} was modified ({describe})";
                }
            }
            bool differentiateUnconverged = (options ?? MpcOptions.Default).DifferentiateUnconverged;
            double mu = (options ?? MpcOptions.Default).ControlRegularization;
            string? bad = CheckElements(sol, b => IndependentKkt.Check(problem, sol, b, mu), problem.ControlLower, problem.ControlUpper,
                nonlinear: false, tally, 1e-8, strict, skipKkt: !strict && extreme);
            bad ??= CheckGradients(sol, differentiateUnconverged, strict,
                [(C, g.CostQuadratic, N * N), (c, g.CostLinear, N), (F, g.Dynamics, n * N), (f, g.DynamicsOffset, n),
                    (lo, g.ControlLower, m), (hi, g.ControlUpper, m)], g.XInit, n);
            return bad is null ? null : $"{bad} ({describe})";
        };
    }

    // ---- iLQR ----

    private static FuzzCase IlqrInput(Random r, bool strict)
    {
        (int T, int B, _) = Sizes(r, 1);
        const int n = 3, m = 1, N = 4;
        var d = new MpcDimensions(T, B, n, m);
        double[] theta = r.Next(6) switch
        {
            0 => [10, 0, 1],                     // zero mass: division by zero
            1 => [10, 1, -1],                    // negative length
            2 => [1e300, 1, 1e-300],
            3 => Fill(r, 3, Garbage),
            _ => [10 * (0.5 + r.NextDouble()), 0.5 + r.NextDouble(), 0.5 + r.NextDouble()],
        };
        double[] xInit = r.Next(4) switch
        {
            0 => Vectors(r, B * n, out _),       // off the unit circle, possibly huge / garbage
            _ => [.. Enumerable.Range(0, B).SelectMany(_ =>
            {
                double th = (2 * r.NextDouble() - 1) * Math.PI;
                return new[] { Math.Cos(th), Math.Sin(th), Normal(r) };
            })],
        };
        string cm = "", vm = "";
        StageArray C = Wrap(r, l => CostMatrices(r, Layouts.Length(l, T, B, N * N) / (N * N), N, n, out cm), out Layout cl);
        StageArray c = Wrap(r, l => Vectors(r, Layouts.Length(l, T, B, N), out vm), out _);
        (StageArray? lo, StageArray? hi, string bm) = Bounds(r, T, B, m);
        (MpcOptions? options, bool badOptions, string om) = Options(r);
        bool invalid = B == 0 || badOptions || AnyNonFinite(theta) || AnyNonFinite(xInit) || AnyNonFinite(C.Data)
            || AnyNonFinite(c.Data) || BoundsInvalid(lo, hi, d);
        double[] dLdx = Fill(r, T * B * n, Normal), dLdu = Fill(r, T * B * m, Normal);
        string describe = $"{d}, theta [{string.Join(", ", theta)}], C {cm} ({cl}), c {vm}, bounds {bm}, options {om}";

        return tally =>
        {
            MpcSolution sol;
            NonlinearProblem problem;
            try
            {
                problem = new NonlinearProblem(d, PendulumSpec.Model, theta, xInit, C, c, lo, hi);
                sol = Mpc.Solve(problem, options);
            }
            catch (ArgumentException e)
            {
                Interlocked.Increment(ref tally.Rejected);
                return invalid ? null : $"valid input rejected ({describe}): {e.GetType().Name}: {e.Message}";
            }
            if (invalid)
            {
                return $"invalid input accepted ({describe})";
            }
            Interlocked.Increment(ref tally.Solved);
            NonlinearGradients g = Mpc.BackwardNonlinear(sol, dLdx, dLdu);
            if (strict && g.Parameters.Any(double.IsNaN))
            {
                return $"NaN in dL/dtheta ({describe})";
            }
            bool differentiateUnconverged = (options ?? MpcOptions.Default).DifferentiateUnconverged;
            bool atClamp = Enumerable.Range(0, B).Any(b => sol.Status[b] == SolveStatus.Converged
                && Enumerable.Range(0, T).Any(t => Math.Abs(sol.U[t * B + b]) >= 2 - 1e-9));
            if (atClamp && !strict)
            {
                // Known library bug (IlqrPropertyTests ..._Unbounded): false convergence at the
                // model's own torque clamp. Counted, not asserted here; see the skipped test below.
                Interlocked.Increment(ref tally.Unverifiable);
                return null;
            }
            double mu = (options ?? MpcOptions.Default).ControlRegularization;
            string? bad = CheckElements(sol, b => IndependentKkt.Check(problem, sol, b, mu), lo, hi, nonlinear: true, tally, 1e-6, strict);
            bad ??= CheckGradients(sol, differentiateUnconverged, strict, [(C, g.CostQuadratic, N * N), (c, g.CostLinear, N),
                (lo, g.ControlLower, m), (hi, g.ControlUpper, m)], g.XInit, n);
            return bad is null ? null : $"{bad} ({describe})";
        };
    }

    [Fact]
    public void Ilqr_GarbageInputs_IncludingSolutionsAtTheTorqueClamp() =>
        RunFuzz("iLQR (clamp included)", IlqrInputs, i => IlqrInput(new Random(Seed * 1_000_003 + 500_000 + i), strict: true));

    // ---- checks ----

    private static string? CheckElements(MpcSolution sol, Func<int, IndependentKkt.Result> kkt, StageArray? lo, StageArray? hi,
        bool nonlinear, Tally tally, double relTol, bool strict, bool skipKkt = false)
    {
        MpcDimensions d = sol.Dimensions;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim;
        for (int b = 0; b < B; b++)
        {
            SolveStatus s = sol.Status[b];
            if (!Enum.IsDefined(s))
            {
                return $"element {b}: undefined status {(int)s}";
            }
            lock (tally.Statuses)
            {
                tally.Statuses[s] = tally.Statuses.GetValueOrDefault(s) + 1;
            }
            double[] x = Batch.Slice(sol.X, T, B, n, b), u = Batch.Slice(sol.U, T, B, m, b), lam = Batch.Slice(sol.Costates, T, B, n, b);
            switch (s)
            {
                case SolveStatus.Converged:
                    if (x.Concat(u).Concat(lam).Any(v => !double.IsFinite(v)) || !double.IsFinite(sol.Cost[b]) || !double.IsFinite(sol.KktResidual[b]))
                    {
                        return $"element {b}: Converged with non-finite X/U/costates/cost/residual (cost {sol.Cost[b]}, residual {sol.KktResidual[b]})";
                    }
                    if (skipKkt)
                    {
                        Interlocked.Increment(ref tally.Unverifiable);
                        break;
                    }
                    IndependentKkt.Result r = kkt(b);
                    if (!r.Feasible)
                    {
                        return $"element {b}: Converged but outside its bounds";
                    }
                    bool extreme = !(r.Scale is > 1e-250 and < 1e250);
                    if (!double.IsFinite(r.Residual) || !double.IsFinite(r.Scale) || !double.IsFinite(r.RelativeResidual) || (extreme && !strict))
                    {
                        Interlocked.Increment(ref tally.Unverifiable);
                        break;
                    }
                    lock (tally)
                    {
                        tally.WorstRelativeResidual = Math.Max(tally.WorstRelativeResidual, r.RelativeResidual);
                    }
                    if (!(r.RelativeResidual <= relTol) || !(r.DynamicsError <= 1e-10))
                    {
                        return string.Create(CultureInfo.InvariantCulture,
                            $"element {b}: Converged but KKT violated: {r}, library residual {sol.KktResidual[b]:G3}");
                    }
                    break;
                case SolveStatus.NotPositiveDefinite or SolveStatus.NonFinite:
                    if (x.Concat(u).Concat(lam).Any(v => !double.IsNaN(v)) || !double.IsNaN(sol.Cost[b]))
                    {
                        return $"element {b}: {s} but X/U/costates/cost are not all NaN as documented";
                    }
                    break;
                case SolveStatus.MaxIterations or SolveStatus.LineSearchFailed or SolveStatus.NotStrictLocalMinimum:
                    if (s == SolveStatus.NotStrictLocalMinimum && !nonlinear)
                    {
                        return $"element {b}: NotStrictLocalMinimum from a linear problem";
                    }
                    for (int t = 0; t < T; t++)
                    {
                        for (int i = 0; i < m; i++)
                        {
                            double v = u[t * m + i];
                            if (!(v >= BoxTestProblems.BoundAt(lo, d, t, b, i, true) && v <= BoxTestProblems.BoundAt(hi, d, t, b, i, false)))
                            {
                                return $"element {b}: {s} but its iterate u = {v} is not feasible";
                            }
                        }
                    }
                    break;
            }
        }
        return null;
    }

    private static string? CheckGradients(MpcSolution sol, bool differentiateUnconverged, bool strict,
        (StageArray? Input, double[]? Grad, int Size)[] grads, double[] xInitGrad, int n)
    {
        MpcDimensions d = sol.Dimensions;
        int B = d.BatchSize;
        bool Differentiable(int b) => sol.Status[b] == SolveStatus.Converged
            || (differentiateUnconverged && sol.Status[b] is SolveStatus.MaxIterations or SolveStatus.LineSearchFailed);
        bool none = Enumerable.Range(0, B).All(b => !Differentiable(b));
        foreach ((StageArray? input, double[]? grad, int size) in grads)
        {
            if (input is null)
            {
                continue;
            }
            if (grad is null || grad.Length != input.Data.Length)
            {
                return $"gradient of an input of {input.Data.Length} values has {grad?.Length.ToString(CultureInfo.InvariantCulture) ?? "null"}";
            }
            if (strict && grad.Any(double.IsNaN))
            {
                return $"NaN in a gradient (input of {input.Data.Length} values; statuses {string.Join(",", sol.Status)})";
            }
            if (none && grad.Any(v => v != 0))
            {
                return "no element is differentiable, yet a gradient is non-zero";
            }
            if (input.IsScalar || input.SharedOverBatch)
            {
                continue;
            }
            int stages = input.SharedOverTime ? 1 : grad.Length / (B * size);
            for (int b = 0; b < B; b++)
            {
                if (!Differentiable(b) && Batch.Slice(grad, stages, B, size, b).Any(v => v != 0))
                {
                    return $"element {b} ({sol.Status[b]}) has a non-zero gradient";
                }
            }
        }
        for (int b = 0; b < B; b++)
        {
            if (!Differentiable(b) && xInitGrad.AsSpan(b * n, n).ToArray().Any(v => v != 0))
            {
                return $"element {b} ({sol.Status[b]}) has a non-zero dL/dx_init";
            }
        }
        return strict && xInitGrad.Any(double.IsNaN) ? "NaN in dL/dx_init" : null;
    }
}
