// Notation: tau = [x; u] (N = n + m); cost 1/2 tau' C tau + c' tau with C = diag(q) or a full
// C (N x N), c = p; the parameters phi are the cost's data: [q; p] or [C; p].
using System.Numerics;
using DiffMpc.Internal;

namespace DiffMpc.Nonlinear;

/// <summary>
/// The quadratic stage cost of the MPC task, 1/2 tau' C tau + p' tau over tau = [x; u], the same
/// for every stage, with its data as the cost parameters phi so that they can be differentiated:
/// <see cref="Diagonal"/> takes phi = [q; p] (C = diag(q), 2N values), <see cref="Full"/> takes
/// phi = [C; p] (C row-major, N^2 + N values), N = n + m.
/// </summary>
/// <remarks>
/// A full C is used through its symmetric part (C + C')/2, which is all the quadratic form
/// depends on. <c>DiffMpc.Autodiff.CostDerivatives</c> recognises this type and uses closed-form
/// derivatives instead of dual numbers. Immutable and thread-safe.
/// </remarks>
public sealed class QuadraticCost : ICost
{
    private QuadraticCost(int stateDim, int controlDim, bool diagonal)
    {
        Guard.AtLeast(stateDim, 1, nameof(stateDim), "StateDim (n)");
        Guard.AtLeast(controlDim, 1, nameof(controlDim), "ControlDim (m)");
        StateDim = stateDim;
        ControlDim = controlDim;
        IsDiagonal = diagonal;
        int N = stateDim + controlDim;
        LinearOffset = diagonal ? N : N * N;
        ParameterCount = LinearOffset + N;
    }

    /// <summary>A cost with C = diag(q): phi = [q (N); p (N)].</summary>
    /// <param name="stateDim">n, at least 1.</param>
    /// <param name="controlDim">m, at least 1 (as <see cref="Problems.MpcDimensions.ControlDim"/>).</param>
    /// <returns>The cost.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public static QuadraticCost Diagonal(int stateDim, int controlDim) => new(stateDim, controlDim, diagonal: true);

    /// <summary>A cost with a full C: phi = [C (N x N row-major); p (N)].</summary>
    /// <param name="stateDim">n, at least 1.</param>
    /// <param name="controlDim">m, at least 1 (as <see cref="Problems.MpcDimensions.ControlDim"/>).</param>
    /// <returns>The cost.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public static QuadraticCost Full(int stateDim, int controlDim) => new(stateDim, controlDim, diagonal: false);

    /// <summary>n.</summary>
    public int StateDim { get; }

    /// <summary>m.</summary>
    public int ControlDim { get; }

    /// <summary>N = n + m, the length of tau.</summary>
    public int TauDim => StateDim + ControlDim;

    /// <summary>True for C = diag(q), false for a full C.</summary>
    public bool IsDiagonal { get; }

    /// <summary>Where p starts in phi: N for a diagonal cost, N^2 for a full one.</summary>
    public int LinearOffset { get; }

    /// <summary>q = 2N (diagonal) or N^2 + N (full).</summary>
    public int ParameterCount { get; }

    /// <summary>Packs the cost data into a parameter vector phi.</summary>
    /// <param name="quadratic">q, shape [N] (diagonal cost), or C, shape [N][N] (full cost).</param>
    /// <param name="linear">p, shape [N].</param>
    /// <returns>phi, shape [q].</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public double[] PackParameters(ReadOnlySpan<double> quadratic, ReadOnlySpan<double> linear)
    {
        SpanGuard.Length(quadratic.Length, LinearOffset, nameof(quadratic), IsDiagonal ? "[N]" : "[N][N]");
        SpanGuard.Length(linear.Length, TauDim, nameof(linear), "[N]");
        double[] phi = new double[ParameterCount];
        quadratic.CopyTo(phi);
        linear.CopyTo(phi.AsSpan(LinearOffset));
        return phi;
    }

