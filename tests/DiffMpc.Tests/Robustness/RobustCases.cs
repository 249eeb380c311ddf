// Problems for the robustness tests: CsCheck generators of sizes and layouts (the data itself
// comes from the seeded generators in Support/RandomLqr.cs), control bounds in every layout,
// pendulum problems, and helpers that permute, expand and slice batches.
using CsCheck;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Systems;
using DiffMpc.Tests.Support;
using SupportRandomLqr = DiffMpc.Tests.Support.RandomLqr;

namespace DiffMpc.Tests.Robustness;

/// <summary>How a control bound is stored.</summary>
internal enum BoundLayout
{
    PerStage,
    TimeInvariant,
    BatchShared,
    Shared,
    Scalar,
}

/// <summary>Which bounds a problem has.</summary>
internal enum BoundKind
{
    Both,
    LowerOnly,
    UpperOnly,
    MixedInfinite,
}

/// <summary>
/// A random LQR or box-constrained LQR problem: sizes, layouts and a data seed. Shrinking moves
/// every size towards 1, every layout towards per-stage and the seed towards 0.
/// </summary>
internal sealed record LqrSpec(int T, int B, int N, int M, Layout C, Layout Cl, Layout F, Layout? Fo,
    BoundLayout? Bounds, BoundKind Kind, int Seed)
{
    public MpcDimensions Dims => new(T, B, N, M);

    /// <summary>Unconstrained LQR: n, m 1..8, T 1..15, B 1..6, every broadcast layout.</summary>
    public static Gen<LqrSpec> Lqr { get; } =
        Gen.Select(Gen.Int[1, 15], Gen.Int[1, 6], Gen.Int[1, 8], Gen.Int[1, 8], Layouts4, Layouts4, Layouts4,
            Gen.Int[0, 4], Gen.Int[0, 1_000_000],
            (T, B, n, m, C, c, F, f, seed) => new LqrSpec(T, B, n, m, C, c, F, f == 4 ? null : (Layout)f, null, BoundKind.Both, seed));

    /// <summary>Box-constrained LQR: as <see cref="Lqr"/> plus bounds in every layout and kind.</summary>
    public static Gen<LqrSpec> Box { get; } =
        Gen.Select(Lqr, Gen.Int[0, 4], Gen.Int[0, 3],
            (s, layout, kind) => s with { Bounds = (BoundLayout)layout, Kind = (BoundKind)kind });

    private static Gen<Layout> Layouts4 => Gen.Int[0, 3].Select(i => (Layout)i);

    public LqrInstance Build() => LqrInstance.Create(this);
}

/// <summary>A built problem with references to its arrays (the problem references them too).</summary>
internal sealed class LqrInstance
{
    private LqrInstance(LqrSpec spec, LqrCase lqr, StageArray? lo, StageArray? hi, LqrProblem problem)
    {
        Spec = spec;
        Lqr = lqr;
        Lower = lo;
        Upper = hi;
        Problem = problem;
    }

    public LqrSpec Spec { get; }

    public LqrCase Lqr { get; }

    public StageArray? Lower { get; }

    public StageArray? Upper { get; }

    public LqrProblem Problem { get; }

    public MpcDimensions Dims => Problem.Dimensions;

    public static LqrInstance Create(LqrSpec s)
    {
        LqrCase lqr = SupportRandomLqr.Create(s.Seed, s.Dims, s.C, s.Cl, s.F, s.Fo);
        (StageArray? lo, StageArray? hi) = s.Bounds is { } layout ? MakeBounds(s, layout) : (null, null);
        var problem = new LqrProblem(s.Dims, lqr.XInit, lqr.C, lqr.c, lqr.F, lqr.f, lo, hi);
        return new LqrInstance(s, lqr, lo, hi, problem);
    }

    /// <summary>The same data with new arrays in the given layouts (for expansion / permutation).</summary>
    public static LqrInstance FromArrays(LqrSpec spec, LqrCase lqr, StageArray? lo, StageArray? hi) =>
        new(spec, lqr, lo, hi, new LqrProblem(lqr.Dims, lqr.XInit, lqr.C, lqr.c, lqr.F, lqr.f, lo, hi));

