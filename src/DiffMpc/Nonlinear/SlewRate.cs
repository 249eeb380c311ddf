// Notation: x the state (n), u the control (m), u_prev the control applied at the previous step.
// A slew-rate penalty w ||u_t - u_{t-1}||^2 couples consecutive stages; it is made stage-wise by
// augmenting the state with the previous control: xa_t = [x_t; u_{t-1}], xa_{t+1} = [g(x_t, u_t); u_t].
using System.Numerics;
using DiffMpc.Internal;

namespace DiffMpc.Nonlinear;

/// <summary>
/// The slew-rate (control-rate) penalty w ||u_t - u_{t-1}||^2 by state augmentation: wrap the
/// dynamics with <see cref="AugmentDynamics"/> and the cost with <see cref="AugmentCost"/>, and
/// solve with the state [x; u_prev] (n + m entries) whose initial value carries the control applied
/// before the horizon (zero, or the last control of a receding-horizon loop). Every gradient
/// comes out of the ordinary solve: dL/dw is the last cost parameter's, dL/du_prev the last m
/// entries of dL/dx_init.
/// </summary>
public static class SlewRate
{
    /// <summary>xa' = [g(x, u; theta); u] for xa = [x; u_prev]; same parameters theta.</summary>
    /// <param name="dynamics">The model g.</param>
    /// <returns>A model with n + m states and m controls.</returns>
    public static IDynamics AugmentDynamics(IDynamics dynamics)
    {
        Guard.NotNull(dynamics, nameof(dynamics));
        return new AugmentedDynamics(dynamics);
    }

    /// <summary>
    /// l_a(t, [x; u_prev], u; [phi; w]) = l(t, x, u; phi) + w ||u - u_prev||^2, where the penalty is
    /// skipped at t = 0 when <paramref name="penalizeFirstStep"/> is false (no control before the horizon).
    /// </summary>
    /// <param name="cost">The stage cost l on (x, u) with parameters phi.</param>
    /// <param name="stateDim">n, the state dimension of the unaugmented model.</param>
    /// <param name="controlDim">m.</param>
    /// <param name="penalizeFirstStep">Whether u_1 - u_prev (the control before the horizon) is penalised. Default true.</param>
    /// <returns>A cost on the augmented state with q + 1 parameters [phi; w].</returns>
    public static ICost AugmentCost(ICost cost, int stateDim, int controlDim, bool penalizeFirstStep = true)
    {
        Guard.NotNull(cost, nameof(cost));
        Guard.AtLeast(stateDim, 1, nameof(stateDim), "stateDim (n)");
        Guard.AtLeast(controlDim, 1, nameof(controlDim), "controlDim (m)");
        return new AugmentedCost(cost, stateDim, controlDim, penalizeFirstStep);
    }

    private sealed class AugmentedDynamics(IDynamics inner) : IDynamics
    {
        public int StateDim => inner.StateDim + inner.ControlDim;

        public int ControlDim => inner.ControlDim;

        public int ParameterCount => inner.ParameterCount;

        public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
            where T : IFloatingPointIeee754<T>
        {
            int n = inner.StateDim;
            inner.Step(x[..n], u, theta, xNext[..n]);
            u.CopyTo(xNext[n..]);
        }
    }

    private sealed class AugmentedCost(ICost inner, int n, int m, bool penalizeFirstStep) : ICost
    {
        public int ParameterCount => inner.ParameterCount + 1;

        public T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
            where T : IFloatingPointIeee754<T>
        {
            int q = inner.ParameterCount;
            T value = inner.Evaluate(t, x[..n], u, costParams[..q]);
            if (t == 0 && !penalizeFirstStep)
            {
                return value;
            }
            T rate = T.Zero;
            for (int i = 0; i < m; i++)
            {
                T d = u[i] - x[n + i];
                rate += d * d;
            }
            return value + costParams[q] * rate;
        }
    }
}
