// Imitation learning of pendulum dynamics through nonlinear MPC (Amos et al. 2018, section 5.2):
// an expert runs box-constrained iLQR on the true pendulum (theta* = [g, mass, length] = [10, 1, 1]);
// a learner with the same cost but wrong parameters is trained so that its MPC controls match the
// expert's, by backpropagating the control MSE through the iLQR solution (IlqrSolver.Backward).
// The parameters are kept positive by optimising phi = log theta: dL/dphi = theta * dL/dtheta.
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using Model = DiffMpc.Systems.Pendulum;

namespace DiffMpc.Samples.ImitationLearning;

/// <summary>Settings of the pendulum imitation experiment.</summary>
/// <param name="Mode">How the learner's gradient is computed (exact, or the reference's first-order one).</param>
/// <param name="Epochs">Training iterations (full batch).</param>
/// <param name="Starts">Number of expert trajectories (initial states as in dynamics.md).</param>
/// <param name="LearningRate">Adam learning rate on log-parameters.</param>
/// <param name="Horizon">T.</param>
/// <param name="Seed">Seed of the initial states.</param>
public sealed record PendulumImitationSettings(NonlinearGradientMode Mode = NonlinearGradientMode.Exact, int Epochs = 150,
    int Starts = 16, double LearningRate = 0.01, int Horizon = 20, int Seed = 0)
{
    /// <summary>
    /// The wrong initial guess as log-offsets from theta* (g, mass, length). The pendulum's dynamics
    /// depend on theta only through g / length and mass * length^2, so no method can move the
    /// parameters along the direction (1, -2, 1) in log space; the default offset (0.4, 0.1, -0.2)
    /// is orthogonal to it. (Adam rescales the gradient per coordinate, so the learner still
    /// drifts along that direction: only the two identifiable combinations are recovered exactly.)
    /// </summary>
    public IReadOnlyList<double> InitialLogOffset { get; init; } = [0.4, 0.1, -0.2];
}

/// <summary>Training curves, one entry per epoch (before that epoch's update).</summary>
/// <param name="Loss">Imitation loss: MSE between the learner's and the expert's controls.</param>
/// <param name="ParameterError">
/// Error of the identifiable parameters: (log(g/length) - log(g*/length*))^2 + (log(mass length^2) -
/// log(mass* length*^2))^2. The dynamics, hence every trajectory and any imitation loss, depend on
/// (g, mass, length) only through these two combinations, so this is the error that can reach 0.
/// </param>
/// <param name="RawParameterError">||log theta - log theta*||^2 over (g, mass, length) (cannot reach 0 in general).</param>
/// <param name="Parameters">theta per epoch, [epoch][3].</param>
/// <param name="ConvergedFraction">Fraction of the learner's iLQR solves that converged.</param>
public sealed record PendulumImitationResult(NonlinearGradientMode Mode, double[] Loss, double[] ParameterError,
    double[] RawParameterError, double[][] Parameters, double[] ConvergedFraction)
{
    /// <summary>The first epoch at which the parameter error is below <paramref name="threshold"/>, or -1.</summary>
    public int EpochsTo(double threshold) => Array.FindIndex(ParameterError, e => e < threshold);
}

/// <summary>The pendulum imitation-learning experiment.</summary>
public static class PendulumImitation
{
    /// <param name="settings">Sizes and hyper-parameters.</param>
    /// <param name="progress">Called with (epoch, loss, parameter error) after every epoch; may be null.</param>
    public static PendulumImitationResult Run(PendulumImitationSettings settings, Action<int, double, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = new Model();
        int T = settings.Horizon, B = settings.Starts, n = model.StateDim, m = model.ControlDim, N = n + m, P = model.ParameterCount;
        var dims = new MpcDimensions(T, B, n, m);
        var random = new Random(settings.Seed);
        var xInit = new double[B * n];
        for (int b = 0; b < B; b++)
        {
            Model.SampleInitialState(random, xInit.AsSpan(b * n, n));
        }
        double[] q = Model.CostDiagQ;
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = q[i];
        }
        StageArray cost = StageArray.Shared(C), linear = StageArray.Shared(Model.CostP);
        StageArray lower = StageArray.Scalar(Model.ControlLower), upper = StageArray.Scalar(Model.ControlUpper);
        var ilqr = new MpcOptions { Tolerance = 1e-8, MaxIterations = 100, GradientMode = settings.Mode };

