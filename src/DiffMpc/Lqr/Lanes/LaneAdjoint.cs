using DiffMpc.LinearAlgebra;
using DiffMpc.Problems;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The adjoint-usable test of <see cref="SolutionWriter.AdjointUsable"/> for the lane groups of a
/// lane solver: the primal side (max |tau|, max |lambda| per lane) is kept per group by the
/// forward pass (<see cref="KeepSolution"/>), the adjoint side is taken after the backward pass
/// (<see cref="Usable"/>), so no element's trajectories are read back one by one.
/// </summary>
internal sealed class LaneAdjoint<TV>(MpcDimensions d, int groups)
    where TV : struct
{
    private readonly int _tauLength = d.Horizon * d.TauDim, _lambdaLength = d.Horizon * d.StateDim;
    private readonly LaneArray<TV> _maxTau = new(groups);      // per lane, max |tau_t,i| over the solution, or +Inf when not finite, [G]
    private readonly LaneArray<TV> _maxLambda = new(groups);   // the same for the costates, [G]

    /// <summary>
    /// Keeps the primal side of group g's test from its solution tau [T][N] and costates lambda
    /// [T][n] in lanes (the leading T N and T n vectors of the spans given).
    /// </summary>
    public void KeepSolution(int g, ReadOnlySpan<TV> tau, ReadOnlySpan<TV> lambda)
    {
        _maxTau[g] = MaxAbs(tau[.._tauLength]);
        _maxLambda[g] = MaxAbs(lambda[.._lambdaLength]);
    }

    /// <summary>
    /// usable[j] = whether lane j's adjoint (dtau [T][N], dlambda [T][n] in lanes: the leading
    /// vectors of the spans given) is finite and
    /// its outer products with group g's solution (kept by <see cref="KeepSolution"/>) cannot
    /// overflow: exactly <see cref="SolutionWriter.AdjointUsable"/>.
    /// </summary>
    public void Usable(int g, ReadOnlySpan<TV> dtau, ReadOnlySpan<TV> dlambda, Span<bool> usable)
    {
        TV maxTau = _maxTau[g], maxLambda = _maxLambda[g];
        TV dt = MaxAbs(dtau[.._tauLength]), dl = MaxAbs(dlambda[.._lambdaLength]);
        var limit = Simd.Create<TV>(1e300);
        TV ok = Simd.And(Simd.And(Simd.LessThanOrEqual(Simd.Mul(dt, maxTau), limit), Simd.LessThanOrEqual(Simd.Mul(dl, maxTau), limit)),
            Simd.And(Simd.And(Simd.LessThanOrEqual(Simd.Mul(maxLambda, dt), limit), Simd.LessThanOrEqual(dl, limit)),
                Simd.LessThanOrEqual(dt, limit)));
        for (int j = 0; j < Simd.Width<TV>(); j++)
        {
            usable[j] = Simd.GetBits(ok, j) != 0;
        }
    }

    /// <summary>Per lane, max |x_i| over x, or +Infinity when a value is not finite (as <see cref="SolutionWriter.MaxAbs"/>).</summary>
    private static TV MaxAbs(ReadOnlySpan<TV> x)
    {
        // Two independent chains each; a NaN reaching the maxima does no harm, the zero products
        // (NaN once a value is not finite) decide.
        TV m0 = Simd.Zero<TV>(), m1 = Simd.Zero<TV>(), z0 = Simd.Zero<TV>(), z1 = Simd.Zero<TV>();
        int i = 0;
        for (; i + 1 < x.Length; i += 2)
        {
            m0 = Simd.MaxNative(m0, Simd.Abs(x[i]));
            m1 = Simd.MaxNative(m1, Simd.Abs(x[i + 1]));
            z0 = Simd.Fma(x[i], Simd.Zero<TV>(), z0);
            z1 = Simd.Fma(x[i + 1], Simd.Zero<TV>(), z1);
        }
        if (i < x.Length)
        {
            m0 = Simd.MaxNative(m0, Simd.Abs(x[i]));
            z0 = Simd.Fma(x[i], Simd.Zero<TV>(), z0);
        }
        TV bad = Simd.NonFinite(Simd.Add(z0, z1));
        return Simd.Select(bad, Simd.Create<TV>(double.PositiveInfinity), Simd.MaxNative(m0, m1));
    }
}
