// Notation: K_t, k_t the feedback and feedforward gains (u_t = K_t x_t + k_t); L_t the lower
// Cholesky factor of Q_uu,t; lambda_t the costate (multiplier of the dynamics constraint that
// defines x_t); d-prefixed buffers hold the adjoint (backward-pass) LQR solution.
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Lqr;

/// <summary>
/// Every buffer one LQR solve and its backward pass need, allocated once from the dimensions
/// and reused by every later solve of the same shape. Stage buffers are time-major [T][B][...].
/// </summary>
internal sealed class LqrWorkspace
{
    public LqrWorkspace(MpcDimensions dims, int workers)
    {
        Dims = dims;
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim;
        K = new double[T * B * m * n];
        k = new double[T * B * m];
        Chol = new double[T * B * m * m];
        Tau = new double[T * B * N];
        Lambda = new double[T * B * n];
        Cost = new double[B];
        Status = new SolveStatus[B];
        DTau = new double[T * B * N];
        DLambda = new double[T * B * n];
        Dk = new double[T * B * m];
        Scratch = new StageScratch[workers];
        for (int i = 0; i < workers; i++)
        {
            Scratch[i] = new StageScratch(n, m);
        }
    }

    public MpcDimensions Dims { get; }

    /// <summary>K_t, [T][B][m][n].</summary>
    public double[] K { get; }

    /// <summary>k_t, [T][B][m].</summary>
    public double[] k { get; }

    /// <summary>Lower Cholesky factor of Q_uu,t (+ regularisation), [T][B][m][m].</summary>
    public double[] Chol { get; }

    /// <summary>The primal solution tau_t = [x_t; u_t], [T][B][n+m].</summary>
    public double[] Tau { get; }

    /// <summary>Costates lambda_t, [T][B][n].</summary>
    public double[] Lambda { get; }

    /// <summary>Objective value per batch element, [B].</summary>
    public double[] Cost { get; }

    /// <summary>Outcome per batch element, [B].</summary>
    public SolveStatus[] Status { get; }

    /// <summary>Adjoint primal solution, [T][B][n+m].</summary>
    public double[] DTau { get; }

    /// <summary>Adjoint costates, [T][B][n].</summary>
    public double[] DLambda { get; }

    /// <summary>Adjoint feedforward gains, [T][B][m].</summary>
    public double[] Dk { get; }

    /// <summary>Per-worker temporaries.</summary>
    public StageScratch[] Scratch { get; }

    public Span<double> KAt(int t, int b) => Slice(K, t, b, Dims.ControlDim * Dims.StateDim);

    public Span<double> kAt(int t, int b) => Slice(k, t, b, Dims.ControlDim);

    public Span<double> CholAt(int t, int b) => Slice(Chol, t, b, Dims.ControlDim * Dims.ControlDim);

    public Span<double> TauAt(int t, int b) => Slice(Tau, t, b, Dims.TauDim);

    public Span<double> LambdaAt(int t, int b) => Slice(Lambda, t, b, Dims.StateDim);

    public Span<double> DTauAt(int t, int b) => Slice(DTau, t, b, Dims.TauDim);

    public Span<double> DLambdaAt(int t, int b) => Slice(DLambda, t, b, Dims.StateDim);

    public Span<double> DkAt(int t, int b) => Slice(Dk, t, b, Dims.ControlDim);

    private Span<double> Slice(double[] a, int t, int b, int size) =>
        a.AsSpan((t * Dims.BatchSize + b) * size, size);
}

/// <summary>Temporaries of one worker thread for one stage of a sweep.</summary>
internal sealed class StageScratch
{
    public StageScratch(int n, int m)
    {
        int N = n + m;
        V = new double[n * n];
        v = new double[n];
        Q = new double[N * N];
        q = new double[N];
        W = new double[n * N];
        h = new double[n];
    }

    /// <summary>Value-function Hessian V_{t+1}, [n][n].</summary>
    public double[] V { get; }

    /// <summary>Value-function gradient v_{t+1}, [n].</summary>
    public double[] v { get; }

    /// <summary>Stage Q-function Hessian, [N][N].</summary>
    public double[] Q { get; }

    /// <summary>Stage Q-function gradient, [N].</summary>
    public double[] q { get; }

    /// <summary>V_{t+1} F_t, [n][N].</summary>
    public double[] W { get; }

    /// <summary>V_{t+1} f_t + v_{t+1}, [n].</summary>
    public double[] h { get; }
}
