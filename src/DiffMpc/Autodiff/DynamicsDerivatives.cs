// Notation: z = (x, u, theta) of length N = n + m + p; g(z) the next state (n);
// J = dg/dz, [n][N]; H = sum_i lambda_i d^2 g_i / dz^2, [N][N].
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.Internal;
using DiffMpc.Nonlinear;

namespace DiffMpc.Autodiff;

/// <summary>
/// Exact first and second derivatives of an <see cref="IDynamics"/> model by forward-mode dual
/// numbers carrying several tangents at once: the Jacobian with one multi-tangent evaluation per
/// block of up to 16 input directions, the Hessian of the Lagrangian lambda' g with one
/// second-order evaluation (<see cref="HessianRowDual"/>) per row and block of up to 8 columns
/// (upper triangle, mirrored).
/// </summary>
/// <remarks>
/// <para>Construct one instance per model and thread: it owns the dual-number workspace, so every
/// call after the first (which JIT-compiles the model for the dual types) allocates nothing. An
/// instance is not safe for concurrent use; the model itself is shared.</para>
/// <para>Cost per call with N = n + m + p, where AVX-512 accelerates Vector512:
/// <see cref="Jacobian"/> ceil(N / 16) model evaluations (one for N &lt;= 16; or one analytic
/// Jacobian when the model implements <see cref="IAnalyticDynamics"/>);
/// <see cref="LagrangianHessian(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>
/// about N ceil(N / 8) / 2 second-order evaluations. With AVX2 only, Jacobian blocks of 8; without
/// AVX2 both take blocks of 4 directions (<see cref="EightTangents"/>). Every entry is bitwise the one that a
/// <c>Dual&lt;double&gt;</c> evaluation along one direction (a <c>Dual&lt;Dual&lt;double&gt;&gt;</c>
/// evaluation along a pair of directions) gives: the tangents are independent and each is
/// computed with the same operations in the same order.</para>
/// </remarks>
public sealed class DynamicsDerivatives
{
    private const string ShapeX = "[n]";
    private const string ShapeU = "[m]";
    private const string ShapeTheta = "[p]";
    private const string ShapeLambda = "[n]";
    private const string ShapeJacobian = "[n][n+m+p]";
    private const string ShapeHessian = "[n+m+p][n+m+p]";

    private readonly IDynamics _model;
    private readonly IAnalyticDynamics? _analytic;
    private readonly int _n, _m, _p, _nz;
    private readonly Workspace<Tangents4> _w4;
    private readonly Workspace<Tangents8> _w8;
    private readonly Workspace<Tangents16> _w16;
    private readonly HessianRowDual[] _hessianInputs, _hessianOutputs;
    private readonly Dual<MultiDual<Tangents4>>[] _nestedInputs, _nestedOutputs;

    /// <summary>Creates the derivative evaluator and its workspace for one model.</summary>
    /// <param name="model">The dynamics; used through <see cref="IAnalyticDynamics.Jacobian"/> when it implements that interface.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension of the model is out of range (n &lt; 1, m &lt; 0 or p &lt; 0).</exception>
    public DynamicsDerivatives(IDynamics model)
    {
        Guard.NotNull(model, nameof(model));
        _model = model;
        _analytic = model as IAnalyticDynamics;
        _n = model.StateDim;
        _m = model.ControlDim;
        _p = model.ParameterCount;
        Guard.AtLeast(_n, 1, nameof(model), "StateDim (n)");
        Guard.AtLeast(_m, 0, nameof(model), "ControlDim (m)");
        Guard.AtLeast(_p, 0, nameof(model), "ParameterCount (p)");
        _nz = _n + _m + _p;
        _w4 = new Workspace<Tangents4>(_n, _nz);
        _w8 = new Workspace<Tangents8>(_n, _nz);
        _w16 = new Workspace<Tangents16>(_n, _nz);
        _hessianInputs = new HessianRowDual[_nz];
        _hessianOutputs = new HessianRowDual[_n];
        _nestedInputs = new Dual<MultiDual<Tangents4>>[_nz];
        _nestedOutputs = new Dual<MultiDual<Tangents4>>[_n];
    }

    /// <summary>The model.</summary>
    public IDynamics Model => _model;

    /// <summary>n, the state dimension.</summary>
    public int StateDim => _n;

