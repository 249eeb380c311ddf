// Closed-loop MPC swing-up of the cartpole of ../shared/golden/dynamics.md: at every control
// step, solve a T-step box-constrained iLQR problem from the current state (warm-started from the
// previous plan shifted by one step), apply the first control, and step the true dynamics.
using System.Diagnostics;
using System.Globalization;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using Model = DiffMpc.Systems.Cartpole;

namespace DiffMpc.Samples.Cartpole;

/// <summary>Settings of one cartpole run.</summary>
/// <param name="Horizon">T, the MPC horizon.</param>
/// <param name="Steps">Closed-loop control steps (dt = 0.05 s each).</param>
/// <param name="InitialAngle">Pole angle at the start (0 = upright, pi = hanging down).</param>
/// <param name="MaxIterations">iLQR iteration cap per control step.</param>
/// <param name="ExtraStarts">Amplitudes of extra "pumping" iLQR starts tried at every step besides the shifted plan.</param>
public sealed record CartpoleSettings(int Horizon = 20, int Steps = 160, double InitialAngle = Math.PI - 0.1, int MaxIterations = 50,
    IReadOnlyList<double>? ExtraStarts = null)
{
    /// <summary>Amplitudes of the extra starts; default +-20 and +-60 N.</summary>
    public IReadOnlyList<double> ExtraStarts { get; init; } = ExtraStarts ?? [20.0, -20.0, 60.0, -60.0];
}

/// <summary>One control step of the closed loop.</summary>
public readonly record struct CartpoleStep(double Time, double Position, double Velocity, double Angle, double AngularVelocity,
    double Force, SolveStatus Status, int Iterations);

/// <summary>The outcome of a run.</summary>
/// <param name="Steps">The closed-loop trajectory.</param>
/// <param name="MeanSolveMilliseconds">Mean wall time of one MPC solve.</param>
/// <param name="FirstUprightTime">First time |angle| &lt; <see cref="CartpoleSwingUp.UprightTolerance"/>, or NaN.</param>
/// <param name="HeldUpright">True when |angle| stayed below the tolerance over the last second.</param>
public sealed record CartpoleResult(IReadOnlyList<CartpoleStep> Steps, double MeanSolveMilliseconds, double FirstUprightTime, bool HeldUpright)
{
    /// <summary>True when the pole came within the tolerance of upright at some step.</summary>
    public bool ReachedUpright => !double.IsNaN(FirstUprightTime);
}

/// <summary>The closed-loop MPC swing-up of the cartpole.</summary>
public static class CartpoleSwingUp
{
    /// <summary>Upright means |angle| below this (rad).</summary>
    public const double UprightTolerance = 0.1;

    public static CartpoleResult Run(CartpoleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = new Model();
        int T = settings.Horizon, n = model.StateDim, m = model.ControlDim, N = n + m;
        var dims = new MpcDimensions(T, 1, n, m);
        double[] q = Model.CostDiagQ;
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = q[i];
        }
        double[] theta = Model.TextbookParameters;
        double[] x = [0, 0, Math.Cos(settings.InitialAngle), Math.Sin(settings.InitialAngle), 0];
        var solver = new IlqrSolver(dims, model, new MpcOptions { Tolerance = 1e-6, MaxIterations = settings.MaxIterations });
        var warm = new double[T * m];
        var best = new double[T * m];
        var next = new double[n];
        var steps = new List<CartpoleStep>(settings.Steps);
        var clock = new Stopwatch();
        var cost = StageArray.Shared(C);
        var linear = StageArray.Shared(Model.CostP);
        var lower = StageArray.Scalar(Model.ControlLower);
        var upper = StageArray.Scalar(Model.ControlUpper);
        for (int k = 0; k < settings.Steps; k++)
        {
            var problem = new NonlinearProblem(dims, model, theta, x, cost, linear, lower, upper);
            clock.Start();
            // iLQR finds a local minimum near its start. Besides the shifted previous plan, try
            // pumping starts (push one way, then the other) and keep the cheapest converged plan.
            double bestCost = double.PositiveInfinity;
            SolveStatus bestStatus = SolveStatus.NonFinite;
            int bestIterations = 0;
            for (int start = 0; start < 1 + settings.ExtraStarts.Count; start++)
            {
                double[] init = start == 0 ? warm : Pump(settings.ExtraStarts[start - 1], T);
                MpcSolution plan = solver.Solve(problem, init);
                bool usable = plan.Status[0] is SolveStatus.Converged or SolveStatus.MaxIterations && double.IsFinite(plan.Cost[0]);
                if (usable && plan.Cost[0] < bestCost - 1e-9)
                {
                    bestCost = plan.Cost[0];
                    bestStatus = plan.Status[0];
                    bestIterations = plan.Iterations[0];
                    plan.U.AsSpan(0, T * m).CopyTo(best);
                }
            }
            clock.Stop();
            double u = double.IsFinite(best[0]) ? best[0] : 0;
            steps.Add(new CartpoleStep(k * Model.TimeStep, x[0], x[1], Math.Atan2(x[3], x[2]), x[4], u, bestStatus, bestIterations));
            // Warm start: the plan shifted by one step, its last control repeated.
            for (int t = 0; t < T - 1; t++)
            {
                warm[t] = double.IsFinite(best[t + 1]) ? best[t + 1] : 0;
            }
            warm[T - 1] = warm[Math.Max(T - 2, 0)];
            model.Step<double>(x, [u], theta, next);
            next.CopyTo(x, 0);
        }
        int upright = steps.FindIndex(s => Math.Abs(s.Angle) < UprightTolerance);
        int holdFrom = Math.Max(0, steps.Count - 20);
        bool held = upright >= 0 && steps.Skip(holdFrom).All(s => Math.Abs(s.Angle) < UprightTolerance);
        return new CartpoleResult(steps, clock.Elapsed.TotalMilliseconds / settings.Steps,
            upright >= 0 ? steps[upright].Time : double.NaN, held);
    }

    /// <summary>A start for iLQR: <paramref name="amplitude"/> for the first half of the horizon, minus it after.</summary>
    private static double[] Pump(double amplitude, int horizon)
    {
        var u = new double[horizon];
        for (int t = 0; t < horizon; t++)
        {
            u[t] = t < horizon / 2 ? amplitude : -amplitude;
        }
        return u;
    }

    /// <summary>Writes the run as CSV.</summary>
    public static void WriteCsv(CartpoleResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var w = new StreamWriter(path);
        w.WriteLine("time,position,velocity,angle,angular_velocity,force,status,iterations");
        foreach (CartpoleStep s in result.Steps)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Time:F2},{s.Position:F6},{s.Velocity:F6},{s.Angle:F6},{s.AngularVelocity:F6},{s.Force:F6},{s.Status},{s.Iterations}"));
        }
    }
}
