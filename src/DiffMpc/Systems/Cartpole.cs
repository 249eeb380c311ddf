// Notation: x = [pos, vel, cos th, sin th, thdot], u = force,
// theta = [g, mass_cart, mass_pole, length]; dt = 0.05.
using System.Numerics;
using DiffMpc.Internal;
using DiffMpc.Nonlinear;

namespace DiffMpc.Systems;

/// <summary>
/// The classic cart-pole benchmark of the differentiable-MPC literature (n = 5, m = 1, p = 4),
/// exactly as in the golden cases' dynamics.md: u_c = clamp(u, -100, 100),
/// th = atan2(sin th, cos th), M = mass_cart + mass_pole,
/// a = (u_c + mass_pole length thdot^2 sin th) / M,
/// thacc = (g sin th - cos th a) / (length (4/3 - mass_pole cos^2 th / M)),
/// xacc = a - mass_pole length thacc cos th / M, then explicit Euler with dt = 0.05 and
/// x' = [pos', vel', cos th', sin th', thdot'].
/// </summary>
/// <remarks>
/// <para>The accelerations use the state's own cos th and sin th entries (as the reference
/// implementation does); on the unit circle, where every trajectory lives, they equal the cosine
/// and sine of atan2(sin, cos). The clamp passes the control's derivative on the closed interval
/// [-100, 100] and 0 outside.</para>
/// <para>Stateless, immutable and thread-safe.</para>
/// </remarks>
public sealed class Cartpole : IDynamics
{
    /// <summary>The time step dt.</summary>
    public const double TimeStep = 0.05;

    /// <summary>The control limit below: u_c = max(u, -100).</summary>
    public const double ControlLower = -100.0;

    /// <summary>The control limit above: u_c = min(u, 100).</summary>
    public const double ControlUpper = 100.0;

    /// <summary>n = 5: [pos, vel, cos th, sin th, thdot].</summary>
    public int StateDim => 5;

    /// <summary>m = 1: the force on the cart.</summary>
    public int ControlDim => 1;

    /// <summary>p = 4: [g, mass_cart, mass_pole, length].</summary>
    public int ParameterCount => 4;

    /// <summary>The textbook parameters [g, mass_cart, mass_pole, length] = [9.8, 1.0, 0.1, 0.5] (a new array each call).</summary>
    public static double[] TextbookParameters => [9.8, 1.0, 0.1, 0.5];

    /// <summary>The task cost's diagonal q over tau = [x; u], [n+m] = [0.1, 0.1, 1, 1, 0.1, 0.001] (a new array each call).</summary>
    public static double[] CostDiagQ => [0.1, 0.1, 1.0, 1.0, 0.1, 0.001];

    /// <summary>The task cost's linear term p over tau = [x; u], [n+m] = [0, 0, -1, 0, 0, 0] (goal upright; a new array each call).</summary>
    public static double[] CostP => [0.0, 0.0, -1.0, 0.0, 0.0, 0.0];

    /// <summary>
    /// Draws a start state for the benchmarks: th uniform in [-pi, pi]; pos, vel and thdot uniform
    /// in [-<paramref name="spread"/>, <paramref name="spread"/>] (drawn in the order th, pos, vel, thdot).
    /// </summary>
    /// <param name="random">The random source.</param>
    /// <param name="state">Receives [pos, vel, cos th, sin th, thdot], shape [5].</param>
    /// <param name="spread">Half-width of the ranges of pos, vel and thdot; 0 starts the cart at rest at the origin.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="state"/> does not have length 5.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="spread"/> is negative or not finite.</exception>
    public static void SampleInitialState(Random random, Span<double> state, double spread = 0.5)
    {
        Guard.NotNull(random, nameof(random));
        SpanGuard.Length(state.Length, 5, nameof(state), "[n=5]");
        Guard.InRange(spread, 0, double.MaxValue, nameof(spread), "spread");
        double th = (2 * random.NextDouble() - 1) * Math.PI;
        state[0] = (2 * random.NextDouble() - 1) * spread;
        state[1] = (2 * random.NextDouble() - 1) * spread;
        state[2] = Math.Cos(th);
        state[3] = Math.Sin(th);
        state[4] = (2 * random.NextDouble() - 1) * spread;
    }

    /// <summary>Draws a start state as <see cref="SampleInitialState(Random, Span{double}, double)"/>.</summary>
    /// <param name="random">The random source.</param>
    /// <param name="spread">Half-width of the ranges of pos, vel and thdot.</param>
    /// <returns>[pos, vel, cos th, sin th, thdot].</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="spread"/> is negative or not finite.</exception>
    public static double[] SampleInitialState(Random random, double spread = 0.5)
    {
        double[] state = new double[5];
        SampleInitialState(random, state, spread);
        return state;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
        where T : IFloatingPointIeee754<T>
    {
        SpanGuard.Length(x.Length, 5, nameof(x), "[n=5]");
        SpanGuard.Length(u.Length, 1, nameof(u), "[m=1]");
        SpanGuard.Length(theta.Length, 4, nameof(theta), "[p=4]");
        SpanGuard.Length(xNext.Length, 5, nameof(xNext), "[n=5]");

        T dt = T.CreateTruncating(TimeStep);
        T fourThirds = T.CreateTruncating(4) / T.CreateTruncating(3);
        T g = theta[0], massCart = theta[1], massPole = theta[2], length = theta[3];
        T uc = T.Clamp(u[0], T.CreateTruncating(ControlLower), T.CreateTruncating(ControlUpper));
        T pos = x[0], vel = x[1], cosTh = x[2], sinTh = x[3], thdot = x[4];
        T th = T.Atan2(sinTh, cosTh);

        T totalMass = massCart + massPole;
        T a = (uc + massPole * length * thdot * thdot * sinTh) / totalMass;
        T thacc = (g * sinTh - cosTh * a) / (length * (fourThirds - massPole * cosTh * cosTh / totalMass));
        T xacc = a - massPole * length * thacc * cosTh / totalMass;

        T thNext = th + dt * thdot;
        (T s, T c) = T.SinCos(thNext);
        xNext[0] = pos + dt * vel;
        xNext[1] = vel + dt * xacc;
        xNext[2] = c;
        xNext[3] = s;
        xNext[4] = thdot + dt * thacc;
    }
}
