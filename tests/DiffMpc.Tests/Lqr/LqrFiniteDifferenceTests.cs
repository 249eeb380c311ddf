using System.Text;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// Every gradient of <see cref="Mpc.Backward"/> (C, c, F, f, x_init) against central finite
/// differences of L = sum wx .* x + sum wu .* u, for random problems of many sizes and for every
/// broadcast layout. Small inputs are checked entry by entry; large ones on 12 random entries
/// (always including the first and last) plus 2 random directional derivatives.
/// </summary>
public sealed class LqrFiniteDifferenceTests(ITestOutputHelper output)
{
    /// <summary>seed, T, B, n, m: covers T = 1..30, B = 1..8, n = 1..12, m = 1..12.</summary>
    public static TheoryData<int, int, int, int, int> Sizes => new()
    {
        { 1, 1, 1, 1, 1 },
        { 2, 1, 4, 3, 2 },
        { 3, 2, 2, 1, 1 },
        { 4, 3, 8, 2, 5 },
        { 5, 5, 3, 6, 1 },
        { 6, 6, 1, 1, 12 },
        { 7, 8, 2, 12, 12 },
        { 8, 12, 2, 8, 7 },
        { 9, 20, 3, 12, 4 },
        { 10, 30, 1, 1, 1 },
        { 11, 30, 4, 5, 3 },
    };

