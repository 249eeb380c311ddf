// Notation: x the state (n), u the control (m), theta the dynamics parameters (p);
// x_next = g(x, u; theta) one discrete time step.
using System.Numerics;

namespace DiffMpc.Nonlinear;

/// <summary>
/// Discrete-time dynamics x_next = g(x, u; theta), written once as generic arithmetic over
/// <c>T</c> so that the library can run it with plain doubles (values) and with
/// dual numbers (exact first and second derivatives, see <c>DiffMpc.Autodiff.DynamicsDerivatives</c>).
/// </summary>
/// <remarks>
/// Implementations should be immutable and thread-safe, allocate nothing in <see cref="Step{T}"/>,
/// and use only <c>T</c>'s operations on the inputs (converting a value to double
/// and back would cut the derivative). Constants are made with <c>T.CreateTruncating(0.05)</c>.
/// Branches on values (<c>if (x[0] &gt; T.Zero)</c>) and <c>T.Clamp</c> / <c>T.Min</c> /
/// <c>T.Max</c> are fine: they select a piece of a piecewise-smooth function.
/// </remarks>
public interface IDynamics
{
    /// <summary>n, the state dimension; at least 1.</summary>
    int StateDim { get; }

    /// <summary>m, the control dimension; at least 1 (as <see cref="Problems.MpcDimensions.ControlDim"/>).</summary>
    int ControlDim { get; }

    /// <summary>p, the number of dynamics parameters theta (may be 0).</summary>
    int ParameterCount { get; }

    /// <summary>One step: x_next = g(x, u; theta).</summary>
    /// <typeparam name="T">double for values, a Dual for derivatives.</typeparam>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="xNext">Receives the next state, shape [n]; never overlaps the inputs.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716:Identifiers should not match keywords",
        Justification = "Step is the established name of one discrete-time transition; VB callers can still implement it.")]
    void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
        where T : IFloatingPointIeee754<T>;
}