    /// <summary>m, the control dimension.</summary>
    public int ControlDim => _m;

    /// <summary>p, the number of dynamics parameters.</summary>
    public int ParameterCount => _p;

    /// <summary>N = n + m + p, the length of z = (x, u, theta): the column count of the Jacobian and the order of the Hessian.</summary>
    public int InputDim => _nz;

    /// <summary>True when <see cref="Jacobian"/> uses the model's own <see cref="IAnalyticDynamics.Jacobian"/>.</summary>
    public bool UsesAnalyticJacobian => _analytic is not null;

    /// <summary>The next state g(x, u; theta) in plain doubles.</summary>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="xNext">Receives the next state, shape [n].</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Evaluate(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta, Span<double> xNext)
    {
        CheckInputs(x, u, theta);
        SpanGuard.Length(xNext.Length, _n, nameof(xNext), ShapeX);
        Step(_model, x, u, theta, xNext);
    }

    /// <summary>The next state and the Jacobian of the dynamics with respect to z = (x, u, theta).</summary>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="xNext">Receives g(x, u; theta), shape [n].</param>
    /// <param name="jacobian">Receives dg/dz, shape [n][n+m+p] row-major, columns ordered x, u, theta.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Jacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        Span<double> xNext, Span<double> jacobian)
    {
        CheckInputs(x, u, theta);
        SpanGuard.Length(xNext.Length, _n, nameof(xNext), ShapeX);
        SpanGuard.Length(jacobian.Length, _n * _nz, nameof(jacobian), ShapeJacobian);
        if (_analytic is not null)
        {
            Step(_model, x, u, theta, xNext);
            _analytic.Jacobian(x, u, theta, jacobian);
            return;
        }
        AutodiffJacobian(x, u, theta, xNext, jacobian);
    }

    /// <summary>
    /// The Hessian of the Lagrangian lambda' g(z): H = sum_i lambda_i d^2 g_i / dz^2 over
    /// z = (x, u, theta), symmetric, by nested dual numbers (exact up to rounding).
    /// </summary>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="lambda">The weights of the outputs (costate), shape [n].</param>
    /// <param name="hessian">Receives H, shape [n+m+p][n+m+p] row-major (both triangles written).</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void LagrangianHessian(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        ReadOnlySpan<double> lambda, Span<double> hessian) =>
        LagrangianHessian(x, u, theta, lambda, hessian, [], []);

    /// <summary>
    /// As <see cref="LagrangianHessian(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>,
    /// and also the next state and the autodiff Jacobian, which the nested evaluations give at no
    /// extra cost (the Jacobian is always the autodiff one here, even for an
    /// <see cref="IAnalyticDynamics"/> model).
    /// </summary>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="lambda">The weights of the outputs (costate), shape [n].</param>
    /// <param name="hessian">Receives H, shape [n+m+p][n+m+p] row-major.</param>
    /// <param name="xNext">Receives g(x, u; theta), shape [n]; or empty to skip.</param>
    /// <param name="jacobian">Receives dg/dz, shape [n][n+m+p]; or empty to skip.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void LagrangianHessian(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        ReadOnlySpan<double> lambda, Span<double> hessian, Span<double> xNext, Span<double> jacobian)
    {
        CheckInputs(x, u, theta);
        SpanGuard.Length(lambda.Length, _n, nameof(lambda), ShapeLambda);
        SpanGuard.Length(hessian.Length, _nz * _nz, nameof(hessian), ShapeHessian);
        if (!xNext.IsEmpty)
        {
            SpanGuard.Length(xNext.Length, _n, nameof(xNext), ShapeX);
        }
        if (!jacobian.IsEmpty)
        {
            SpanGuard.Length(jacobian.Length, _n * _nz, nameof(jacobian), ShapeJacobian);
        }

        NestedEvaluations(x, u, theta, lambda, hessian, xNext, jacobian, _nz, _nz);
    }