    /// <summary>Every input array by the name of its gradient.</summary>
    public IEnumerable<(string Name, double[] Data)> Inputs()
    {
        foreach ((string name, double[] data) in Lqr.Inputs())
        {
            yield return (name, data);
        }
        if (Lower is not null)
        {
            yield return ("uLower", Lower.Data);
        }
        if (Upper is not null)
        {
            yield return ("uUpper", Upper.Data);
        }
    }

    private static (StageArray? Lo, StageArray? Hi) MakeBounds(LqrSpec s, BoundLayout layout)
    {
        var rng = new Random(s.Seed ^ 0x2468ACE);
        int count = layout switch
        {
            BoundLayout.PerStage => s.T * s.B * s.M,
            BoundLayout.TimeInvariant => s.B * s.M,
            BoundLayout.BatchShared => s.T * s.M,
            BoundLayout.Shared => s.M,
            _ => 1,
        };
        double[] lo = new double[count], hi = new double[count];
        for (int i = 0; i < count; i++)
        {
            lo[i] = -(0.1 + 0.9 * rng.NextDouble());
            hi[i] = 0.1 + 0.9 * rng.NextDouble();
            if (s.Kind == BoundKind.MixedInfinite && layout != BoundLayout.Scalar)
            {
                if (rng.NextDouble() < 0.3)
                {
                    lo[i] = double.NegativeInfinity;
                }
                if (rng.NextDouble() < 0.3)
                {
                    hi[i] = double.PositiveInfinity;
                }
            }
        }
        StageArray Wrap(double[] d) => layout switch
        {
            BoundLayout.PerStage => StageArray.PerStage(d),
            BoundLayout.TimeInvariant => StageArray.TimeInvariant(d),
            BoundLayout.BatchShared => StageArray.BatchShared(d),
            BoundLayout.Shared => StageArray.Shared(d),
            _ => StageArray.Scalar(d[0]),
        };
        return (s.Kind == BoundKind.UpperOnly ? null : Wrap(lo), s.Kind == BoundKind.LowerOnly ? null : Wrap(hi));
    }
}

/// <summary>
/// A random pendulum iLQR problem (n = 3, m = 1): start angle, speed, parameters, cost weights
/// and bounds from the seed; C shared or per stage, bounds absent, scalar or per stage.
/// </summary>
internal sealed record PendulumSpec(int T, int B, bool PerStageCost, int BoundMode, int Seed)
{
    /// <summary>Any problem: no bounds (BoundMode 0), scalar bounds (1) or per-stage bounds (2).</summary>
    public static Gen<PendulumSpec> Gen { get; } = Make(0, 2);

    /// <summary>Bounds inside the model's own torque clamp [-2, 2] (BoundMode 1 or 2).</summary>
    public static Gen<PendulumSpec> Bounded { get; } = Make(1, 2);

    /// <summary>No bounds: the optimum may sit at or beyond the model's torque clamp.</summary>
    public static Gen<PendulumSpec> Unbounded { get; } = Make(0, 0);

    private static Gen<PendulumSpec> Make(int boundsFrom, int boundsTo) =>
        CsCheck.Gen.Select(CsCheck.Gen.Int[1, 6], CsCheck.Gen.Int[1, 3], CsCheck.Gen.Bool, CsCheck.Gen.Int[boundsFrom, boundsTo],
            CsCheck.Gen.Int[0, 1_000_000], (T, B, perStage, bounds, seed) => new PendulumSpec(T, B, perStage, bounds, seed));

    /// <summary>The shared model instance (stateless and documented thread-safe).</summary>
    public static Pendulum Model { get; } = new();

    public MpcDimensions Dims => new(T, B, 3, 1);

