using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Nonlinear;

/// <summary>The slew-rate penalty by state augmentation: effect on the plan and exact gradients.</summary>
public sealed class SlewRateTests
{
    private static NonlinearProblem Augmented(double weight, double uPrev, out double[] phi)
    {
        NonlinearProblem basis = IlqrTestProblems.Pendulum(12, 2, 71, bound: 1.5);
        QuadraticCost quadratic = QuadraticCost.Diagonal(3, 1);
        ICost cost = SlewRate.AugmentCost(quadratic, 3, 1);
        phi = [.. quadratic.PackParameters(DiffMpc.Systems.Pendulum.CostDiagQ, DiffMpc.Systems.Pendulum.CostP), weight];
        double[] x0 = new double[2 * 4];
        for (int b = 0; b < 2; b++)
        {
            basis.XInit.AsSpan(b * 3, 3).CopyTo(x0.AsSpan(b * 4, 3));
            x0[b * 4 + 3] = uPrev;
        }
        return new NonlinearProblem(new MpcDimensions(12, 2, 4, 1), SlewRate.AugmentDynamics(basis.Dynamics),
            basis.Parameters, x0, cost, phi, basis.ControlLower, basis.ControlUpper);
    }

    [Fact]
    public void ZeroWeight_ReproducesTheUnpenalisedSolution()
    {
        NonlinearProblem plain = IlqrTestProblems.Pendulum(12, 2, 71, bound: 1.5);
        MpcSolution a = Mpc.Solve(plain);
        MpcSolution b = Mpc.Solve(Augmented(0, 0, out _));
        Compare.Absolute(a.U, b.U, 1e-8, "U");
        Compare.Absolute(a.Cost, b.Cost, 1e-8, "cost");
    }

    [Fact]
    public void Weight_SmoothsTheControls()
    {
        static double TotalVariation(double[] u, int T, int B)
        {
            double tv = 0;
            for (int b = 0; b < B; b++)
            {
                for (int t = 1; t < T; t++)
                {
                    tv += Math.Abs(u[t * B + b] - u[(t - 1) * B + b]);
                }
            }
            return tv;
        }
        double rough = TotalVariation(Mpc.Solve(Augmented(0, 0, out _)).U, 12, 2);
        double smooth = TotalVariation(Mpc.Solve(Augmented(1.0, 0, out _)).U, 12, 2);
        Assert.True(smooth < 0.8 * rough, $"total variation {smooth} not below {rough}");
    }

    [Fact]
    public void Gradients_WrtWeightPreviousControlAndParameters_MatchFiniteDifferences()
    {
        NonlinearProblem p = Augmented(0.3, 0.2, out double[] phi);
        (double[] wx, double[] wu) = IlqrTestProblems.Weights(p.Dimensions, 72);
        MpcSolution sol = Mpc.Solve(p);
        Assert.True(sol.AllConverged, string.Join(",", sol.Status));
        NonlinearGradients g = Mpc.BackwardNonlinear(sol, wx, wu);
        double Loss() => IlqrTestProblems.Loss(p, wx, wu);
        int w = phi.Length - 1;
        Compare.Relative([IlqrTestProblems.Central(phi, w, 1e-6, Loss)], [g.CostParameters![w]], 2e-5, "dL/dw");
        double[] x0 = p.XInit;
        Compare.Relative([IlqrTestProblems.Central(x0, 3, 1e-6, Loss), IlqrTestProblems.Central(x0, 7, 1e-6, Loss)],
            [g.XInit[3], g.XInit[7]], 2e-5, "dL/du_prev");
        double[] theta = p.Parameters;
        Compare.Relative(theta.Select((_, k) => IlqrTestProblems.Central(theta, k, 1e-6, Loss)).ToArray(), g.Parameters, 2e-5, "dL/dtheta");
    }
}
