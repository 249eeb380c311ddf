using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Nonlinear;

/// <summary>
/// The exact gradient of the iLQR fixed point against central differences of the whole solve,
/// from random starts, for the built-in systems, a user-written model and a general cost.
/// </summary>
public sealed class IlqrFiniteDifferenceTests
{
    private const double H = 1e-6;
    private const double Tol = 2e-5;

    [Theory]
    [InlineData(8, 3, 11)]
    [InlineData(12, 2, 12)]
    [InlineData(20, 2, 13)]
    public void Pendulum_ExactGradients_MatchFiniteDifferences(int T, int B, int seed)
    {
        // Bounds inside the torque clamp of the dynamics (|u| <= 2): at the clamp limit itself the
        // loss has a kink in the bound (pushing it outward changes nothing), so a central
        // difference would average two one-sided derivatives.
        NonlinearProblem p = IlqrTestProblems.Pendulum(T, B, seed, bound: 1.5);
        CheckAll(p, seed);
    }

    [Theory]
    [InlineData(8, 2, 21)]
    [InlineData(15, 2, 22)]
    public void Cartpole_ExactGradients_MatchFiniteDifferences(int T, int B, int seed)
    {
        NonlinearProblem p = IlqrTestProblems.Cartpole(T, B, seed);
        CheckAll(p, seed);
    }

    [Fact]
    public void UserWrittenModel_ExactGradients_MatchFiniteDifferences()
    {
        var model = new Autodiff.BicycleModel();
        int T = 10, B = 2, n = 4, m = 2;
        double[] q = [1, 1, 0.5, 0.5, 0.1, 0.1];
        double[] c = [-1, -0.5, 0, -0.2, 0, 0];
        var problem = new NonlinearProblem(new MpcDimensions(T, B, n, m), model, [2.5, 0.1, 0.5],
            [0, 0, 0.1, 1, 0.5, -0.3, -0.2, 0.8], StageArray.Shared(IlqrTestProblems.Diagonal(q)), StageArray.Shared(c),
            StageArray.Scalar(-1), StageArray.Scalar(1));
        CheckAll(problem, 31);
    }

    [Fact]
    public void GeneralCost_GradientsIncludingCostParameters_MatchFiniteDifferences()
    {
        NonlinearProblem basis = IlqrTestProblems.Pendulum(10, 2, 41);
        double[] phi = [1.0, 0.1, 0.05, 0.01];
        var problem = new NonlinearProblem(basis.Dimensions, basis.Dynamics, basis.Parameters, basis.XInit,
            new SoftPendulumCost(), phi, basis.ControlLower, basis.ControlUpper);
        (double[] wx, double[] wu) = IlqrTestProblems.Weights(problem.Dimensions, 41);
        var solver = new IlqrSolver(problem.Dimensions, problem.Dynamics);
        MpcSolution sol = solver.Solve(problem);
        Assert.True(sol.AllConverged, string.Join(",", sol.Status));
        Assert.All(sol.KktResidual, r => Assert.True(r < 1e-8, $"KKT residual {r}"));
        NonlinearGradients g = solver.Backward(wx, wu);
        Assert.Null(g.CostQuadratic);
        Assert.NotNull(g.CostParameters);

        double Loss() => IlqrTestProblems.Loss(problem, wx, wu);
        var fdPhi = phi.Select((_, k) => IlqrTestProblems.Central(phi, k, H, Loss)).ToArray();
        Compare.Relative(fdPhi, g.CostParameters!, Tol, "dL/dphi");
        double[] theta = problem.Parameters;
        var fdTheta = theta.Select((_, k) => IlqrTestProblems.Central(theta, k, H, Loss)).ToArray();
        Compare.Relative(fdTheta, g.Parameters, Tol, "dL/dtheta");
    }

    [Fact]
    public void QuadraticCostThroughICost_EqualsTheMatrixForm()
    {
        NonlinearProblem quadratic = IlqrTestProblems.Pendulum(10, 2, 51);
        QuadraticCost cost = QuadraticCost.Diagonal(3, 1);
        double[] phi = cost.PackParameters(DiffMpc.Systems.Pendulum.CostDiagQ, DiffMpc.Systems.Pendulum.CostP);
        var general = new NonlinearProblem(quadratic.Dimensions, quadratic.Dynamics, quadratic.Parameters, quadratic.XInit,
            cost, phi, quadratic.ControlLower, quadratic.ControlUpper);
        MpcSolution a = Mpc.Solve(quadratic), b = Mpc.Solve(general);
        Compare.Absolute(a.U, b.U, 1e-9, "U");
        Compare.Absolute(a.Cost, b.Cost, 1e-9, "cost");
        (double[] wx, double[] wu) = IlqrTestProblems.Weights(quadratic.Dimensions, 51);
        NonlinearGradients ga = Mpc.BackwardNonlinear(a, wx, wu), gb = Mpc.BackwardNonlinear(b, wx, wu);
        Compare.Relative(ga.Parameters, gb.Parameters, 1e-8, "dL/dtheta");
        // phi = [q; p]: the p part equals dL/dc of the matrix form.
        Compare.Relative(ga.CostLinear!, gb.CostParameters!.AsSpan(cost.LinearOffset).ToArray(), 1e-8, "dL/dp");
    }

    /// <summary>theta, c (shared), x_init and the scalar bounds against central differences.</summary>
    private static void CheckAll(NonlinearProblem p, int seed)
    {
        (double[] wx, double[] wu) = IlqrTestProblems.Weights(p.Dimensions, seed);
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        MpcSolution sol = solver.Solve(p);
        Assert.True(sol.AllConverged, string.Join(",", sol.Status));
        NonlinearGradients g = solver.Backward(wx, wu);
        double Loss() => IlqrTestProblems.Loss(p, wx, wu);

        double[] theta = p.Parameters;
        Compare.Relative(theta.Select((_, k) => IlqrTestProblems.Central(theta, k, H, Loss)).ToArray(), g.Parameters, Tol, "dL/dtheta");
        double[] c = p.CostLinear.Data;
        Compare.Relative(c.Select((_, k) => IlqrTestProblems.Central(c, k, H, Loss)).ToArray(), g.CostLinear!, Tol, "dL/dc");
        double[] x0 = p.XInit;
        Compare.Relative(x0.Select((_, k) => IlqrTestProblems.Central(x0, k, H, Loss)).ToArray(), g.XInit, Tol, "dL/dx_init");
        if (sol.ActiveBounds.Sum() > 0)
        {
            // Scalar bounds: the gradient sums over every active control; perturb the scalar.
            double[] lo = p.ControlLower!.Data, hi = p.ControlUpper!.Data;
            Compare.Relative([IlqrTestProblems.Central(lo, 0, H, Loss)], g.ControlLower!, Tol, "dL/du_lower");
            Compare.Relative([IlqrTestProblems.Central(hi, 0, H, Loss)], g.ControlUpper!, Tol, "dL/du_upper");
        }
    }
}
