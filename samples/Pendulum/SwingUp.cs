// Closed-loop MPC swing-up of the pendulum of ../shared/golden/dynamics.md: at every control
// step, solve a T-step box-constrained iLQR problem from the current state (warm-started from the
// previous plan shifted by one step), apply the first control, and step the true dynamics.
using System.Diagnostics;
using System.Globalization;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Systems;

namespace DiffMpc.Samples.Pendulum;

/// <summary>Settings of one swing-up run.</summary>
public sealed record SwingUpSettings(int Horizon = 20, int Steps = 120, double InitialAngle = Math.PI - 0.2);

/// <summary>One control step of the closed loop.</summary>
public readonly record struct SwingUpStep(double Time, double Angle, double Velocity, double Torque, SolveStatus Status);

/// <summary>The outcome of a run.</summary>
public sealed record SwingUpResult(IReadOnlyList<SwingUpStep> Steps, double MeanSolveMilliseconds, bool ReachedUpright, bool HeldUpright);

/// <summary>The closed-loop MPC swing-up.</summary>
public static class SwingUp
{
    /// <summary>Upright means |angle| below this (rad).</summary>
    public const double UprightTolerance = 0.1;

    public static SwingUpResult Run(SwingUpSettings settings)
    {
        var model = new DiffMpc.Systems.Pendulum();
        int T = settings.Horizon, n = model.StateDim, m = model.ControlDim, N = n + m;
        var dims = new MpcDimensions(T, 1, n, m);
        double[] q = DiffMpc.Systems.Pendulum.CostDiagQ;
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = q[i];
        }
        double[] theta = DiffMpc.Systems.Pendulum.TextbookParameters;
        double[] x = [Math.Cos(settings.InitialAngle), Math.Sin(settings.InitialAngle), 0];
        var solver = new IlqrSolver(dims, model, new MpcOptions { Tolerance = 1e-6, MaxIterations = 50 });
        var warm = new double[T * m];
        var next = new double[n];
        var steps = new List<SwingUpStep>(settings.Steps);
        var clock = new Stopwatch();
        for (int k = 0; k < settings.Steps; k++)
        {
            var problem = new NonlinearProblem(dims, model, theta, x, StageArray.Shared(C),
                StageArray.Shared(DiffMpc.Systems.Pendulum.CostP),
                StageArray.Scalar(DiffMpc.Systems.Pendulum.ControlLower), StageArray.Scalar(DiffMpc.Systems.Pendulum.ControlUpper));
            clock.Start();
            MpcSolution plan = solver.Solve(problem, warm);
            clock.Stop();
            double u = double.IsFinite(plan.U[0]) ? plan.U[0] : 0;
            double angle = Math.Atan2(x[1], x[0]);
            steps.Add(new SwingUpStep(k * DiffMpc.Systems.Pendulum.TimeStep, angle, x[2], u, plan.Status[0]));
            // Warm start: the plan shifted by one step, its last control repeated.
            for (int t = 0; t < T - 1; t++)
            {
                warm[t] = double.IsFinite(plan.U[t + 1]) ? plan.U[t + 1] : 0;
            }
            warm[T - 1] = warm[T - 2 < 0 ? 0 : T - 2];
            model.Step<double>(x, [u], theta, next);
            next.CopyTo(x, 0);
        }
        int upright = steps.FindIndex(s => Math.Abs(s.Angle) < UprightTolerance);
        int holdFrom = Math.Max(0, steps.Count - 20);
        bool held = upright >= 0 && steps.Skip(holdFrom).All(s => Math.Abs(s.Angle) < UprightTolerance);
        return new SwingUpResult(steps, clock.Elapsed.TotalMilliseconds / settings.Steps, upright >= 0, held);
    }

    /// <summary>Writes the run as CSV: time, angle, velocity, torque, status.</summary>
    public static void WriteCsv(SwingUpResult result, string path)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("time,angle,velocity,torque,status");
        foreach (SwingUpStep s in result.Steps)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Time:F2},{s.Angle:F6},{s.Velocity:F6},{s.Torque:F6},{s.Status}"));
        }
    }
}
