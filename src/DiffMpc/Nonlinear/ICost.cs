// Notation: tau = (x, u) of length n + m; phi the cost parameters (q of them).
using System.Numerics;

namespace DiffMpc.Nonlinear;

/// <summary>
/// A twice-differentiable stage cost c_t(x, u; phi), written once as generic arithmetic over
/// <c>T</c> so that <c>DiffMpc.Autodiff.CostDerivatives</c> can take its exact
/// gradient, Hessian and mixed parameter derivative with dual numbers.
/// </summary>
/// <remarks>
/// The state and control dimensions are those of the dynamics the cost is used with. As for
/// <see cref="IDynamics"/>, implementations should be immutable, thread-safe, allocation-free,
/// and compute only with <c>T</c>'s operations.
/// </remarks>
public interface ICost
{
    /// <summary>q, the number of cost parameters phi (may be 0).</summary>
    int ParameterCount { get; }

    /// <summary>The cost of stage t.</summary>
    /// <typeparam name="T">double for values, a Dual for derivatives.</typeparam>
    /// <param name="t">The stage index, 0-based (for time-varying costs; may be ignored).</param>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="costParams">The parameters phi, shape [q].</param>
    /// <returns>c_t(x, u; phi).</returns>
    T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
        where T : IFloatingPointIeee754<T>;
}