        // Expert demonstrations: the true pendulum's MPC controls.
        double[] trueTheta = Model.TextbookParameters;
        var expertSolver = new IlqrSolver(dims, model, ilqr);
        MpcSolution expert = expertSolver.Solve(new NonlinearProblem(dims, model, trueTheta, xInit, cost, linear, lower, upper));
        double[] expertU = (double[])expert.U.Clone();
        bool[] keep = expert.Status.Select(s => s == SolveStatus.Converged).ToArray();

        var phi = new double[P];      // log theta
        var theta = new double[P];
        for (int i = 0; i < P; i++)
        {
            phi[i] = Math.Log(trueTheta[i]) + settings.InitialLogOffset[i];
        }
        var solver = new IlqrSolver(dims, model, ilqr);
        var optimizer = new Adam(P, settings.LearningRate);
        var dLdu = new double[T * B * m];
        var gradPhi = new double[P];
        var loss = new double[settings.Epochs];
        var error = new double[settings.Epochs];
        var rawError = new double[settings.Epochs];
        var history = new double[settings.Epochs][];
        var converged = new double[settings.Epochs];
        int used = keep.Count(k => k);
        double count = used * T * m;
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            for (int i = 0; i < P; i++)
            {
                theta[i] = Math.Exp(phi[i]);
            }
            history[epoch] = (double[])theta.Clone();
            rawError[epoch] = Enumerable.Range(0, P).Sum(i => Math.Pow(phi[i] - Math.Log(trueTheta[i]), 2));
            error[epoch] = IdentifiableError(theta, trueTheta);
            // theta is referenced by the problem; a new problem per epoch keeps that explicit.
            var problem = new NonlinearProblem(dims, model, (double[])theta.Clone(), xInit, cost, linear, lower, upper);
            // Cold start (u = 0), like the expert: the learner's solution is then the same function
            // of theta as the expert's is of theta*. A warm start from the previous epoch's plan can
            // keep the learner in another local minimum (swinging the other way) than the expert's.
            MpcSolution plan = solver.Solve(problem);
            converged[epoch] = plan.ConvergedCount / (double)B;
            double sum = 0;
            for (int t = 0; t < T; t++)
            {
                for (int b = 0; b < B; b++)
                {
                    int i = t * B + b;
                    bool usable = keep[b] && double.IsFinite(plan.U[i]);
                    double d = usable ? plan.U[i] - expertU[i] : 0;
                    sum += d * d;
                    dLdu[i] = 2 * d / count;
                }
            }
            loss[epoch] = sum / count;
            NonlinearGradients gradients = solver.Backward(null, dLdu);
            for (int i = 0; i < P; i++)
            {
                gradPhi[i] = gradients.Parameters[i] * theta[i];   // chain rule through theta = exp(phi)
            }
            optimizer.Update(phi, gradPhi);
            progress?.Invoke(epoch, loss[epoch], error[epoch]);
        }
        return new PendulumImitationResult(settings.Mode, loss, error, rawError, history, converged);
    }

    /// <summary>The squared log-error of g / length and mass * length^2 (what the dynamics depend on).</summary>
    public static double IdentifiableError(IReadOnlyList<double> theta, IReadOnlyList<double> trueTheta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(trueTheta);
        double a = Math.Log(theta[0] / theta[2]) - Math.Log(trueTheta[0] / trueTheta[2]);
        double b = Math.Log(theta[1] * theta[2] * theta[2]) - Math.Log(trueTheta[1] * trueTheta[2] * trueTheta[2]);
        return a * a + b * b;
    }
}
