using System.Globalization;
using System.Text.RegularExpressions;
using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// Bad input at the public boundary: every failure is an <see cref="ArgumentException"/> (or a
/// subclass) naming the offending argument, and shape errors state the expected and the given
/// number of values.
/// </summary>
public sealed class LqrValidationTests
{
    // T = 4, B = 2, n = 3, m = 2 (N = 5): every layout of every input has a distinct length.
    private static readonly MpcDimensions Dims = new(4, 2, 3, 2);

    public static TheoryData<string, Layout, int> WrongLengths()
    {
        var data = new TheoryData<string, Layout, int>();
        foreach (string input in new[] { "C", "c", "F", "f" })
        {
            foreach (Layout layout in Enum.GetValues<Layout>())
            {
                data.Add(input, layout, -1);
                data.Add(input, layout, +1);
            }
        }
        return data;
    }

    public static TheoryData<string, Layout, Layout> WrongLayouts()
    {
        // The data of one layout declared as another (a common slip: passing a per-stage array
        // as time-invariant, or a shared matrix as per-stage).
        var data = new TheoryData<string, Layout, Layout>();
        foreach (string input in new[] { "C", "c", "F", "f" })
        {
            data.Add(input, Layout.PerStage, Layout.TimeInvariant);
            data.Add(input, Layout.PerStage, Layout.BatchShared);
            data.Add(input, Layout.PerStage, Layout.Shared);
            data.Add(input, Layout.Shared, Layout.PerStage);
            data.Add(input, Layout.TimeInvariant, Layout.BatchShared);
            data.Add(input, Layout.BatchShared, Layout.TimeInvariant);
        }
        return data;
    }

    public static TheoryData<string, double> NonFiniteInputs()
    {
        var data = new TheoryData<string, double>();
        foreach (string input in new[] { "xInit", "C", "c", "F", "f" })
        {
            data.Add(input, double.NaN);
            data.Add(input, double.PositiveInfinity);
            data.Add(input, double.NegativeInfinity);
        }
        return data;
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(+1)]
    [InlineData(-6)]
    public void XInit_WrongLength_NamesExpectedAndGiven(int delta)
    {
        LqrCase k = RandomLqr.Create(1, Dims);
        int expected = Dims.BatchSize * Dims.StateDim, given = expected + delta;
        AssertArgument(() => new LqrProblem(Dims, new double[given], k.C, k.c, k.F, k.f), "xInit", expected, given);
    }

    [Theory]
    [MemberData(nameof(WrongLengths))]
    public void StageInput_WrongLength_NamesExpectedAndGiven(string input, Layout layout, int delta)
    {
        int expected = ExpectedLength(input, layout);
        int given = expected + delta;
        AssertArgument(() => Build(input, Layouts.Wrap(layout, new double[given])), input, expected, given);
    }

