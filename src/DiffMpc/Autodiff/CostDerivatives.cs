// Notation: tau = (x, u) of length N = n + m; phi the cost parameters (q); c(tau; phi) the stage
// cost; gradient dc/dtau [N], Hessian d^2c/dtau^2 [N][N], mixed d^2c/dtau dphi [N][q].
using DiffMpc.Internal;
using DiffMpc.Nonlinear;

namespace DiffMpc.Autodiff;

/// <summary>
/// Exact derivatives of an <see cref="ICost"/> stage cost by forward-mode dual numbers: the
/// gradient over tau = (x, u) with N <c>Dual&lt;double&gt;</c> evaluations, the Hessian with
/// N(N+1)/2 <c>Dual&lt;Dual&lt;double&gt;&gt;</c> evaluations, the mixed derivative with N q of them.
/// A <see cref="QuadraticCost"/> is differentiated in closed form instead.
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
    private readonly Dual<double>[] _z1;
    private readonly Dual<Dual<double>>[] _z2;

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
        Guard.AtLeast(controlDim, 0, nameof(controlDim), "ControlDim (m)");
        Guard.AtLeast(cost.ParameterCount, 0, nameof(cost), "ParameterCount (q)");
        _quadratic = cost as QuadraticCost;
        if (_quadratic is not null && (_quadratic.StateDim != stateDim || _quadratic.ControlDim != controlDim))
        {
            throw new ArgumentException(
                $"{nameof(cost)} is a QuadraticCost for n={_quadratic.StateDim}, m={_quadratic.ControlDim}; got {nameof(stateDim)}={stateDim}, {nameof(controlDim)}={controlDim}.",
                nameof(cost));
        }
        _cost = cost;
        _n = stateDim;
        _m = controlDim;
        _q = cost.ParameterCount;
        _nt = stateDim + controlDim;
        _z1 = new Dual<double>[_nt + _q];
        _z2 = new Dual<Dual<double>>[_nt + _q];
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
        Dual<double>[] z = _z1;
        DualLoad.Constants(x, u, costParams, z);
        double value = 0;
        for (int j = 0; j < _nt; j++)
        {
            double v = z[j].Value;
            z[j] = new(v, 1.0);
            Dual<double> c = _cost.Evaluate<Dual<double>>(t, z.AsSpan(0, _n), z.AsSpan(_n, _m), z.AsSpan(_nt, _q));
            z[j] = new(v, 0.0);
            gradient[j] = c.Derivative;
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
        int nt = _nt;
        Dual<Dual<double>>[] z = _z2;
        DualLoad.Constants(x, u, costParams, z);
        double value = 0;
        for (int j = 0; j < nt; j++)
        {
            for (int k = j; k < nt; k++)
            {
                DualLoad.SeedPair(z, j, k);
                Dual<Dual<double>> c = _cost.Evaluate<Dual<Dual<double>>>(t, z.AsSpan(0, _n), z.AsSpan(_n, _m), z.AsSpan(nt, _q));
                hessian[j * nt + k] = c.Derivative.Derivative;
                hessian[k * nt + j] = c.Derivative.Derivative;
                if (k == j)
                {
                    gradient[j] = c.Derivative.Value;
                    value = c.Value.Value;
                }
                else
                {
                    DualLoad.Unseed(z, k);
                }
            }
            DualLoad.Unseed(z, j);
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
        int nt = _nt, q = _q;
        Dual<Dual<double>>[] z = _z2;
        DualLoad.Constants(x, u, costParams, z);
        for (int i = 0; i < nt; i++)
        {
            for (int k = 0; k < q; k++)
            {
                DualLoad.SeedPair(z, i, nt + k);
                Dual<Dual<double>> c = _cost.Evaluate<Dual<Dual<double>>>(t, z.AsSpan(0, _n), z.AsSpan(_n, _m), z.AsSpan(nt, q));
                DualLoad.Unseed(z, nt + k);
                mixed[i * q + k] = c.Derivative.Derivative;
            }
            DualLoad.Unseed(z, i);
        }
    }

    private void CheckInputs(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> costParams)
    {
        SpanGuard.Length(x.Length, _n, nameof(x), "[n]");
        SpanGuard.Length(u.Length, _m, nameof(u), "[m]");
        SpanGuard.Length(costParams.Length, _q, nameof(costParams), "[q]");
    }
}
