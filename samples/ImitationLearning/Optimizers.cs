// The two first-order optimisers of the paper's experiments, in their PyTorch form (a few lines each).
namespace DiffMpc.Samples.ImitationLearning;

/// <summary>A gradient step on a flat parameter vector.</summary>
public interface IOptimizer
{
    /// <summary>Updates <paramref name="parameters"/> in place from the gradient of the loss.</summary>
    void Update(double[] parameters, ReadOnlySpan<double> gradient);
}

/// <summary>RMSprop as torch.optim.RMSprop: v = a v + (1 - a) g^2; p -= lr g / (sqrt(v) + eps).</summary>
public sealed class RmsProp(int size, double learningRate, double alpha = 0.99, double epsilon = 1e-8) : IOptimizer
{
    private readonly double[] _v = new double[size];

    public void Update(double[] parameters, ReadOnlySpan<double> gradient)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        for (int i = 0; i < _v.Length; i++)
        {
            _v[i] = alpha * _v[i] + (1 - alpha) * gradient[i] * gradient[i];
            parameters[i] -= learningRate * gradient[i] / (Math.Sqrt(_v[i]) + epsilon);
        }
    }
}

/// <summary>Adam as torch.optim.Adam (bias-corrected first and second moments).</summary>
public sealed class Adam(int size, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : IOptimizer
{
    private readonly double[] _m = new double[size];
    private readonly double[] _v = new double[size];
    private int _t;

    public void Update(double[] parameters, ReadOnlySpan<double> gradient)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _t++;
        double c1 = 1 - Math.Pow(beta1, _t), c2 = 1 - Math.Pow(beta2, _t);
        for (int i = 0; i < _m.Length; i++)
        {
            _m[i] = beta1 * _m[i] + (1 - beta1) * gradient[i];
            _v[i] = beta2 * _v[i] + (1 - beta2) * gradient[i] * gradient[i];
            parameters[i] -= learningRate * (_m[i] / c1) / (Math.Sqrt(_v[i] / c2) + epsilon);
        }
    }
}

/// <summary>Standard normal draws (Box-Muller) from a seeded <see cref="Random"/>.</summary>
public static class Gaussian
{
    public static double Next(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double[] Vector(Random random, int count)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = Next(random);
        }
        return v;
    }
}
