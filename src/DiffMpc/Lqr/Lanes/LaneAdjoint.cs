using DiffMpc.LinearAlgebra;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The adjoint-usable test of <see cref="SolutionWriter.AdjointUsable"/> for a lane group: the
/// primal side (max |tau|, max |lambda| per lane) is taken once by the forward pass, the adjoint
/// side after the backward pass, so no element's trajectories are read back one by one.
/// </summary>
internal static class LaneAdjoint
{
    /// <summary>Per lane, max |x_i| over x, or +Infinity when a value is not finite (as <see cref="SolutionWriter.MaxAbs"/>).</summary>
    public static TV MaxAbs<TV>(ReadOnlySpan<TV> x)
        where TV : struct
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

    /// <summary>
    /// usable[j] = whether lane j's adjoint (dtau [T][N], dlambda [T][n] in lanes) is finite and
    /// its outer products with the solution (max |tau| and max |lambda| per lane, from
    /// <see cref="MaxAbs{TV}"/>) cannot overflow: exactly <see cref="SolutionWriter.AdjointUsable"/>.
    /// </summary>
    public static void Usable<TV>(TV maxTau, TV maxLambda, ReadOnlySpan<TV> dtau, ReadOnlySpan<TV> dlambda, Span<bool> usable)
        where TV : struct
    {
        TV dt = MaxAbs(dtau), dl = MaxAbs(dlambda);
        var limit = Simd.Create<TV>(1e300);
        TV ok = Simd.And(Simd.And(Simd.LessThanOrEqual(Simd.Mul(dt, maxTau), limit), Simd.LessThanOrEqual(Simd.Mul(dl, maxTau), limit)),
            Simd.And(Simd.And(Simd.LessThanOrEqual(Simd.Mul(maxLambda, dt), limit), Simd.LessThanOrEqual(dl, limit)),
                Simd.LessThanOrEqual(dt, limit)));
        for (int j = 0; j < Simd.Width<TV>(); j++)
        {
            usable[j] = Simd.GetBits(ok, j) != 0;
        }
    }
}