    public PendulumInstance Build()
    {
        var rng = new Random(Seed);
        double U(double a, double b) => a + (b - a) * rng.NextDouble();
        int N = 4;
        double[] theta = [U(8, 12), U(0.5, 2), U(0.5, 2)];
        double[] xInit = new double[B * 3];
        for (int b = 0; b < B; b++)
        {
            double th = U(-Math.PI, Math.PI);
            xInit[b * 3] = Math.Cos(th);
            xInit[b * 3 + 1] = Math.Sin(th);
            xInit[b * 3 + 2] = U(-1, 1);
        }
        int blocks = PerStageCost ? T * B : 1;
        double[] C = new double[blocks * N * N], c = new double[blocks * N];
        double[] q = Pendulum.CostDiagQ, p = Pendulum.CostP;
        for (int e = 0; e < blocks; e++)
        {
            for (int i = 0; i < N; i++)
            {
                C[e * N * N + i * N + i] = q[i] * U(0.5, 2) + (i == 3 ? 0.01 : 0);
                c[e * N + i] = p[i] + U(-0.2, 0.2);
            }
        }
        StageArray Cs = PerStageCost ? StageArray.PerStage(C) : StageArray.Shared(C);
        StageArray cs = PerStageCost ? StageArray.PerStage(c) : StageArray.Shared(c);
        StageArray? lo = null, hi = null;
        if (BoundMode == 1)
        {
            double a = U(0.5, 1.9);
            (lo, hi) = (StageArray.Scalar(-a), StageArray.Scalar(a));
        }
        else if (BoundMode == 2)
        {
            double[] l = new double[T * B], h = new double[T * B];
            for (int i = 0; i < l.Length; i++)
            {
                (l[i], h[i]) = (-U(0.3, 1.9), U(0.3, 1.9));
            }
            (lo, hi) = (StageArray.PerStage(l), StageArray.PerStage(h));
        }
        return new PendulumInstance(this, new NonlinearProblem(Dims, Model, theta, xInit, Cs, cs, lo, hi));
    }
}

internal sealed class PendulumInstance(PendulumSpec spec, NonlinearProblem problem)
{
    public PendulumSpec Spec { get; } = spec;

    public NonlinearProblem Problem { get; } = problem;

    public IEnumerable<(string Name, double[] Data)> Inputs()
    {
        yield return ("parameters", Problem.Parameters);
        yield return ("xInit", Problem.XInit);
        yield return ("C", Problem.CostQuadratic.Data);
        yield return ("c", Problem.CostLinear.Data);
        if (Problem.ControlLower is { IsScalar: false } lo)
        {
            yield return ("uLower", lo.Data);
        }
        if (Problem.ControlUpper is { IsScalar: false } hi)
        {
            yield return ("uUpper", hi.Data);
        }
    }
}

