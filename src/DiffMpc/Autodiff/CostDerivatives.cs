// Notation: tau = (x, u) of length N = n + m; phi the cost parameters (q); c(tau; phi) the stage
// cost; gradient dc/dtau [N], Hessian d^2c/dtau^2 [N][N], mixed d^2c/dtau dphi [N][q].
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.Internal;
using DiffMpc.Nonlinear;

namespace DiffMpc.Autodiff;

/// <summary>
/// Exact derivatives of an <see cref="ICost"/> stage cost by forward-mode dual numbers carrying
/// up to 8 directions at once: the gradient over tau = (x, u) with ceil(N / 8) multi-tangent
/// evaluations (4 per evaluation without AVX2), the Hessian with one second-order evaluation
/// (<see cref="HessianRowDual"/>) per row j and block of up to W = 8 columns k &gt;= j (W = 4 without
/// AVX-512), the mixed derivative with N ceil(q / W) of them.
/// Every entry is bitwise what a <c>Dual&lt;double&gt;</c> evaluation along one direction (a
/// <c>Dual&lt;Dual&lt;double&gt;&gt;</c> evaluation along a pair of directions) gives. A
/// <see cref="QuadraticCost"/> is differentiated in closed form instead.
/// </summary>
/// <remarks>
/// One instance per cost and thread: it owns the dual-number workspace, so calls after the first
/// allocate nothing. Not safe for concurrent use.
/// </remarks>
public sealed class CostDerivatives
{
    private readonly ICost _cost;
    private readonly QuadraticCost? _quadratic;
    private readonly int _n, _m, _q, _nt;
    private readonly MultiDual<Tangents8>[] _z8;
    private readonly MultiDual<Tangents4>[] _z4;
    private readonly HessianRowDual[] _zRow;
    private readonly Dual<MultiDual<Tangents4>>[] _zNested;

    /// <summary>
    /// The directions one second-order evaluation carries: 8 over <see cref="HessianRowDual"/>
    /// with AVX-512, else 4 (<see cref="DynamicsDerivatives.FlatSecondOrder"/>). The gradient
    /// takes 8 wherever Vector256 is accelerated (<see cref="DynamicsDerivatives.EightTangents"/>).
    /// </summary>
    private static int BlockWidth => DynamicsDerivatives.SecondOrderWidth;

    /// <summary>Creates the derivative evaluator and its workspace.</summary>
    /// <param name="cost">The stage cost.</param>
    /// <param name="stateDim">n, the state dimension of the dynamics the cost is used with.</param>
    /// <param name="controlDim">m, the control dimension.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cost"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="cost"/> is a <see cref="QuadraticCost"/> of other dimensions.</exception>
    public CostDerivatives(ICost cost, int stateDim, int controlDim)
    {
        Guard.NotNull(cost, nameof(cost));
        Guard.AtLeast(stateDim, 1, nameof(stateDim), "StateDim (n)");
        Guard.AtLeast(controlDim, 1, nameof(controlDim), "ControlDim (m)");
        Guard.AtLeast(cost.ParameterCount, 0, nameof(cost), "ParameterCount (q)");
        Guard.CostDimensions(cost, stateDim, controlDim, nameof(cost));
        _quadratic = cost as QuadraticCost;
        _cost = cost;
        _n = stateDim;
        _m = controlDim;
        _q = cost.ParameterCount;
        _nt = stateDim + controlDim;
        _z8 = new MultiDual<Tangents8>[_nt + _q];
        _z4 = new MultiDual<Tangents4>[_nt + _q];
        _zRow = new HessianRowDual[_nt + _q];
        _zNested = new Dual<MultiDual<Tangents4>>[_nt + _q];
    }

    /// <summary>The cost.</summary>
    public ICost Cost => _cost;

    /// <summary>n.</summary>
    public int StateDim => _n;

    /// <summary>m.</summary>
    public int ControlDim => _m;

    /// <summary>N = n + m.</summary>
    public int TauDim => _nt;

    /// <summary>q, the number of cost parameters.</summary>
    public int ParameterCount => _q;

    /// <summary>The cost value c_t(x, u; phi).</summary>
    /// <param name="t">The stage index.</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="costParams">phi, shape [q].</param>
    /// <returns>The cost.</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public double Evaluate(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams)
    {
        CheckInputs(x, u, costParams);
        return _cost.Evaluate(t, x, u, costParams);
    }

