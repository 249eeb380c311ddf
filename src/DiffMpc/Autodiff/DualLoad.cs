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

    /// <summary>
    /// Seeds the pair of directions (j, k) for one nested-dual evaluation of a second derivative:
    /// the outer tangent along e_j and the inner one along e_k (both along e_j when j == k).
    /// <see cref="Unseed"/> restores the constants afterwards.
    /// </summary>
    public static void SeedPair(Span<Dual<Dual<double>>> z, int j, int k)
    {
        double vj = z[j].Value.Value;
        if (k == j)
        {
            z[j] = new(new(vj, 1.0), new(1.0, 0.0));
        }
        else
        {
            z[j] = new(new(vj, 0.0), new(1.0, 0.0));
            z[k] = new(new(z[k].Value.Value, 1.0), new(0.0, 0.0));
        }
    }

    /// <summary>Restores entry i of z to a second-order constant (all tangents zero).</summary>
    public static void Unseed(Span<Dual<Dual<double>>> z, int i) => z[i] = Constant2(z[i].Value.Value);

    /// <summary>A second-order dual constant.</summary>
    public static Dual<Dual<double>> Constant2(double v) => new(new(v, 0.0), new(0.0, 0.0));
}
