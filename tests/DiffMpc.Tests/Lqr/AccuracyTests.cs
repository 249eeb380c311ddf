using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>Per-element accuracy: the Inaccurate status and which elements the gradients include.</summary>
public sealed class AccuracyTests
{
    [Fact]
    public void Differentiated_MarksExactlyTheContributingElements()
    {
        var dims = new MpcDimensions(5, 3, 2, 1);
        LqrCase k = RandomLqr.Create(91, dims);
        k.SetControlCost(4, 1, -5.0);   // element 1, last stage: Q_uu not positive definite
        MpcSolution sol = Mpc.Solve(k.Problem);
        Assert.Equal(SolveStatus.NotPositiveDefinite, sol.Status[1]);
        MpcGradients g = Mpc.Backward(sol, Enumerable.Repeat(1.0, 5 * 3 * 2).ToArray(), null);
        Assert.Equal(new[] { true, false, true }, g.Differentiated);
    }

    /// <remarks>
    /// End to end, inputs whose round-off overwhelms the solve (values spanning 1e-300..1e300) are
    /// exercised by Robustness/FuzzTests (182 elements reported Inaccurate there, none Converged
    /// with a large residual); this checks the classification rule itself.
    /// </remarks>
    [Theory]
    [InlineData(SolveStatus.Converged, 1e-3, 1.0, SolveStatus.Inaccurate)]
    [InlineData(SolveStatus.Converged, 1e-7, 1.0, SolveStatus.Converged)]
    [InlineData(SolveStatus.Converged, 1e-20, 1e-12, SolveStatus.Converged)]
    [InlineData(SolveStatus.Converged, 1e-15, 1e-12, SolveStatus.Inaccurate)]
    [InlineData(SolveStatus.Converged, double.NaN, 1.0, SolveStatus.Inaccurate)]
    [InlineData(SolveStatus.Converged, 0.0, 0.0, SolveStatus.Converged)]
    [InlineData(SolveStatus.MaxIterations, 1e-3, 1.0, SolveStatus.MaxIterations)]
    public void Accuracy_IsTheResidualRelativeToTheScaleOfItsTerms(SolveStatus status, double residual, double scale, SolveStatus expected) =>
        Assert.Equal(expected, DiffMpc.Lqr.SolutionWriter.CheckAccuracy(status, residual, scale));

    [Theory]
    [InlineData(1e-6, 1.0, 1e-4, SolveStatus.Converged)]     // a loose requested tolerance, not round-off
    [InlineData(1e-1, 1.0, 1e-4, SolveStatus.Inaccurate)]
    [InlineData(1e-5, 1.0, 1e-10, SolveStatus.Inaccurate)]
    public void Accuracy_AllowsForTheRequestedTolerance(double residual, double scale, double tolerance, SolveStatus expected) =>
        Assert.Equal(expected, DiffMpc.Lqr.SolutionWriter.CheckAccuracy(SolveStatus.Converged, residual, scale, tolerance));

    [Fact]
    public void WellScaledSolves_AreConverged_WithSmallRelativeResiduals()
    {
        var dims = new MpcDimensions(10, 4, 3, 2);
        MpcSolution sol = Mpc.Solve(RandomLqr.Create(92, dims).Problem);
        Assert.True(sol.AllConverged);
        Assert.All(sol.KktResidual, r => Assert.True(r < 1e-10));
    }
}
