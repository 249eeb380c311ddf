namespace DiffMpc.Autodiff;

/// <summary>Loads (x, u, parameters) as constant dual numbers into one contiguous buffer z.</summary>
internal static class DualLoad
{
    /// <summary>z = [x; u; p] with zero tangents.</summary>
    public static void Constants(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> p, Span<Dual<double>> z)
    {
        int k = 0;
        for (int i = 0; i < x.Length; i++)
        {
            z[k++] = new(x[i], 0.0);
        }
        for (int i = 0; i < u.Length; i++)
        {
            z[k++] = new(u[i], 0.0);
        }
        for (int i = 0; i < p.Length; i++)
        {
            z[k++] = new(p[i], 0.0);
        }
    }

    /// <summary>z = [x; u; p] as second-order duals with all tangents zero.</summary>
    public static void Constants(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> p, Span<Dual<Dual<double>>> z)
    {
        int k = 0;
        for (int i = 0; i < x.Length; i++)
        {
            z[k++] = Constant2(x[i]);
        }
        for (int i = 0; i < u.Length; i++)
        {
            z[k++] = Constant2(u[i]);
        }
        for (int i = 0; i < p.Length; i++)
        {
            z[k++] = Constant2(p[i]);
        }
    }

    /// <summary>A second-order dual constant.</summary>
    public static Dual<Dual<double>> Constant2(double v) => new(new(v, 0.0), new(0.0, 0.0));
}