    /// <summary>1/2 tau' C tau + p' tau (the stage index is ignored).</summary>
    /// <typeparam name="T">double or a Dual.</typeparam>
    /// <param name="t">The stage (ignored).</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="costParams">phi, shape [q].</param>
    /// <returns>The cost.</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
        where T : IFloatingPointIeee754<T>
    {
        CheckShapes(x.Length, u.Length, costParams.Length);
        int N = TauDim;
        ReadOnlySpan<T> p = costParams[LinearOffset..];
        T half = T.CreateTruncating(0.5);
        T sum = T.Zero;
        for (int i = 0; i < N; i++)
        {
            T ti = Tau(x, u, i);
            T row;
            if (IsDiagonal)
            {
                row = costParams[i] * ti;
            }
            else
            {
                row = T.Zero;
                for (int j = 0; j < N; j++)
                {
                    row += costParams[i * N + j] * Tau(x, u, j);
                }
            }
            sum += (half * row + p[i]) * ti;
        }
        return sum;
    }

    private T Tau<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, int i) => i < StateDim ? x[i] : u[i - StateDim];

    internal void CheckShapes(int xLength, int uLength, int phiLength)
    {
        SpanGuard.Length(xLength, StateDim, "x", "[n]");
        SpanGuard.Length(uLength, ControlDim, "u", "[m]");
        SpanGuard.Length(phiLength, ParameterCount, "costParams", IsDiagonal ? "[2N]" : "[N*N+N]");
    }

    /// <summary>Closed-form gradient (q_i tau_i + p_i, or sym(C) tau + p) and value.</summary>
    internal double Gradient(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> phi, Span<double> gradient)
    {
        int N = TauDim;
        ReadOnlySpan<double> p = phi[LinearOffset..];
        double value = 0;
        for (int i = 0; i < N; i++)
        {
            double ti = Tau(x, u, i);
            double ct;
            if (IsDiagonal)
            {
                ct = phi[i] * ti;
            }
            else
            {
                ct = 0;
                for (int j = 0; j < N; j++)
                {
                    ct += 0.5 * (phi[i * N + j] + phi[j * N + i]) * Tau(x, u, j);
                }
            }
            if (!gradient.IsEmpty)
            {
                gradient[i] = ct + p[i];
            }
            value += (0.5 * ct + p[i]) * ti;
        }
        return value;
    }

    /// <summary>Closed-form Hessian: diag(q) or (C + C')/2.</summary>
    internal void Hessian(ReadOnlySpan<double> phi, Span<double> hessian)
    {
        int N = TauDim;
        if (IsDiagonal)
        {
            hessian.Clear();
            for (int i = 0; i < N; i++)
            {
                hessian[i * N + i] = phi[i];
            }
            return;
        }
        for (int i = 0; i < N; i++)
        {
            for (int j = 0; j < N; j++)
            {
                hessian[i * N + j] = 0.5 * (phi[i * N + j] + phi[j * N + i]);
            }
        }
    }

    /// <summary>Closed-form d^2 cost / d tau d phi, [N][q].</summary>
    internal void Mixed(ReadOnlySpan<double> x, ReadOnlySpan<double> u, Span<double> mixed)
    {
        int N = TauDim, q = ParameterCount;
        mixed.Clear();
        for (int i = 0; i < N; i++)
        {
            Span<double> row = mixed.Slice(i * q, q);
            row[LinearOffset + i] = 1;
            if (IsDiagonal)
            {
                row[i] = Tau(x, u, i);
            }
            else
            {
                // d/dtau_i of 1/2 sum_kl C_kl tau_k tau_l, differentiated by C_kl: 1/2 (delta_ik tau_l + delta_il tau_k).
                for (int l = 0; l < N; l++)
                {
                    double tl = Tau(x, u, l);
                    row[i * N + l] += 0.5 * tl;
                    row[l * N + i] += 0.5 * tl;
                }
            }
        }
    }
}
