using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Nonlinear;

/// <summary>Per-element outcomes of the iLQR solver and its gradient modes.</summary>
public sealed class IlqrOutcomeTests
{
    [Fact]
    public void HangingAtRest_IsASaddle_ReportedNotStrictLocalMinimum_WithZeroGradients()
    {
        // Exactly hanging down at rest with u = 0 is stationary by symmetry but not a minimum.
        NonlinearProblem p = IlqrTestProblems.Pendulum(20, 2, 61);
        double[] x0 = (double[])p.XInit.Clone();
        x0[0] = -1;
        x0[1] = 0;
        x0[2] = 0;
        var problem = new NonlinearProblem(p.Dimensions, p.Dynamics, p.Parameters, x0, p.CostQuadratic, p.CostLinear,
            p.ControlLower, p.ControlUpper);
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        MpcSolution sol = solver.Solve(problem);
        Assert.Equal(SolveStatus.NotStrictLocalMinimum, sol.Status[0]);
        Assert.Equal(SolveStatus.Converged, sol.Status[1]);
        Assert.True(double.IsFinite(sol.Cost[0]));
        double[] dLdx = Enumerable.Repeat(1.0, 20 * 2 * 3).ToArray();
        NonlinearGradients g = solver.Backward(dLdx, null);
        Assert.All(g.XInit.AsSpan(0, 3).ToArray(), v => Assert.Equal(0, v));
        Assert.Contains(g.XInit.AsSpan(3, 3).ToArray(), v => v != 0);
        double[] dtheta = (double[])g.Parameters.Clone();

        // The loss slots of the element that is not differentiated are not read: NaN there is
        // accepted and changes nothing; in the converged element it is rejected.
        for (int t = 0; t < 20; t++)
        {
            dLdx[t * 2 * 3] = double.NaN;
        }
        Bitwise.Equal(dtheta, solver.Backward(dLdx, null).Parameters, "dL/dtheta with NaN loss slots of element 0");
        dLdx[3] = double.NaN;
        Assert.Equal("dLdx", Assert.Throws<ArgumentException>(() => solver.Backward(dLdx, null)).ParamName);
    }

    [Fact]
    public void IterationLimit_Detached_ByDefault_DifferentiatedOnRequest()
    {
        NonlinearProblem p = IlqrTestProblems.Pendulum(15, 2, 62);
        (double[] wx, double[] wu) = IlqrTestProblems.Weights(p.Dimensions, 62);
        var detached = new IlqrSolver(p.Dimensions, p.Dynamics, new MpcOptions { MaxIterations = 1 });
        MpcSolution s = detached.Solve(p);
        Assert.All(s.Status, st => Assert.Equal(SolveStatus.MaxIterations, st));
        Assert.All(s.U, u => Assert.InRange(u, -2, 2));
        Assert.All(detached.Backward(wx, wu).Parameters, v => Assert.Equal(0, v));

        // Away from a stationary point the exact Hessian of the Lagrangian need not be positive
        // definite (no derivative exists there); the first-order (Gauss-Newton) mode always is.
        var attached = new IlqrSolver(p.Dimensions, p.Dynamics,
            new MpcOptions { MaxIterations = 1, DifferentiateUnconverged = true, GradientMode = NonlinearGradientMode.FirstOrder });
        attached.Solve(p);
        Assert.Contains(attached.Backward(wx, wu).Parameters, v => v != 0);
    }

    [Fact]
    public void FirstOrderMode_DiffersFromExact_AndOnlyExactMatchesFiniteDifferences()
    {
        NonlinearProblem p = IlqrTestProblems.Pendulum(10, 3, 63);
        (double[] wx, double[] wu) = IlqrTestProblems.Weights(p.Dimensions, 63);
        var exact = new IlqrSolver(p.Dimensions, p.Dynamics);
        exact.Solve(p);
        double[] ge = (double[])exact.Backward(wx, wu).Parameters.Clone();
        var first = new IlqrSolver(p.Dimensions, p.Dynamics, new MpcOptions { GradientMode = NonlinearGradientMode.FirstOrder });
        first.Solve(p);
        double[] gf = first.Backward(wx, wu).Parameters;

        double[] theta = p.Parameters;
        double[] fd = theta.Select((_, k) => IlqrTestProblems.Central(theta, k, 1e-6, () => IlqrTestProblems.Loss(p, wx, wu))).ToArray();
        Compare.Relative(fd, ge, 2e-5, "exact dL/dtheta");
        (double firstError, _) = Compare.Worst(fd, gf, relative: true);
        Assert.True(firstError > 1e-3, $"first-order gradient unexpectedly exact (error {firstError})");
    }

    /// <summary>
    /// The first-order mode needs no second derivatives of the dynamics (its adjoint uses the
    /// cost Hessian, its dL/dtheta no mixed term), so its solve evaluates none; the exact mode
    /// evaluates them at the solution. Its gradients are unchanged by that (golden case
    /// reference_first_order_grad).
    /// </summary>
    [Fact]
    public void FirstOrderMode_EvaluatesNoSecondDerivatives()
    {
        NonlinearProblem p = IlqrTestProblems.Pendulum(10, 3, 65);
        foreach ((NonlinearGradientMode mode, bool expectSecondOrder) in new[] { (NonlinearGradientMode.FirstOrder, false), (NonlinearGradientMode.Exact, true) })
        {
            var counting = new SecondOrderCounter(p.Dynamics);
            var solver = new IlqrSolver(p.Dimensions, counting, new MpcOptions { GradientMode = mode, MaxDegreeOfParallelism = 1 });
            MpcSolution solution = solver.Solve(new NonlinearProblem(p.Dimensions, counting, p.Parameters, p.XInit, p.CostQuadratic, p.CostLinear, p.ControlLower, p.ControlUpper));
            Assert.Equal(p.Dimensions.BatchSize, solution.ConvergedCount);
            Assert.True(counting.FirstOrder > 0, $"{mode}: Jacobians are evaluated");
            Assert.Equal(expectSecondOrder, counting.SecondOrder > 0);
        }
    }

