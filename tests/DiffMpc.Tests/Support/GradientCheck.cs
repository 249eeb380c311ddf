using System.Globalization;
using System.Text;
using DiffMpc.Lqr;
using DiffMpc.Results;
using Xunit;
using Xunit.Sdk;

namespace DiffMpc.Tests.Support;

/// <summary>
/// Central finite-difference check of <see cref="Mpc.Backward"/> for the loss
/// L = sum wx .* x + sum wu .* u. Each input array is perturbed in place (the problem references
/// it) and restored bitwise afterwards.
/// </summary>
internal sealed class GradientCheck
{
    /// <summary>Inputs with at most this many entries are checked entry by entry in full.</summary>
    public const int FullCheckLimit = 48;

    /// <summary>Relative step: h = StepScale * max(1, |value|) per entry.</summary>
    public const double StepScale = 1e-5;

    /// <summary>Relative tolerance on each compared derivative.</summary>
    public const double RelTol = 2e-6;

    private readonly LqrCase _case;
    private readonly double[] _wx;
    private readonly double[] _wu;
    private readonly LqrSolver _evaluator;
    private readonly Random _rng;

    public GradientCheck(LqrCase lqr, int seed)
    {
        _case = lqr;
        (_wx, _wu) = RandomLqr.LossWeights(seed, lqr.Dims);
        _evaluator = new LqrSolver(lqr.Dims);
        _rng = new Random(seed + 17);
    }

    /// <summary>The largest |fd - analytic| / scale seen, over every check.</summary>
    public double WorstRatio { get; private set; }

    /// <summary>The number of derivatives compared.</summary>
    public int Checked { get; private set; }

    /// <summary>The loss weights.</summary>
    public (double[] Wx, double[] Wu) Weights => (_wx, _wu);

    /// <summary>Solves, differentiates and returns copies of the gradients by input name.</summary>
    public Dictionary<string, double[]> AnalyticGradients()
    {
        MpcSolution sol = Mpc.Solve(_case.Problem);
        Assert.True(sol.AllConverged, "random problem did not converge");
        MpcGradients g = Mpc.Backward(sol, _wx, _wu);
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal)
        {
            ["xInit"] = (double[])g.XInit.Clone(),
            ["C"] = (double[])g.CostQuadratic.Clone(),
            ["c"] = (double[])g.CostLinear.Clone(),
            ["F"] = (double[])g.Dynamics.Clone(),
        };
        if (_case.f is null)
        {
            Assert.Null(g.DynamicsOffset);
        }
        else
        {
            Assert.NotNull(g.DynamicsOffset);
            result["f"] = (double[])g.DynamicsOffset.Clone();
        }
        foreach ((string name, double[] data) in _case.Inputs())
        {
            Assert.True(result[name].Length == data.Length,
                $"dL/d{name} has {result[name].Length} values; the input has {data.Length}.");
        }
        return result;
    }

    /// <summary>Checks every input's gradient; throws listing every mismatch.</summary>
    public void CheckAll()
    {
        Dictionary<string, double[]> grads = AnalyticGradients();
        var failures = new StringBuilder();
        foreach ((string name, double[] data) in _case.Inputs())
        {
            CheckInput(name, data, grads[name], failures);
        }
        if (failures.Length > 0)
        {
            throw new XunitException($"Finite-difference mismatches ({_case.Dims}):\n{failures}");
        }
    }

    /// <summary>Checks the given entries of one input against central differences.</summary>
    public void CheckEntries(string name, double[] data, double[] grad, IEnumerable<int> entries, StringBuilder failures)
    {
        foreach (int i in entries)
        {
            double v = data[i];
            double h = StepScale * Math.Max(1, Math.Abs(v));
            data[i] = v + h;
            double lp = Loss(out double scalePlus);
            data[i] = v - h;
            double lm = Loss(out _);
            data[i] = v;
            double fd = (lp - lm) / (2 * h);
            Record(fd, grad[i], Math.Abs(grad[i]), scalePlus, h, $"dL/d{name}[{i}]", failures);
        }
    }

    /// <summary>The loss at the current values of the problem's arrays, and sum |terms| for its round-off.</summary>
    public double Loss(out double magnitude)
    {
        MpcSolution sol = _evaluator.Solve(_case.Problem);
        Assert.True(sol.AllConverged, "perturbed problem did not converge");
        double l = 0;
        magnitude = 0;
        for (int i = 0; i < _wx.Length; i++)
        {
            l += _wx[i] * sol.X[i];
            magnitude += Math.Abs(_wx[i] * sol.X[i]);
        }
        for (int i = 0; i < _wu.Length; i++)
        {
            l += _wu[i] * sol.U[i];
            magnitude += Math.Abs(_wu[i] * sol.U[i]);
        }
        return l;
    }

    private void CheckInput(string name, double[] data, double[] grad, StringBuilder failures)
    {
        if (data.Length <= FullCheckLimit)
        {
            CheckEntries(name, data, grad, Enumerable.Range(0, data.Length), failures);
            return;
        }
        var picks = new HashSet<int> { 0, data.Length - 1 };
        while (picks.Count < 12)
        {
            picks.Add(_rng.Next(data.Length));
        }
        CheckEntries(name, data, grad, picks.Order(), failures);
        for (int k = 0; k < 2; k++)
        {
            CheckDirection(name, data, grad, k, failures);
        }
    }

    private void CheckDirection(string name, double[] data, double[] grad, int k, StringBuilder failures)
    {
        double[] dir = RandomLqr.Gaussian(_rng, data.Length, 1.0);
        double[] saved = (double[])data.Clone();
        double maxAbs = saved.Max(Math.Abs);
        double h = StepScale * Math.Max(1, maxAbs);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = saved[i] + h * dir[i];
        }
        double lp = Loss(out double scale);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = saved[i] - h * dir[i];
        }
        double lm = Loss(out _);
        saved.CopyTo(data, 0);
        double fd = (lp - lm) / (2 * h);
        double analytic = 0, magnitude = 0;
        for (int i = 0; i < data.Length; i++)
        {
            analytic += grad[i] * dir[i];
            magnitude += Math.Abs(grad[i] * dir[i]);
        }
        Record(fd, analytic, magnitude, scale, h, $"dL/d{name} . direction {k}", failures);
    }

    private void Record(double fd, double analytic, double magnitude, double lossMagnitude, double h, string what,
        StringBuilder failures)
    {
        // Round-off of the difference quotient is about eps * sum|loss terms| / h; allow 100x that.
        double noise = 100 * 2.2e-16 * lossMagnitude / h;
        double scale = RelTol * Math.Max(magnitude, Math.Abs(fd)) + noise;
        double err = Math.Abs(fd - analytic);
        Checked++;
        double ratio = err / scale;
        WorstRatio = Math.Max(WorstRatio, double.IsNaN(ratio) ? double.PositiveInfinity : ratio);
        if (!(err <= scale))
        {
            failures.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {what}: finite difference {fd:G10}, analytic {analytic:G10}, |diff| {err:G3} > tol {scale:G3}"));
        }
    }
}
