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
        BoundGradient = new double[T * B * m];
        Free = new bool[T * B * m];
        FreeCount = new int[T * B];
        TauTrial = new double[T * B * N];
        CostGradient = new double[T * B * N];
        Iterations = new int[B];
        StepNorm = new double[B];
        KktResidual = new double[B];
        ActiveCount = new int[B];
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

    /// <summary>
    /// The adjoint's control gradient r_t = (sym(C_t) dtau_t)_u + dL/du_t + F_{t,u}' dlambda_{t+1},
    /// the derivative of L with respect to a control held at a bound, [T][B][m]; written by the
    /// backward pass for every stage of an included element where some control is held, and
    /// read (for the held controls only) when the bound gradients are assembled.
    /// </summary>
    public double[] BoundGradient { get; }

    /// <summary>Free (not held at a bound) flags of the controls, [T][B][m].</summary>
    public bool[] Free { get; }

    /// <summary>Number of free controls per stage, [T][B].</summary>
    public int[] FreeCount { get; }

    /// <summary>Line-search candidate trajectory, [T][B][n+m].</summary>
    public double[] TauTrial { get; }

    /// <summary>Gradient of the stage cost at the iterate, sym(C_t) tau_t + c_t, [T][B][n+m].</summary>
    public double[] CostGradient { get; }

    /// <summary>Outer iterations used per element, [B].</summary>
    public int[] Iterations { get; }

    /// <summary>Max-norm of the last control update per element, [B].</summary>
    public double[] StepNorm { get; }

    /// <summary>KKT residual (projected gradient of the condensed problem) per element, [B].</summary>
    public double[] KktResidual { get; }

    /// <summary>Controls at a bound per element, [B].</summary>
    public int[] ActiveCount { get; }

    /// <summary>Per-worker temporaries.</summary>
    public StageScratch[] Scratch { get; }

    /// <summary>
    /// Gives every worker's scratch its sym(C) buffer (<see cref="StageScratch.SymmetricCost"/>)
    /// before a box-constrained solve runs: allocated once per solver, not at whichever later call
    /// first hands a worker a box-constrained element.
    /// </summary>
    public void EnsureSymmetricCostBuffers()
    {
        foreach (StageScratch s in Scratch)
        {
            s.SymmetricCost ??= new double[Dims.Horizon * Dims.TauDim * Dims.TauDim];
        }
    }

    /// <summary>The current solve's cancellation token, polled by the iterative loops.</summary>
    public CancellationToken Cancellation { get; set; }

    public Span<double> KAt(int t, int b) => Slice(K, t, b, Dims.ControlDim * Dims.StateDim);

    public Span<double> kAt(int t, int b) => Slice(k, t, b, Dims.ControlDim);

    public Span<double> CholAt(int t, int b) => Slice(Chol, t, b, Dims.ControlDim * Dims.ControlDim);

    public Span<double> TauAt(int t, int b) => Slice(Tau, t, b, Dims.TauDim);

    public Span<double> LambdaAt(int t, int b) => Slice(Lambda, t, b, Dims.StateDim);

    public Span<double> DTauAt(int t, int b) => Slice(DTau, t, b, Dims.TauDim);

    public Span<double> DLambdaAt(int t, int b) => Slice(DLambda, t, b, Dims.StateDim);

    public Span<double> DkAt(int t, int b) => Slice(Dk, t, b, Dims.ControlDim);

    public Span<double> BoundGradientAt(int t, int b) => Slice(BoundGradient, t, b, Dims.ControlDim);

    public Span<bool> FreeAt(int t, int b) => Free.AsSpan((t * Dims.BatchSize + b) * Dims.ControlDim, Dims.ControlDim);

    public Span<double> TauTrialAt(int t, int b) => Slice(TauTrial, t, b, Dims.TauDim);

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
        Lo = new double[m];
        Hi = new double[m];
        FreeIdx = new int[m];
        Rows = new double[m * Math.Max(n, 1)];
        Rhs = new double[m];
        Qp = new Box.BoxQp(m);
    }

    /// <summary>Box-QP bounds of one stage, [m] each.</summary>
    public double[] Lo { get; }

    /// <summary>Upper box-QP bounds of one stage, [m].</summary>
    public double[] Hi { get; }

    /// <summary>Indices of the free controls of one stage, [m].</summary>
    public int[] FreeIdx { get; }

    /// <summary>Free rows of Q_ux of one stage, [m][n].</summary>
    public double[] Rows { get; }

    /// <summary>Right-hand side of a free-block solve, [m].</summary>
    public double[] Rhs { get; }

    /// <summary>The stage box-QP solver with its workspace.</summary>
    public Box.BoxQp Qp { get; }

    /// <summary>Value-function Hessian V_{t+1}, [n][n].</summary>
    public double[] V { get; }

    /// <summary>
    /// sym(C_t) of the element being solved by the box-constrained path, [T][N][N]; allocated for
    /// every worker before the solver's first box-constrained solve
    /// (<see cref="LqrWorkspace.EnsureSymmetricCostBuffers"/>, <see cref="LqrData.WithSymmetrizedCost"/>).
    /// </summary>
    public double[]? SymmetricCost { get; set; }

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