    [Theory]
    [MemberData(nameof(WrongLayouts))]
    public void StageInput_DataOfAnotherLayout_NamesExpectedAndGiven(string input, Layout dataLayout, Layout declared)
    {
        int given = ExpectedLength(input, dataLayout);
        int expected = ExpectedLength(input, declared);
        Assert.NotEqual(expected, given);
        ArgumentException ex = AssertArgument(() => Build(input, Layouts.Wrap(declared, new double[given])), input, expected, given);
        // Every layout has a distinct length here, so the hint names exactly the layout of the data.
        Assert.Contains($"That is the length of StageArray.{dataLayout} [", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(" or of ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("C")]
    [InlineData("c")]
    [InlineData("F")]
    [InlineData("f")]
    public void StageInput_Scalar_IsRejected(string input) =>
        AssertArgument(() => Build(input, StageArray.Scalar(1.0)), input);

    [Fact]
    public void HorizonOne_DynamicsMayBeOmitted_ButMustHaveZeroStagesIfGiven()
    {
        var d = new MpcDimensions(1, 2, 3, 2);
        LqrCase k = RandomLqr.Create(2, d);
        Assert.Empty(k.F.Data);
        var omitted = new LqrProblem(d, k.XInit, k.C, k.c, null);
        MpcSolution solution = Mpc.Solve(omitted);
        Assert.True(solution.AllConverged);
        // An omitted F stands for the empty per-stage array, and so does its gradient (like f's null).
        Assert.Empty(omitted.Dynamics.Data);
        Assert.Empty(Mpc.Backward(solution, new double[6], new double[4]).Dynamics);
        Assert.True(Mpc.Solve(new LqrProblem(d, k.XInit, k.C, k.c, StageArray.PerStage([]), StageArray.PerStage([]))).AllConverged);
        AssertArgument(() => new LqrProblem(d, k.XInit, k.C, k.c, StageArray.PerStage(new double[2 * 3 * 5])), "F", 0, 30);
        AssertArgument(() => new LqrProblem(d, k.XInit, k.C, k.c, null, StageArray.PerStage(new double[6])), "f", 0, 6);

        // A broadcast F / f keeps its element shape even with no stages; its gradient is zero.
        var shared = new LqrProblem(d, k.XInit, k.C, k.c, StageArray.Shared(new double[3 * 5]), StageArray.TimeInvariant(new double[2 * 3]));
        MpcGradients g = Mpc.Backward(Mpc.Solve(shared), new double[6], new double[4]);
        Assert.Equal(15, g.Dynamics.Length);
        Assert.Equal(6, g.DynamicsOffset!.Length);
        Assert.All(g.Dynamics, v => Assert.Equal(0.0, v));
        Assert.All(g.DynamicsOffset, v => Assert.Equal(0.0, v));
    }

    [Theory]
    [MemberData(nameof(NonFiniteInputs))]
    public void NonFiniteValue_IsRejectedAtSolve_NamingTheInput(string input, double value)
    {
        LqrCase k = RandomLqr.Create(3, Dims, C: Layout.TimeInvariant, f: Layout.Shared);
        double[] data = k.Inputs().Single(p => p.Name == input).Data;
        int at = data.Length - 1;
        data[at] = value;

        ArgumentException ex = AssertArgument(() => Mpc.Solve(k.Problem), input, at);
        Assert.Contains(value.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);

        // A reusable solver rejects it too, and stays usable once the value is fixed.
        var solver = new LqrSolver(Dims);
        AssertArgument(() => solver.Solve(k.Problem), input, at);
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
        data[at] = 0.5;
        Assert.True(solver.Solve(k.Problem).AllConverged);
    }

    [Fact]
    public void NonFiniteValue_WrittenAfterConstruction_IsRejectedAtTheNextSolve()
    {
        LqrCase k = RandomLqr.Create(4, Dims);
        var solver = new LqrSolver(Dims);
        Assert.True(solver.Solve(k.Problem).AllConverged);
        k.c.Data[7] = double.NaN;
        AssertArgument(() => solver.Solve(k.Problem), "c", 7);
    }

    [Theory]
    [InlineData(0, 2, 3, 2, "Horizon", 0)]
    [InlineData(-1, 2, 3, 2, "Horizon", -1)]
    [InlineData(4, 0, 3, 2, "BatchSize", 0)]
    [InlineData(4, -5, 3, 2, "BatchSize", -5)]
    [InlineData(4, 2, 0, 2, "StateDim", 0)]
    [InlineData(4, 2, -2, 2, "StateDim", -2)]
    [InlineData(4, 2, 3, 0, "ControlDim", 0)]
    [InlineData(4, 2, 3, -3, "ControlDim", -3)]
    public void Dimensions_BelowOne_AreRejected(int T, int B, int n, int m, string which, int bad)
    {
        var d = new MpcDimensions(T, B, n, m);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new LqrSolver(d));
        Assert.Equal("dimensions", ex.ParamName);
        Assert.Equal(bad, ex.ActualValue);
        Assert.Contains(which, ex.Message, StringComparison.Ordinal);
        Assert.Matches(Number(bad), ex.Message);

        ex = Assert.Throws<ArgumentOutOfRangeException>(() => d.Validate());
        Assert.Equal(bad, ex.ActualValue);

        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new LqrProblem(d, new double[1], StageArray.Shared(new double[1]), StageArray.Shared(new double[1]), null));
        Assert.Equal("dimensions", ex.ParamName);
        Assert.Equal(bad, ex.ActualValue);
    }

    /// <summary>
    /// Dimensions whose arrays could not exist (T B (n+m)^2 beyond Array.MaxLength, where the
    /// sizes would overflow an int) are rejected up front, naming the dimensions, instead of
    /// passing as shapes of a wrapped-around length and failing deep inside a solve.
    /// </summary>
    [Theory]
    [InlineData(65536, 65536, 1, 1, "17179869184")]
    [InlineData(1, 1, 50000, 50000, "more than")]
    [InlineData(1000, 1000, 40, 10, "2500000000")]
    [InlineData(1 << 30, 1 << 30, 2, 2, "more than")]   // 2^64 values: 0 in 64-bit arithmetic
    public void Dimensions_BeyondTheLargestArray_AreRejected(int T, int B, int n, int m, string need)
    {
        var d = new MpcDimensions(T, B, n, m);
        foreach (Action create in new Action[]
        {
            () => d.Validate(),
            () => _ = new LqrSolver(d),
            () => _ = new LqrProblem(d, new double[1], StageArray.Shared(new double[1]), StageArray.Shared(new double[1]), null),
        })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(create);
            Assert.Equal("dimensions", ex.ParamName);
            Assert.Contains("T B (n+m)^2", ex.Message, StringComparison.Ordinal);
            Assert.Contains(need, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NullArguments_NameTheArgument()
    {
        LqrCase k = RandomLqr.Create(5, Dims);
        AssertNull(() => new LqrProblem(Dims, null!, k.C, k.c, k.F, k.f), "xInit");
        AssertNull(() => new LqrProblem(Dims, k.XInit, null!, k.c, k.F, k.f), "C");
        AssertNull(() => new LqrProblem(Dims, k.XInit, k.C, null!, k.F, k.f), "c");
        AssertNull(() => new LqrProblem(Dims, k.XInit, k.C, k.c, null, k.f), "F");
        AssertNull(() => Mpc.Solve((LqrProblem)null!), "problem");
        AssertNull(() => Mpc.Backward(null!, null, null), "solution");
        AssertNull(() => new LqrSolver(Dims).Solve(null!), "problem");
        AssertNull(() => StageArray.PerStage(null!), "data");
        AssertNull(() => StageArray.TimeInvariant(null!), "data");
        AssertNull(() => StageArray.BatchShared(null!), "data");
        AssertNull(() => StageArray.Shared(null!), "data");
    }

    // Library bug: StageArray's implicit conversion from double[] calls PerStage(null), which throws
    // ArgumentNullException with ParamName "data" before LqrProblem can name the argument.
    [Fact]
    public void NullArray_ThroughImplicitConversion_NamesTheArgument()
    {
        LqrCase k = RandomLqr.Create(6, Dims);
        double[]? missing = null;
        AssertNull(() => new LqrProblem(Dims, k.XInit, missing!, k.c, k.F, k.f), "C");
        AssertNull(() => new LqrProblem(Dims, k.XInit, k.C, missing!, k.F, k.f), "c");
    }

    [Theory]
    [InlineData("dLdx", -1)]
    [InlineData("dLdx", 1)]
    [InlineData("dLdu", -1)]
    [InlineData("dLdu", 1)]
    public void LossGradient_WrongLength_NamesExpectedAndGiven(string which, int delta)
    {
        LqrCase k = RandomLqr.Create(7, Dims);
        int T = Dims.Horizon, B = Dims.BatchSize;
        int expected = which == "dLdx" ? T * B * Dims.StateDim : T * B * Dims.ControlDim;
        double[] bad = new double[expected + delta];
        double[]? dx = which == "dLdx" ? bad : null, du = which == "dLdu" ? bad : null;

        MpcSolution sol = Mpc.Solve(k.Problem);
        AssertArgument(() => Mpc.Backward(sol, dx, du), which, expected, expected + delta);
        var solver = new LqrSolver(Dims);
        solver.Solve(k.Problem);
        AssertArgument(() => solver.Backward(dx, du), which, expected, expected + delta);
    }

    [Theory]
    [InlineData("dLdx", double.NaN)]
    [InlineData("dLdx", double.PositiveInfinity)]
    [InlineData("dLdu", double.NaN)]
    [InlineData("dLdu", double.NegativeInfinity)]
    public void LossGradient_NonFinite_IsRejected(string which, double value)
    {
        LqrCase k = RandomLqr.Create(8, Dims);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(8, Dims);
        double[] target = which == "dLdx" ? wx : wu;
        target[3] = value;
        MpcSolution sol = Mpc.Solve(k.Problem);
        ArgumentException ex = AssertArgument(() => Mpc.Backward(sol, wx, wu), which, 3);
        Assert.Contains(value.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5, 2, 3, 2)]
    [InlineData(4, 3, 3, 2)]
    [InlineData(4, 2, 4, 2)]
    [InlineData(4, 2, 3, 1)]
    public void Problem_WithOtherDimensionsThanSolver_IsRejected(int T, int B, int n, int m)
    {
        var other = new MpcDimensions(T, B, n, m);
        LqrCase k = RandomLqr.Create(9, other);
        var solver = new LqrSolver(Dims);
        ArgumentException ex = AssertArgument(() => solver.Solve(k.Problem), "problem");
        Assert.Contains(Dims.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(other.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1e-3)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void ControlRegularization_OutOfRange_IsRejected(double mu)
    {
        var options = new MpcOptions { ControlRegularization = mu };
        LqrCase k = RandomLqr.Create(10, Dims);
        foreach (Action create in new Action[] { () => _ = new LqrSolver(Dims, options), () => Mpc.Solve(k.Problem, options), options.Validate })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(create);
            Assert.Equal(nameof(MpcOptions.ControlRegularization), ex.ParamName);
            Assert.Contains(mu.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void MaxDegreeOfParallelism_OutOfRange_IsRejected(int dop)
    {
        var options = new MpcOptions { MaxDegreeOfParallelism = dop };
        LqrCase k = RandomLqr.Create(11, Dims);
        foreach (Action create in new Action[] { () => _ = new LqrSolver(Dims, options), () => Mpc.Solve(k.Problem, options), options.Validate })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(create);
            Assert.Equal(nameof(MpcOptions.MaxDegreeOfParallelism), ex.ParamName);
            Assert.Equal(dop, ex.ActualValue);
            Assert.Matches(Number(dop), ex.Message);
        }
    }

    [Theory]
    [InlineData(0.0, -1)]
    [InlineData(1e-6, 1)]
    [InlineData(3.0, 2)]
    [InlineData(0.0, 64)]
    public void ValidOptions_AreAccepted(double mu, int dop)
    {
        var options = new MpcOptions { ControlRegularization = mu, MaxDegreeOfParallelism = dop };
        Assert.True(Mpc.Solve(RandomLqr.Create(12, Dims).Problem, options).AllConverged);
    }

    [Fact]
    public void Backward_BeforeAnySolve_Throws()
    {
        var solver = new LqrSolver(Dims);
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
        (double[] wx, double[] wu) = RandomLqr.LossWeights(13, Dims);
        Assert.Throws<InvalidOperationException>(() => solver.Backward(wx, wu));

        // A solve that was rejected does not count.
        LqrCase bad = RandomLqr.Create(13, Dims);
        bad.C.Data[0] = double.NaN;
        Assert.ThrowsAny<ArgumentException>(() => solver.Solve(bad.Problem));
        Assert.Throws<InvalidOperationException>(() => solver.Backward(wx, wu));
    }

    private static int ExpectedLength(string input, Layout layout)
    {
        int T = Dims.Horizon, B = Dims.BatchSize, n = Dims.StateDim, N = Dims.TauDim;
        return input switch
        {
            "C" => Layouts.Length(layout, T, B, N * N),
            "c" => Layouts.Length(layout, T, B, N),
            "F" => Layouts.Length(layout, T - 1, B, n * N),
            _ => Layouts.Length(layout, T - 1, B, n),
        };
    }

    /// <summary>A problem of <see cref="Dims"/> with <paramref name="input"/> replaced.</summary>
    private static LqrProblem Build(string input, StageArray replacement)
    {
        LqrCase k = RandomLqr.Create(0, Dims);
        return new LqrProblem(Dims, k.XInit,
            input == "C" ? replacement : k.C,
            input == "c" ? replacement : k.c,
            input == "F" ? replacement : k.F,
            input == "f" ? replacement : k.f);
    }

    private static ArgumentException AssertArgument(Func<object?> action, string paramName, params long[] numbers)
    {
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(paramName, ex.ParamName);
        foreach (long number in numbers)
        {
            Assert.Matches(Number(number), ex.Message);
        }
        return ex;
    }

    private static void AssertNull(Func<object?> action, string paramName)
    {
        ArgumentNullException ex = Assert.Throws<ArgumentNullException>(action);
        Assert.Equal(paramName, ex.ParamName);
    }

    /// <summary>The number as a whole token (not part of a longer number).</summary>
    private static Regex Number(long value) =>
        new($"(?<![0-9]){Regex.Escape(value.ToString(CultureInfo.InvariantCulture))}(?![0-9])");
}