    /// <summary>
    /// A faulty model that leaves an entry of x_next unwritten gets NaN there (not a stale value
    /// from an earlier evaluation, which would pass for a result): every element is NonFinite,
    /// in both gradient modes, and the Jacobian check flags the model.
    /// </summary>
    [Theory]
    [InlineData(NonlinearGradientMode.Exact)]
    [InlineData(NonlinearGradientMode.FirstOrder)]
    public void ModelThatDoesNotWriteEveryEntry_IsNonFinite(NonlinearGradientMode mode)
    {
        NonlinearProblem p = IlqrTestProblems.Pendulum(10, 3, 64);
        var faulty = new PartialWriter(p.Dynamics);
        var solver = new IlqrSolver(p.Dimensions, faulty, new MpcOptions { GradientMode = mode });
        MpcSolution sol = solver.Solve(new NonlinearProblem(p.Dimensions, faulty, p.Parameters, p.XInit, p.CostQuadratic,
            p.CostLinear, p.ControlLower, p.ControlUpper));
        Assert.All(sol.Status, s => Assert.Equal(SolveStatus.NonFinite, s));
        Assert.True(double.IsNaN(DiffMpc.Autodiff.DynamicsDerivatives.CheckJacobian(faulty, p.XInit.AsSpan(0, 3), [0.3], p.Parameters)));
    }

    /// <summary>The wrapped model's step with the last entry of x_next left as the caller had it.</summary>
    private sealed class PartialWriter(IDynamics inner) : IDynamics
    {
        public int StateDim => inner.StateDim;

        public int ControlDim => inner.ControlDim;

        public int ParameterCount => inner.ParameterCount;

        public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
            where T : System.Numerics.IFloatingPointIeee754<T>
        {
            Span<T> all = new T[StateDim];
            inner.Step(x, u, theta, all);
            all[..^1].CopyTo(xNext);
        }
    }

    /// <summary>Counts the model's evaluations over first- and second-order (flat or nested) dual numbers.</summary>
    private sealed class SecondOrderCounter(IDynamics inner) : IDynamics
    {
        public int FirstOrder { get; private set; }

        public int SecondOrder { get; private set; }

        public int StateDim => inner.StateDim;

        public int ControlDim => inner.ControlDim;

        public int ParameterCount => inner.ParameterCount;

        public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
            where T : System.Numerics.IFloatingPointIeee754<T>
        {
            if (typeof(T) != typeof(double))
            {
                bool secondOrder = typeof(T) == typeof(DiffMpc.Autodiff.HessianRowDual)
                    || (typeof(T).IsGenericType && typeof(T).GetGenericArguments()[0].IsGenericType);
                if (secondOrder)
                {
                    SecondOrder++;
                }
                else
                {
                    FirstOrder++;
                }
            }
            inner.Step(x, u, theta, xNext);
        }
    }

    /// <summary>
    /// A cartpole swing-up (the third start of the benchmark's seed) whose Gauss-Newton tail is
    /// linear: full steps shrinking by only ~0.96 per iteration, 205 iterations to a step of 1e-4
    /// and ~500 to 1e-10. The iteration switches to Newton steps with the Hessian of the
    /// Lagrangian and converges to 1e-10 within the default 100 iterations, at the cost the
    /// Gauss-Newton iteration reaches, with an exact gradient that matches finite differences.
    /// </summary>
    [Fact]
    public void SlowGaussNewtonTail_SwitchesToNewton_AndConvergesWithinTheDefaultLimit()
    {
        NonlinearProblem p = IlqrTestProblems.SlowTailCartpole();
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        MpcSolution solution = solver.Solve(p);
        Assert.Equal(SolveStatus.Converged, solution.Status[0]);
        Assert.InRange(solution.Iterations[0], 1, 60);
        Assert.Equal(13.7003816236, solution.Cost[0], 1e-9);   // the Gauss-Newton iteration's cost (205 iterations, step 1e-4)

        (double[] wx, double[] wu) = IlqrTestProblems.Weights(p.Dimensions, 66);
        double[] g = solver.Backward(wx, wu).Parameters;
        double[] theta = p.Parameters;
        double[] fd = theta.Select((_, k) => IlqrTestProblems.Central(theta, k, 1e-6, () => IlqrTestProblems.Loss(p, wx, wu))).ToArray();
        Compare.Relative(fd, g, 2e-5, "dL/dtheta after a Newton tail");
    }

    [Fact]
    public void WarmStartFromTheSolution_ConvergesImmediately_ToTheSamePoint()
    {
        NonlinearProblem p = IlqrTestProblems.Cartpole(12, 2, 64);
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        MpcSolution cold = solver.Solve(p);
        double[] u = (double[])cold.U.Clone();
        int coldIterations = cold.Iterations.Max();
        MpcSolution warm = solver.Solve(p, u);
        Assert.True(warm.AllConverged);
        Assert.True(warm.Iterations.Max() <= 2, $"warm start took {warm.Iterations.Max()} iterations (cold {coldIterations})");
        Compare.Absolute(u, warm.U, 1e-8, "U");
    }
}