/// <summary>Batch permutation, expansion to per-stage layouts and slicing.</summary>
internal static class Batch
{
    /// <summary>A permutation of 0..B-1 from a seed (new element j is old element perm[j]).</summary>
    public static int[] Permutation(int B, int seed)
    {
        var rng = new Random(seed);
        int[] perm = [.. Enumerable.Range(0, B)];
        for (int i = B - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        if (B > 1 && perm.SequenceEqual(Enumerable.Range(0, B)))
        {
            (perm[0], perm[1]) = (perm[1], perm[0]);
        }
        return perm;
    }

    /// <summary>
    /// Permutes the batch axis of an input: new element j takes old element perm[j]. Inputs
    /// without a batch axis are returned unchanged (the same object).
    /// </summary>
    public static StageArray? Permute(StageArray? a, int stages, int B, int size, int[] perm)
    {
        if (a is null || a.IsScalar || a.SharedOverBatch)
        {
            return a;
        }
        int stageCount = a.SharedOverTime ? 1 : stages;
        double[] d = new double[a.Data.Length];
        for (int t = 0; t < stageCount; t++)
        {
            for (int j = 0; j < B; j++)
            {
                Array.Copy(a.Data, (t * B + perm[j]) * size, d, (t * B + j) * size, size);
            }
        }
        return a.SharedOverTime ? StageArray.TimeInvariant(d) : StageArray.PerStage(d);
    }

    /// <summary>Permutes a plain [S][B][size] array.</summary>
    public static double[] Permute(double[] a, int stages, int B, int size, int[] perm)
    {
        double[] d = new double[a.Length];
        for (int t = 0; t < stages; t++)
        {
            for (int j = 0; j < B; j++)
            {
                Array.Copy(a, (t * B + perm[j]) * size, d, (t * B + j) * size, size);
            }
        }
        return d;
    }

    /// <summary>The input as a full [S][B][size] per-stage array (a copy).</summary>
    public static StageArray? Expand(StageArray? a, int stages, int B, int size)
    {
        if (a is null)
        {
            return null;
        }
        double[] d = new double[stages * B * size];
        for (int t = 0; t < stages; t++)
        {
            for (int b = 0; b < B; b++)
            {
                for (int i = 0; i < size; i++)
                {
                    d[(t * B + b) * size + i] = a.IsScalar ? a.Data[0] : a.Data[Layouts.Offset(a, t, b, B, size) + i];
                }
            }
        }
        return StageArray.PerStage(d);
    }

    /// <summary>A per-stage gradient [S][B][size] summed into the layout of <paramref name="a"/>.</summary>
    public static double[] SumInto(StageArray a, double[] perStage, int stages, int B, int size)
    {
        double[] sum = new double[a.Data.Length];
        for (int t = 0; t < stages; t++)
        {
            for (int b = 0; b < B; b++)
            {
                int dst = a.IsScalar ? 0 : Layouts.Offset(a, t, b, B, size);
                for (int i = 0; i < size; i++)
                {
                    sum[dst + (a.IsScalar ? 0 : i)] += perStage[(t * B + b) * size + i];
                }
            }
        }
        return sum;
    }

    /// <summary>Element b's entries of a [S][B][size] array, as [S][size].</summary>
    public static double[] Slice(double[] a, int stages, int B, int size, int b)
    {
        double[] r = new double[stages * size];
        for (int t = 0; t < stages; t++)
        {
            Array.Copy(a, (t * B + b) * size, r, t * size, size);
        }
        return r;
    }

    /// <summary>Deep copies of a solution's arrays, by name.</summary>
    public static Dictionary<string, double[]> Copy(MpcSolution s) => new(StringComparer.Ordinal)
    {
        ["X"] = (double[])s.X.Clone(),
        ["U"] = (double[])s.U.Clone(),
        ["Costates"] = (double[])s.Costates.Clone(),
        ["Cost"] = (double[])s.Cost.Clone(),
        ["StepNorm"] = (double[])s.StepNorm.Clone(),
        ["KktResidual"] = (double[])s.KktResidual.Clone(),
        ["Status"] = [.. s.Status.Select(v => (double)v)],
        ["Iterations"] = [.. s.Iterations.Select(v => (double)v)],
        ["ActiveBounds"] = [.. s.ActiveBounds.Select(v => (double)v)],
    };

    /// <summary>Deep copies of LQR gradients, by input name (absent ones omitted).</summary>
    public static Dictionary<string, double[]> Copy(MpcGradients g)
    {
        var d = new Dictionary<string, double[]>(StringComparer.Ordinal)
        {
            ["C"] = (double[])g.CostQuadratic.Clone(),
            ["c"] = (double[])g.CostLinear.Clone(),
            ["F"] = (double[])g.Dynamics.Clone(),
            ["xInit"] = (double[])g.XInit.Clone(),
        };
        if (g.DynamicsOffset is not null)
        {
            d["f"] = (double[])g.DynamicsOffset.Clone();
        }
        if (g.ControlLower is not null)
        {
            d["uLower"] = (double[])g.ControlLower.Clone();
        }
        if (g.ControlUpper is not null)
        {
            d["uUpper"] = (double[])g.ControlUpper.Clone();
        }
        return d;
    }

    /// <summary>Deep copies of nonlinear gradients, by input name (absent ones omitted).</summary>
    public static Dictionary<string, double[]> Copy(NonlinearGradients g)
    {
        var d = new Dictionary<string, double[]>(StringComparer.Ordinal)
        {
            ["parameters"] = (double[])g.Parameters.Clone(),
            ["C"] = (double[])g.CostQuadratic!.Clone(),
            ["c"] = (double[])g.CostLinear!.Clone(),
            ["xInit"] = (double[])g.XInit.Clone(),
        };
        if (g.ControlLower is not null)
        {
            d["uLower"] = (double[])g.ControlLower.Clone();
        }
        if (g.ControlUpper is not null)
        {
            d["uUpper"] = (double[])g.ControlUpper.Clone();
        }
        return d;
    }

    /// <summary>Asserts two named array sets are bitwise identical.</summary>
    public static void AssertBitwise(Dictionary<string, double[]> expected, Dictionary<string, double[]> actual, string what)
    {
        Xunit.Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, double[] e) in expected)
        {
            Bitwise.Equal(e, actual[name], $"{what}: {name}");
        }
    }
}