    /// <summary>
    /// The block H[0..rows, 0..columns] of the Lagrangian Hessian H (see
    /// <see cref="LagrangianHessian(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>),
    /// rows &lt;= columns, written with its mirror H[0..columns, 0..rows]; other entries are left
    /// untouched. Each computed entry is bitwise the full method's, at the cost of only the pairs
    /// of directions it needs: the solution's exact gradient uses the tau-tau and tau-theta blocks
    /// (rows = n+m, columns = n+m+p), never theta-theta; a Newton step of the iteration only the
    /// tau-tau block (columns = n+m).
    /// </summary>
    internal void LagrangianHessianRows(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        ReadOnlySpan<double> lambda, Span<double> hessian, int rows, int columns)
    {
        CheckInputs(x, u, theta);
        SpanGuard.Length(lambda.Length, _n, nameof(lambda), ShapeLambda);
        SpanGuard.Length(hessian.Length, _nz * _nz, nameof(hessian), ShapeHessian);
        Guard.InRange(columns, 0, _nz, nameof(columns), "columns");
        Guard.InRange(rows, 0, columns, nameof(rows), "rows");
        NestedEvaluations(x, u, theta, lambda, hessian, [], [], rows, columns);
    }

    /// <summary>
    /// H[j, k] and H[k, j] for every pair j &lt;= k &lt; <paramref name="columns"/> with j &lt;
    /// <paramref name="rows"/>: for each row j, evaluations over <see cref="HessianRowDual"/>
    /// with the outer tangent along e_j and the inner tangents along a block of up to 8
    /// directions k, so that one evaluation gives up to 8 entries of the row. Entry (j, k) is
    /// bitwise the one of a <c>Dual&lt;Dual&lt;double&gt;&gt;</c> evaluation seeded along (e_j, e_k).
    /// </summary>
    private void NestedEvaluations(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        ReadOnlySpan<double> lambda, Span<double> hessian, Span<double> xNext, Span<double> jacobian, int rows,
        int columns)
    {
        int blockWidth = SecondOrderWidth;
        for (int j = 0; j < rows; j++)
        {
            // The first block of row j starts at column j: it also gives column j of the
            // Jacobian and, for row 0, the value.
            for (int c0 = j; c0 < columns; c0 += blockWidth)
            {
                bool first = c0 == j;
                int width = Math.Min(columns - c0, blockWidth);
                Span<double> value = first && j == 0 ? xNext : [], jac = first ? jacobian : [];
                if (FlatSecondOrder)
                {
                    HessianBlock(x, u, theta, lambda, hessian, j, c0, width, value, jac);
                }
                else
                {
                    NestedHessianBlock(x, u, theta, lambda, hessian, j, c0, width, value, jac);
                }
            }
        }
    }

    /// <summary>
    /// True where Vector256 is hardware-accelerated (AVX2, AVX-512): tangents then go 8 per
    /// evaluation (<see cref="Tangents8"/>, two Vector256 halves), and Jacobian blocks 16
    /// (<see cref="Tangents16"/>) where Vector512 is accelerated too. Elsewhere (ARM64) wider
    /// vectors are emulated in software, several times slower per tangent than the 4 per
    /// evaluation used there. Every entry is the same bits whatever the width.
    /// </summary>
    internal static bool EightTangents => Vector256.IsHardwareAccelerated;

    /// <summary>
    /// True where Vector512 is hardware-accelerated (AVX-512): second derivatives then go through
    /// <see cref="HessianRowDual"/>, whose Vector512 fields keep a model's whole Step inlined.
    /// Elsewhere its Vector512 arithmetic would be emulated (a cartpole Lagrangian Hessian with
    /// AVX2 only: 15.9 us), so the nested <c>Dual&lt;MultiDual&lt;Tangents4&gt;&gt;</c> takes 4
    /// columns per evaluation there (9.6 us; the same bits). Measured and not kept: the nested
    /// type over Tangents8 with AVX2 (10.5-12.9 us: larger numbers, the JIT's inlining budget),
    /// HessianRowDual held in Vector256 halves (AVX2 4.7-5.2 us, but the AVX-512 cartpole
    /// Hessian 50% slower: twice the instructions per operation), and its Vector512 fields split
    /// into halves inside each operation where Vector512 is not accelerated (AVX2 10.5-11.2 us:
    /// GetLower, GetUpper and Create of an emulated Vector512 go through memory).
    /// </summary>
    internal static bool FlatSecondOrder => Vector512.IsHardwareAccelerated;

    /// <summary>The columns one second-order evaluation gives: <see cref="HessianRowDual.Width"/> where <see cref="FlatSecondOrder"/>, else 4.</summary>
    internal static int SecondOrderWidth => FlatSecondOrder ? HessianRowDual.Width : 4;

