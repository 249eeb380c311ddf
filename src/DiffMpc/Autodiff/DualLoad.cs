using System.Runtime.Intrinsics;

namespace DiffMpc.Autodiff;

/// <summary>
/// Loads z = [x; u; p] as dual numbers seeded along blocks of unit directions: the inputs of
/// every multi-tangent and second-order evaluation of a model or a cost.
/// </summary>
internal static class DualLoad
{
    /// <summary>
    /// z = [x; u; p] as multi-tangent numbers with tangent k along e_{start+k} (k &lt; width),
    /// all other tangents zero.
    /// </summary>
    public static void Seed<TT>(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> p,
        Span<MultiDual<TT>> z, int start, int width)
        where TT : struct, ITangents<TT>
    {
        int n = x.Length, m = u.Length;
        ReadOnlySpan<TT> units = UnitTangents<TT>.All;
        for (int i = 0; i < z.Length; i++)
        {
            double v = i < n ? x[i] : i < n + m ? u[i - n] : p[i - n - m];
            z[i] = new(v, i >= start && i < start + width ? units[i - start] : TT.Zero);
        }
    }

    /// <summary>
    /// z = [x; u; p] as nested numbers with the outer tangent along e_<paramref name="outer"/>
    /// and inner tangent k along e_{start+k} (k &lt; width): the same seeds as the
    /// <see cref="HessianRowDual"/> overload, in the nested type.
    /// </summary>
    public static void Seed<TT>(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> p,
        Span<Dual<MultiDual<TT>>> z, int outer, int start, int width)
        where TT : struct, ITangents<TT>
    {
        int n = x.Length, m = u.Length;
        ReadOnlySpan<TT> units = UnitTangents<TT>.All;
        for (int i = 0; i < z.Length; i++)
        {
            double v = i < n ? x[i] : i < n + m ? u[i - n] : p[i - n - m];
            TT inner = i >= start && i < start + width ? units[i - start] : TT.Zero;
            z[i] = new(new(v, inner), i == outer ? MultiDual<TT>.One : MultiDual<TT>.Zero);
        }
    }

    /// <summary>
    /// z = [x; u; p] as <see cref="HessianRowDual"/> numbers with the outer tangent along
    /// e_<paramref name="outer"/> and inner tangent k along e_{start+k} (k &lt; width): an
    /// evaluation then gives the second derivatives along (e_outer, e_{start+k}), as a
    /// <c>Dual&lt;Dual&lt;double&gt;&gt;</c> seeded along that pair would.
    /// </summary>
    public static void Seed(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> p,
        Span<HessianRowDual> z, int outer, int start, int width)
    {
        int n = x.Length, m = u.Length;
        ReadOnlySpan<Vector512<double>> units = Units8;
        for (int i = 0; i < z.Length; i++)
        {
            double v = i < n ? x[i] : i < n + m ? u[i - n] : p[i - n - m];
            Vector512<double> inner = i >= start && i < start + width ? units[i - start] : default;
            z[i] = new(v, inner, i == outer ? 1.0 : 0.0, default);
        }
    }

    /// <summary>The unit vectors e_0 .. e_7 of <see cref="HessianRowDual.Inner"/>.</summary>
    private static readonly Vector512<double>[] Units8 =
        [.. Enumerable.Range(0, HessianRowDual.Width).Select(k => Vector512<double>.Zero.WithElement(k, 1.0))];

    /// <summary>The unit tangents e_0 .. e_{W-1} of one tangent width, made once per width.</summary>
    private static class UnitTangents<TT>
        where TT : struct, ITangents<TT>
    {
        public static readonly TT[] All = [.. Enumerable.Range(0, TT.Width).Select(TT.Unit)];
    }
}
