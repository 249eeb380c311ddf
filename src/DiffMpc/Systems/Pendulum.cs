// Notation: x = [cos th, sin th, thdot], u = torque, theta = [g, mass, length]; dt = 0.05.
using System.Numerics;
using DiffMpc.Internal;
using DiffMpc.Nonlinear;

namespace DiffMpc.Systems;

/// <summary>
/// The classic torque-limited pendulum benchmark of the differentiable-MPC literature (n = 3,
/// m = 1, p = 3), exactly as in the golden cases' dynamics.md:
/// u_c = clamp(u, -2, 2), th = atan2(sin th, cos th),
/// thdot' = thdot + dt (3 g / (2 length) sin th + 3 u_c / (mass length^2)), th' = th + dt thdot',
/// x' = [cos th', sin th', thdot'].
/// </summary>
/// <remarks>
/// <para>The acceleration uses the state's own sin th entry (as the reference implementation
/// does); on the unit circle, where every trajectory lives, this equals sin(atan2(sin, cos)).
/// The clamp passes the control's derivative on the closed interval [-2, 2] (a control exactly at
/// its limit still acts) and 0 outside.</para>
/// <para>Stateless, immutable and thread-safe.</para>
/// </remarks>
public sealed class Pendulum : IDynamics
{
    /// <summary>The time step dt.</summary>
    public const double TimeStep = 0.05;

    /// <summary>The control limit below: u_c = max(u, -2).</summary>
    public const double ControlLower = -2.0;

    /// <summary>The control limit above: u_c = min(u, 2).</summary>
    public const double ControlUpper = 2.0;

    /// <summary>n = 3: [cos th, sin th, thdot].</summary>
    public int StateDim => 3;

    /// <summary>m = 1: the torque.</summary>
    public int ControlDim => 1;

    /// <summary>p = 3: [g, mass, length].</summary>
    public int ParameterCount => 3;

    /// <summary>The textbook parameters [g, mass, length] = [10, 1, 1] (a new array each call).</summary>
    public static double[] TextbookParameters => [10.0, 1.0, 1.0];

    /// <summary>The task cost's diagonal q over tau = [x; u], [n+m] = [1, 1, 0.1, 0.001]: C_t = diag(q) (a new array each call).</summary>
    public static double[] CostDiagQ => [1.0, 1.0, 0.1, 0.001];

    /// <summary>The task cost's linear term p over tau = [x; u], [n+m] = [-1, 0, 0, 0] (goal upright; a new array each call).</summary>
    public static double[] CostP => [-1.0, 0.0, 0.0, 0.0];

    /// <summary>Draws a start state: th uniform in [-pi/2, pi/2], then thdot uniform in [-1, 1].</summary>
    /// <param name="random">The random source (th is drawn first, then thdot).</param>
    /// <param name="state">Receives [cos th, sin th, thdot], shape [3].</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="state"/> does not have length 3.</exception>
    public static void SampleInitialState(Random random, Span<double> state)
    {
        Guard.NotNull(random, nameof(random));
        SpanGuard.Length(state.Length, 3, nameof(state), "[n=3]");
        double th = (random.NextDouble() - 0.5) * Math.PI;
        double thdot = 2 * random.NextDouble() - 1;
        state[0] = Math.Cos(th);
        state[1] = Math.Sin(th);
        state[2] = thdot;
    }

    /// <summary>Draws a start state as <see cref="SampleInitialState(Random, Span{double})"/>.</summary>
    /// <param name="random">The random source.</param>
    /// <returns>[cos th, sin th, thdot].</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public static double[] SampleInitialState(Random random)
    {
        double[] state = new double[3];
        SampleInitialState(random, state);
        return state;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
        where T : IFloatingPointIeee754<T>
    {
        SpanGuard.Length(x.Length, 3, nameof(x), "[n=3]");
        SpanGuard.Length(u.Length, 1, nameof(u), "[m=1]");
        SpanGuard.Length(theta.Length, 3, nameof(theta), "[p=3]");
        SpanGuard.Length(xNext.Length, 3, nameof(xNext), "[n=3]");

        T dt = T.CreateTruncating(TimeStep);
        T three = T.CreateTruncating(3), two = T.CreateTruncating(2);
        T g = theta[0], mass = theta[1], length = theta[2];
        T uc = T.Clamp(u[0], T.CreateTruncating(ControlLower), T.CreateTruncating(ControlUpper));
        T cosTh = x[0], sinTh = x[1], thdot = x[2];
        T th = T.Atan2(sinTh, cosTh);
        T thdotNext = thdot + dt * (three * g / (two * length) * sinTh + three * uc / (mass * length * length));
        T thNext = th + dt * thdotNext;
        (T s, T c) = T.SinCos(thNext);
        xNext[0] = c;
        xNext[1] = s;
        xNext[2] = thdotNext;
    }
}