    /// <summary>
    /// As <see cref="HessianBlock"/>, over the nested <c>Dual&lt;MultiDual&lt;Tangents4&gt;&gt;</c>
    /// (the machines without AVX-512: see <see cref="FlatSecondOrder"/>).
    /// </summary>
    private void NestedHessianBlock(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        ReadOnlySpan<double> lambda, Span<double> hessian, int j, int c0, int width, Span<double> xNext, Span<double> jacobian)
    {
        int n = _n, m = _m, nz = _nz;
        Dual<MultiDual<Tangents4>>[] z = _nestedInputs;
        Dual<MultiDual<Tangents4>>[] g = _nestedOutputs;
        DualLoad.Seed(x, u, theta, z, j, c0, width);
        Step<Dual<MultiDual<Tangents4>>>(_model, z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m, _p), g.AsSpan(0, n));
        Tangents4 h = Tangents4.Zero;
        for (int i = 0; i < n; i++)
        {
            h += lambda[i] * g[i].Derivative.Tangents;
        }
        Span<double> row = stackalloc double[4];
        h.CopyTo(row);
        WriteMirrored(hessian, nz, j, c0, row[..width]);
        for (int i = 0; i < n && !jacobian.IsEmpty; i++)
        {
            jacobian[i * nz + j] = g[i].Derivative.Value;
        }
        for (int i = 0; i < n && !xNext.IsEmpty; i++)
        {
            xNext[i] = g[i].Value.Value;
        }
    }

    /// <summary>
    /// One evaluation over <see cref="HessianRowDual"/>: row j of the Lagrangian Hessian at
    /// columns c0 .. c0+width-1 (and the mirrored column); with non-empty spans also column j of
    /// the Jacobian and the value.
    /// </summary>
    private void HessianBlock(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        ReadOnlySpan<double> lambda, Span<double> hessian, int j, int c0, int width, Span<double> xNext, Span<double> jacobian)
    {
        int n = _n, m = _m, nz = _nz;
        HessianRowDual[] z = _hessianInputs;
        HessianRowDual[] g = _hessianOutputs;
        DualLoad.Seed(x, u, theta, z, j, c0, width);
        Step<HessianRowDual>(_model, z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m, _p), g.AsSpan(0, n));
        Vector512<double> h = default;
        for (int i = 0; i < n; i++)
        {
            h += lambda[i] * g[i].Second;
        }
        // One store of the row block, then scalar reads (an element read by index from a vector
        // register spills the vector each time).
        Span<double> row = stackalloc double[HessianRowDual.Width];
        h.StoreUnsafe(ref MemoryMarshal.GetReference(row));
        WriteMirrored(hessian, nz, j, c0, row[..width]);
        if (!jacobian.IsEmpty)
        {
            for (int i = 0; i < n; i++)
            {
                jacobian[i * nz + j] = g[i].Outer;
            }
        }
        if (!xNext.IsEmpty)
        {
            for (int i = 0; i < n; i++)
            {
                xNext[i] = g[i].Value;
            }
        }
    }

    /// <summary>
    /// Compares a model's Jacobian (its analytic one when it implements
    /// <see cref="IAnalyticDynamics"/>, else autodiff) with central finite differences, so that a
    /// hand-written Jacobian can be checked. Allocates; meant for tests and setup.
    /// </summary>
    /// <param name="model">The dynamics.</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="step">The relative finite-difference step h: coordinate z_j moves by +-h max(1, |z_j|).</param>
    /// <returns>The largest |J_ij - FD_ij| / max(1, |FD_ij|) over all entries.</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not positive and finite.</exception>
    public static double CheckJacobian(IDynamics model, ReadOnlySpan<double> x, ReadOnlySpan<double> u,
        ReadOnlySpan<double> theta, double step = 1e-6)
    {
        var d = new DynamicsDerivatives(model);
        d.CheckInputs(x, u, theta);
        Guard.InRange(step, double.Epsilon, double.MaxValue, nameof(step), "step");
        int n = d._n, nz = d._nz;
        double[] jac = new double[n * nz];
        double[] xNext = new double[n];
        d.Jacobian(x, u, theta, xNext, jac);
        double[] fd = FiniteDifferenceJacobian(d, x, u, theta, step);
        return MaxRelativeError(jac, fd);
    }

    /// <summary>
    /// Compares <see cref="LagrangianHessian(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>
    /// with central finite differences of lambda' J (J from <see cref="Jacobian"/>). Allocates;
    /// meant for tests and setup.
    /// </summary>
    /// <param name="model">The dynamics.</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="lambda">The output weights, shape [n].</param>
    /// <param name="step">The relative finite-difference step h.</param>
    /// <returns>The largest |H_jk - FD_jk| / max(1, |FD_jk|).</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not positive and finite.</exception>
    public static double CheckLagrangianHessian(IDynamics model, ReadOnlySpan<double> x, ReadOnlySpan<double> u,
        ReadOnlySpan<double> theta, ReadOnlySpan<double> lambda, double step = 1e-5)
    {
        var d = new DynamicsDerivatives(model);
        d.CheckInputs(x, u, theta);
        SpanGuard.Length(lambda.Length, d._n, nameof(lambda), ShapeLambda);
        Guard.InRange(step, double.Epsilon, double.MaxValue, nameof(step), "step");
        int n = d._n, m = d._m, nz = d._nz;
        double[] hess = new double[nz * nz];
        d.LagrangianHessian(x, u, theta, lambda, hess);
        double[] z = Concat(x, u, theta);
        double[] fd = new double[nz * nz];
        double[] jp = new double[n * nz], jm = new double[n * nz], xn = new double[n];
        for (int k = 0; k < nz; k++)
        {
            double h = step * Math.Max(1, Math.Abs(z[k]));
            double zk = z[k];
            z[k] = zk + h;
            d.Jacobian(z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m), xn, jp);
            z[k] = zk - h;
            d.Jacobian(z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m), xn, jm);
            z[k] = zk;
            for (int j = 0; j < nz; j++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                {
                    s += lambda[i] * (jp[i * nz + j] - jm[i * nz + j]);
                }
                fd[j * nz + k] = s / (2 * h);
            }
        }
        return MaxRelativeError(hess, fd);
    }

    /// <summary>
    /// Entries (j, c0 + k) and (c0 + k, j) of the symmetric size x size row-major
    /// <paramref name="hessian"/> = row[k]: one block of row j of an upper-triangle evaluation,
    /// mirrored (the Lagrangian Hessian here, the cost Hessian in <see cref="CostDerivatives"/>).
    /// </summary>
    internal static void WriteMirrored(Span<double> hessian, int size, int j, int c0, ReadOnlySpan<double> row)
    {
        for (int k = 0; k < row.Length; k++)
        {
            hessian[j * size + c0 + k] = row[k];
            hessian[(c0 + k) * size + j] = row[k];
        }
    }

    /// <summary>
    /// The model's step, in plain doubles with <paramref name="xNext"/> set to NaN first: an entry
    /// a faulty model does not write then shows as NaN (a NonFinite element) instead of a stale
    /// value from an earlier call, which would pass for a result. The dual-number evaluations run
    /// at the points the rollouts have evaluated in doubles (where the model takes the same
    /// branches), so they are left as they are: filling them cost 5% of a cartpole Solve.
    /// </summary>
    private static void Step<T>(IDynamics model, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
        where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            xNext.Fill(T.NaN);
        }
        model.Step(x, u, theta, xNext);
    }

    private static double[] FiniteDifferenceJacobian(DynamicsDerivatives d, ReadOnlySpan<double> x,
        ReadOnlySpan<double> u, ReadOnlySpan<double> theta, double step)
    {
        int n = d._n, m = d._m, nz = d._nz;
        double[] z = Concat(x, u, theta);
        double[] fd = new double[n * nz], gp = new double[n], gm = new double[n];
        for (int j = 0; j < nz; j++)
        {
            double h = step * Math.Max(1, Math.Abs(z[j]));
            double zj = z[j];
            z[j] = zj + h;
            Step<double>(d._model, z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m), gp);
            z[j] = zj - h;
            Step<double>(d._model, z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m), gm);
            z[j] = zj;
            for (int i = 0; i < n; i++)
            {
                fd[i * nz + j] = (gp[i] - gm[i]) / (2 * h);
            }
        }
        return fd;
    }

    private static double[] Concat(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta)
    {
        double[] z = new double[x.Length + u.Length + theta.Length];
        x.CopyTo(z);
        u.CopyTo(z.AsSpan(x.Length));
        theta.CopyTo(z.AsSpan(x.Length + u.Length));
        return z;
    }

    private static double MaxRelativeError(double[] actual, double[] expected)
    {
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = Math.Abs(actual[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i]));
            if (double.IsNaN(e))
            {
                return double.NaN;
            }
            worst = Math.Max(worst, e);
        }
        return worst;
    }

    /// <summary>
    /// As <see cref="Jacobian"/>, but only columns 0 .. columns-1 of an autodiff Jacobian are
    /// computed (one evaluation each; the rest are left untouched): the iLQR iterations need
    /// dg/dtau, not dg/dtheta. An analytic Jacobian is computed whole.
    /// </summary>
    internal void JacobianColumns(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        Span<double> xNext, Span<double> jacobian, int columns)
    {
        CheckInputs(x, u, theta);
        SpanGuard.Length(xNext.Length, _n, nameof(xNext), ShapeX);
        SpanGuard.Length(jacobian.Length, _n * _nz, nameof(jacobian), ShapeJacobian);
        Guard.InRange(columns, 1, _nz, nameof(columns), "columns");
        if (_analytic is not null)
        {
            Step(_model, x, u, theta, xNext);
            _analytic.Jacobian(x, u, theta, jacobian);
            return;
        }
        AutodiffJacobian(x, u, theta, xNext, jacobian, columns);
    }

    /// <summary>
    /// Jacobian columns 0 .. columns-1 (all when negative) by multi-tangent evaluations, up to 16
    /// columns per model evaluation; column k is bitwise that of a <c>Dual&lt;double&gt;</c>
    /// evaluation seeded along e_k.
    /// </summary>
    private void AutodiffJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        Span<double> xNext, Span<double> jacobian, int columns = -1)
    {
        int cols = columns < 0 ? _nz : columns;
        for (int c0 = 0; c0 < cols;)
        {
            int width = cols - c0;
            Span<double> value = c0 == 0 ? xNext : [];
            if (width <= 4 || !EightTangents)
            {
                width = Math.Min(width, 4);
                JacobianBlock(_w4, x, u, theta, c0, width, value, jacobian);
            }
            else if (width <= 8 || !Vector512.IsHardwareAccelerated)
            {
                width = Math.Min(width, 8);
                JacobianBlock(_w8, x, u, theta, c0, width, value, jacobian);
            }
            else
            {
                width = Math.Min(width, 16);
                JacobianBlock(_w16, x, u, theta, c0, width, value, jacobian);
            }
            c0 += width;
        }
    }

    /// <summary>Jacobian columns c0 .. c0+width-1 (and the value when xNext is not empty) in one evaluation.</summary>
    private void JacobianBlock<TT>(Workspace<TT> w, ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta,
        int c0, int width, Span<double> xNext, Span<double> jacobian)
        where TT : struct, ITangents<TT>
    {
        int n = _n, m = _m, nz = _nz;
        MultiDual<TT>[] z = w.Z1;
        MultiDual<TT>[] g = w.G1;
        DualLoad.Seed(x, u, theta, z, c0, width);
        Step<MultiDual<TT>>(_model, z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(n + m, _p), g.AsSpan(0, n));
        Span<double> d = stackalloc double[16];
        for (int i = 0; i < n; i++)
        {
            g[i].Tangents.CopyTo(d);
            d[..width].CopyTo(jacobian.Slice(i * nz + c0, width));
            if (!xNext.IsEmpty)
            {
                xNext[i] = g[i].Value;
            }
        }
    }

    /// <summary>The dual-number inputs and outputs of one tangent width.</summary>
    private sealed class Workspace<TT>(int n, int nz)
        where TT : struct, ITangents<TT>
    {
        public MultiDual<TT>[] Z1 { get; } = new MultiDual<TT>[nz];

        public MultiDual<TT>[] G1 { get; } = new MultiDual<TT>[n];
    }

    private void CheckInputs(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta)
    {
        SpanGuard.Length(x.Length, _n, nameof(x), ShapeX);
        SpanGuard.Length(u.Length, _m, nameof(u), ShapeU);
        SpanGuard.Length(theta.Length, _p, nameof(theta), ShapeTheta);
    }
}