    /// <summary>The cost value and its gradient over tau = (x, u).</summary>
    /// <param name="t">The stage index.</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="costParams">phi, shape [q].</param>
    /// <param name="gradient">Receives dc/dtau, shape [n+m].</param>
    /// <returns>The cost.</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public double Gradient(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams,
        Span<double> gradient)
    {
        CheckInputs(x, u, costParams);
        SpanGuard.Length(gradient.Length, _nt, nameof(gradient), "[n+m]");
        if (_quadratic is not null)
        {
            return _quadratic.Gradient(x, u, costParams, gradient);
        }
        return DynamicsDerivatives.EightTangents
            ? GradientBlocks(t, x, u, costParams, gradient, _z8)
            : GradientBlocks(t, x, u, costParams, gradient, _z4);
    }

    /// <summary>The gradient in blocks of TT's width, one multi-tangent evaluation each; returns the value.</summary>
    private double GradientBlocks<TT>(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams,
        Span<double> gradient, MultiDual<TT>[] z)
        where TT : struct, ITangents<TT>
    {
        double value = 0;
        for (int c0 = 0; c0 < _nt; c0 += TT.Width)
        {
            int width = Math.Min(_nt - c0, TT.Width);
            DualLoad.Seed(x, u, costParams, z, c0, width);
            MultiDual<TT> c = _cost.Evaluate<MultiDual<TT>>(t, z.AsSpan(0, _n), z.AsSpan(_n, _m), z.AsSpan(_nt, _q));
            for (int k = 0; k < width; k++)
            {
                gradient[c0 + k] = c.Tangents[k];
            }
            value = c.Value;
        }
        return value;
    }

    /// <summary>The cost value, its gradient and its Hessian over tau = (x, u).</summary>
    /// <param name="t">The stage index.</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="costParams">phi, shape [q].</param>
    /// <param name="gradient">Receives dc/dtau, shape [n+m].</param>
    /// <param name="hessian">Receives d^2c/dtau^2, shape [n+m][n+m] row-major, symmetric.</param>
    /// <returns>The cost.</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public double Hessian(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams,
        Span<double> gradient, Span<double> hessian)
    {
        CheckInputs(x, u, costParams);
        SpanGuard.Length(gradient.Length, _nt, nameof(gradient), "[n+m]");
        SpanGuard.Length(hessian.Length, _nt * _nt, nameof(hessian), "[n+m][n+m]");
        if (_quadratic is not null)
        {
            _quadratic.Hessian(costParams, hessian);
            return _quadratic.Gradient(x, u, costParams, gradient);
        }
        int nt = _nt, w = BlockWidth;
        Span<double> row = stackalloc double[HessianRowDual.Width];
        double value = 0;
        for (int j = 0; j < nt; j++)
        {
            for (int c0 = j; c0 < nt; c0 += w)
            {
                int width = Math.Min(nt - c0, w);
                (double v, double dj) = SecondDerivatives(t, x, u, costParams, j, c0, width, row);
                DynamicsDerivatives.WriteMirrored(hessian, nt, j, c0, row[..width]);
                if (c0 == j)
                {
                    gradient[j] = dj;
                    value = v;
                }
            }
        }
        return value;
    }

    /// <summary>The mixed second derivative d^2 c / d tau d phi.</summary>
    /// <param name="t">The stage index.</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="costParams">phi, shape [q].</param>
    /// <param name="mixed">Receives d^2c/dtau_i dphi_k at [i][k], shape [n+m][q] row-major.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void MixedDerivative(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams,
        Span<double> mixed)
    {
        CheckInputs(x, u, costParams);
        SpanGuard.Length(mixed.Length, _nt * _q, nameof(mixed), "[n+m][q]");
        if (_quadratic is not null)
        {
            _quadratic.Mixed(x, u, mixed);
            return;
        }
        int nt = _nt, q = _q, w = BlockWidth;
        for (int i = 0; i < nt; i++)
        {
            for (int k0 = 0; k0 < q; k0 += w)
            {
                int width = Math.Min(q - k0, w);
                SecondDerivatives(t, x, u, costParams, i, nt + k0, width, mixed.Slice(i * q + k0, width));
            }
        }
    }

    /// <summary>
    /// One second-order evaluation: d^2c / dz_outer dz_{start+k} into <paramref name="second"/>[k]
    /// (k &lt; width &lt;= <see cref="BlockWidth"/>); returns the value and dc/dz_outer. Over
    /// <see cref="HessianRowDual"/> with AVX-512, else over the nested
    /// <c>Dual&lt;MultiDual&lt;Tangents4&gt;&gt;</c> (<see cref="DynamicsDerivatives.FlatSecondOrder"/>);
    /// the same bits either way.
    /// </summary>
    private (double Value, double Outer) SecondDerivatives(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u,
        ReadOnlySpan<double> costParams, int outer, int start, int width, Span<double> second)
    {
        int n = _n, m = _m, nt = _nt, q = _q;
        if (!DynamicsDerivatives.FlatSecondOrder)
        {
            return NestedSecondDerivatives(t, x, u, costParams, outer, start, width, second);
        }
        HessianRowDual[] z = _zRow;
        DualLoad.Seed(x, u, costParams, z, outer, start, width);
        HessianRowDual c = _cost.Evaluate<HessianRowDual>(t, z.AsSpan(0, n), z.AsSpan(n, m), z.AsSpan(nt, q));
        Span<double> all = stackalloc double[HessianRowDual.Width];   // one store, then scalar reads (see DynamicsDerivatives.HessianBlock)
        c.Second.StoreUnsafe(ref MemoryMarshal.GetReference(all));
        for (int k = 0; k < width; k++)
        {
            second[k] = all[k];
        }
        return (c.Value, c.Outer);
    }

    /// <summary>As <see cref="SecondDerivatives"/>, over the nested <c>Dual&lt;MultiDual&lt;Tangents4&gt;&gt;</c>.</summary>
    private (double Value, double Outer) NestedSecondDerivatives(int t, ReadOnlySpan<double> x, ReadOnlySpan<double> u,
        ReadOnlySpan<double> costParams, int outer, int start, int width, Span<double> second)
    {
        Dual<MultiDual<Tangents4>>[] z = _zNested;
        DualLoad.Seed(x, u, costParams, z, outer, start, width);
        Dual<MultiDual<Tangents4>> c = _cost.Evaluate<Dual<MultiDual<Tangents4>>>(t, z.AsSpan(0, _n), z.AsSpan(_n, _m), z.AsSpan(_nt, _q));
        for (int k = 0; k < width; k++)
        {
            second[k] = c.Derivative.Tangents[k];
        }
        return (c.Value.Value, c.Derivative.Value);
    }

    private void CheckInputs(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams)
    {
        SpanGuard.Length(x.Length, _n, nameof(x), "[n]");
        SpanGuard.Length(u.Length, _m, nameof(u), "[m]");
        SpanGuard.Length(costParams.Length, _q, nameof(costParams), "[q]");
    }
}