    /// <summary>Every input that can be broadcast, with every non-default layout.</summary>
    public static TheoryData<string, Layout> Broadcasts()
    {
        var data = new TheoryData<string, Layout>();
        foreach (string input in new[] { "C", "c", "F", "f" })
        {
            foreach (Layout layout in new[] { Layout.TimeInvariant, Layout.BatchShared, Layout.Shared })
            {
                data.Add(input, layout);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Gradients_MatchCentralDifferences(int seed, int T, int B, int n, int m)
    {
        var check = new GradientCheck(RandomLqr.Create(seed, new MpcDimensions(T, B, n, m)), seed);
        check.CheckAll();
        output.WriteLine($"{check.Checked} derivatives checked; worst error / tolerance = {check.WorstRatio:G3}");
        Assert.True(check.Checked >= 5);
    }

    [Theory]
    [MemberData(nameof(Broadcasts))]
    public void BroadcastInput_GradientIsSumOverSharedStages(string input, Layout layout)
    {
        var dims = new MpcDimensions(4, 3, 3, 2);
        LqrCase lqr = RandomLqr.Create(100 + (int)layout, dims,
            C: input == "C" ? layout : Layout.PerStage,
            c: input == "c" ? layout : Layout.PerStage,
            F: input == "F" ? layout : Layout.PerStage,
            f: input == "f" ? layout : Layout.PerStage);
        StageArray arr = input switch { "C" => lqr.C, "c" => lqr.c, "F" => lqr.F, _ => lqr.f! };
        Assert.Equal(layout is Layout.TimeInvariant or Layout.Shared, arr.SharedOverTime);
        Assert.Equal(layout is Layout.BatchShared or Layout.Shared, arr.SharedOverBatch);

        var check = new GradientCheck(lqr, 100 + (int)layout);
        check.CheckAll();
    }

    [Fact]
    public void BroadcastInputs_AllShared_LargeProblem()
    {
        // Every input broadcast at once, on a size where the shared entries collect many terms.
        var dims = new MpcDimensions(30, 5, 5, 3);
        LqrCase lqr = RandomLqr.Create(21, dims, C: Layout.Shared, c: Layout.TimeInvariant, F: Layout.BatchShared,
            f: Layout.Shared);
        new GradientCheck(lqr, 21).CheckAll();
    }

    [Fact]
    public void BroadcastGradient_EqualsSumOfPerStageGradient()
    {
        // The same problem stored shared and expanded to per-stage: the shared gradient must equal
        // the per-stage gradient summed over the shared axes.
        var dims = new MpcDimensions(5, 3, 2, 2);
        LqrCase shared = RandomLqr.Create(31, dims, C: Layout.Shared, c: Layout.BatchShared, F: Layout.TimeInvariant,
            f: Layout.Shared);
        LqrCase expanded = Expand(shared);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(31, dims);

        MpcGradients gs = Mpc.Backward(Mpc.Solve(shared.Problem), wx, wu);
        MpcSolution solE = Mpc.Solve(expanded.Problem);
        MpcGradients ge = Mpc.Backward(solE, wx, wu);

        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, N = dims.TauDim;
        Compare.Relative(SumOver(shared.C, ge.CostQuadratic, T, B, N * N), gs.CostQuadratic, 1e-11, "dL/dC");
        Compare.Relative(SumOver(shared.c, ge.CostLinear, T, B, N), gs.CostLinear, 1e-11, "dL/dc");
        Compare.Relative(SumOver(shared.F, ge.Dynamics, T - 1, B, n * N), gs.Dynamics, 1e-11, "dL/dF");
        Compare.Relative(SumOver(shared.f!, ge.DynamicsOffset!, T - 1, B, n), gs.DynamicsOffset!, 1e-11, "dL/df");
        Compare.Relative(ge.XInit, gs.XInit, 1e-11, "dL/dx_init");
    }

    [Fact]
    public void OmittedOffset_GradientsMatchFiniteDifferences_AndEqualZeroOffset()
    {
        var dims = new MpcDimensions(6, 3, 4, 2);
        LqrCase without = RandomLqr.Create(41, dims, f: null);
        var check = new GradientCheck(without, 41);
        check.CheckAll();

        // f omitted behaves exactly like f = 0, and reports no f gradient.
        var withZero = new LqrCase(dims, without.XInit, without.C, without.c, without.F,
            StageArray.PerStage(new double[(dims.Horizon - 1) * dims.BatchSize * dims.StateDim]));
        (double[] wx, double[] wu) = check.Weights;
        MpcSolution s0 = Mpc.Solve(without.Problem);
        MpcGradients g0 = Mpc.Backward(s0, wx, wu);
        Assert.Null(g0.DynamicsOffset);
        MpcSolution s1 = Mpc.Solve(withZero.Problem);
        MpcGradients g1 = Mpc.Backward(s1, wx, wu);
        Compare.Absolute(s1.X, s0.X, 1e-12, "x");
        Compare.Absolute(s1.U, s0.U, 1e-12, "u");
        Compare.Absolute(g1.CostQuadratic, g0.CostQuadratic, 1e-12, "dL/dC");
        Compare.Absolute(g1.Dynamics, g0.Dynamics, 1e-12, "dL/dF");
        Compare.Absolute(g1.XInit, g0.XInit, 1e-12, "dL/dx_init");
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(4, 2, 3, 2)]
    [InlineData(7, 3, 5, 4)]
    public void NonSymmetricC_EntryDerivativeEqualsSymmetrisedGradient(int T, int B, int n, int m)
    {
        var dims = new MpcDimensions(T, B, n, m);
        int N = dims.TauDim;
        LqrCase asym = RandomLqr.Create(50 + T, dims, asymmetricC: true);
        var check = new GradientCheck(asym, 50 + T);
        Dictionary<string, double[]> grads = check.AnalyticGradients();
        double[] G = grads["C"];

        // Only the symmetric part enters the problem: the solution equals that of sym(C).
        LqrCase sym = Symmetrised(asym);
        MpcSolution sA = Mpc.Solve(asym.Problem);
        double[] xA = (double[])sA.X.Clone(), uA = (double[])sA.U.Clone();
        MpcSolution sS = Mpc.Solve(sym.Problem);
        Compare.Absolute(sS.X, xA, 1e-12, "x(C) vs x(sym C)");
        Compare.Absolute(sS.U, uA, 1e-12, "u(C) vs u(sym C)");

        // The returned gradient is symmetric: entry ij = 1/2 (G_ij + G_ji) of the symmetric-part
        // gradient, which is what perturbing C_ij alone measures.
        for (int e = 0; e < G.Length / (N * N); e++)
        {
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    Assert.Equal(G[e * N * N + i * N + j], G[e * N * N + j * N + i]);
                }
            }
        }

        // Perturb C_ij and C_ji separately (upper and lower triangle, and the diagonal) at
        // every stage of element 0: each finite difference must equal the returned entry.
        var entries = new List<int>();
        for (int t = 0; t < T; t++)
        {
            int off = Layouts.Offset(asym.C, t, 0, B, N * N);
            entries.Add(off + 0);
            entries.Add(off + (N - 1) * N);            // C[N-1, 0]
            entries.Add(off + (N - 1));                // C[0, N-1]
            entries.Add(off + (N - 1) * N + N - 1);    // C[N-1, N-1]
            if (N > 2)
            {
                entries.Add(off + 1 * N + 2);
                entries.Add(off + 2 * N + 1);
            }
        }
        var failures = new StringBuilder();
        check.CheckEntries("C", asym.C.Data, G, entries.Distinct(), failures);
        if (failures.Length > 0)
        {
            throw new XunitException(failures.ToString());
        }

        // And the rest of the gradients, as for any problem.
        check.CheckAll();
    }

    [Fact]
    public void Checker_RejectsSlightlyWrongGradients()
    {
        // Guards the checker itself: a gradient entry off by a relative 1e-4, or dL/dF transposed
        // in its state block, must be reported.
        var dims = new MpcDimensions(4, 2, 3, 2);
        LqrCase lqr = RandomLqr.Create(61, dims);
        var check = new GradientCheck(lqr, 61);
        Dictionary<string, double[]> grads = check.AnalyticGradients();
        foreach ((string name, double[] data) in lqr.Inputs())
        {
            double[] bad = (double[])grads[name].Clone();
            int k = Array.IndexOf(bad, bad.MaxBy(Math.Abs));
            bad[k] *= 1 + 1e-4;
            var failures = new StringBuilder();
            check.CheckEntries(name, data, bad, [k], failures);
            Assert.True(failures.Length > 0, $"a 1e-4 relative error in dL/d{name}[{k}] went unnoticed");
        }

        double[] dF = (double[])grads["F"].Clone();
        int n = dims.StateDim, N = dims.TauDim;
        (dF[0 * N + 1], dF[1 * N + 0]) = (dF[1 * N + 0], dF[0 * N + 1]);
        var transposed = new StringBuilder();
        check.CheckEntries("F", lqr.F.Data, dF, [0 * N + 1, 1 * N + 0], transposed);
        Assert.True(n > 1 && transposed.Length > 0, "a transposed dL/dF went unnoticed");
    }

    private static LqrCase Symmetrised(LqrCase k)
    {
        int N = k.Dims.TauDim;
        double[] C = (double[])k.C.Data.Clone();
        for (int e = 0; e < C.Length / (N * N); e++)
        {
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    double s = 0.5 * (C[e * N * N + i * N + j] + C[e * N * N + j * N + i]);
                    C[e * N * N + i * N + j] = s;
                    C[e * N * N + j * N + i] = s;
                }
            }
        }
        return new LqrCase(k.Dims, k.XInit, StageArray.PerStage(C), k.c, k.F, k.f);
    }

    private static LqrCase Expand(LqrCase k)
    {
        int T = k.T, B = k.B, n = k.N, N = k.Dims.TauDim;
        double[] C = new double[T * B * N * N], c = new double[T * B * N];
        double[] F = new double[(T - 1) * B * n * N], f = new double[(T - 1) * B * n];
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                k.CAt(t, b).CopyTo(C.AsSpan((t * B + b) * N * N));
                k.cAt(t, b).CopyTo(c.AsSpan((t * B + b) * N));
                if (t < T - 1)
                {
                    k.FAt(t, b).CopyTo(F.AsSpan((t * B + b) * n * N));
                    k.fAt(t, b).CopyTo(f.AsSpan((t * B + b) * n));
                }
            }
        }
        return new LqrCase(k.Dims, k.XInit, StageArray.PerStage(C), StageArray.PerStage(c), StageArray.PerStage(F),
            k.f is null ? null : StageArray.PerStage(f));
    }

    private static double[] SumOver(StageArray layout, double[] perStage, int stages, int batch, int size)
    {
        var sum = new double[layout.Data.Length];
        for (int t = 0; t < stages; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                int dst = Layouts.Offset(layout, t, b, batch, size);
                for (int i = 0; i < size; i++)
                {
                    sum[dst + i] += perStage[(t * batch + b) * size + i];
                }
            }
        }
        return sum;
    }
}
