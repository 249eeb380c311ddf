using DiffMpc.Problems;

namespace DiffMpc.Lqr;

/// <summary>
/// Internal, layout-resolved view of one batch of LQR data: strided views of C [T][B][N][N],
/// c [T][B][N], F [T-1][B][n][N], f [T-1][B][n] (may be zero) and x_init [B][n], N = n + m.
/// The same engine serves user problems (broadcast views of the caller's arrays) and the LQR
/// approximations built by iterative solvers (full views of workspace arrays). The control
/// regularisation mu is part of the data: every use of C reads C + mu I on the control block.
/// </summary>
internal readonly struct LqrData
{
    public LqrData(MpcDimensions dims, double[] xInit, StageView C, StageView c, StageView F, StageView f,
        double controlRegularization = 0, bool symmetricC = false)
    {
        ControlRegularization = controlRegularization;
        SymmetricC = symmetricC;
        Dims = dims;
        XInit = xInit;
        this.C = C;
        this.c = c;
        this.F = F;
        this.f = f;
    }

    public MpcDimensions Dims { get; }

    public double[] XInit { get; }

    public StageView C { get; }

    public StageView c { get; }

    public StageView F { get; }

    public StageView f { get; }

    /// <summary>
    /// True when every C_t is exactly symmetric (a symmetrised copy, see
    /// <see cref="WithSymmetrizedCost"/>): the sweeps then read sym(C_t) = C_t and use the
    /// row-accumulating products of <see cref="RiccatiSweep"/>.
    /// </summary>
    public bool SymmetricC { get; }

    /// <summary>mu: part of the problem, as mu I added to every C_t's control block (1/2 mu |u_t|^2 in the cost).</summary>
    public double ControlRegularization { get; }

    /// <summary>
    /// The data of element b with C_t replaced by sym(C_t) written into <paramref name="buffer"/>
    /// ([T][N][N]; the returned view reads it for any b). Every quantity the sweeps derive from C
    /// uses sym(C) anyway, so results change only by round-off; the iterations of a
    /// box-constrained solve then skip the symmetrisation and use cheaper products.
    /// </summary>
    public LqrData WithSymmetrizedCost(int b, double[] buffer)
    {
        int T = Dims.Horizon, N = Dims.TauDim;
        for (int t = 0; t < T; t++)
        {
            RiccatiSweep.SymmetricPart(C.At(t, b), N, buffer.AsSpan(t * N * N, N * N));
        }
        var sym = new StageView(buffer, N * N, 0, N * N, scalar: false);
        return new LqrData(Dims, XInit, sym, c, F, f, ControlRegularization, symmetricC: true);
    }

    public static LqrData From(LqrProblem p, double controlRegularization)
    {
        MpcDimensions d = p.Dimensions;
        int B = d.BatchSize, n = d.StateDim, N = d.TauDim;
        return new LqrData(d, p.XInit,
            p.CostQuadratic.View(B, N * N),
            p.CostLinear.View(B, N),
            p.Dynamics.View(B, n * N),
            p.DynamicsOffset?.View(B, n) ?? default, controlRegularization);
    }
}
