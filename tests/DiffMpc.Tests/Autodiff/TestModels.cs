using System.Numerics;
using DiffMpc.Nonlinear;

namespace DiffMpc.Tests.Autodiff;

/// <summary>
/// A user-written model as a library user would write it: the kinematic bicycle with a smooth
/// quadratic drag and a tanh steering limiter. x = [px, py, heading, v], u = [accel, steer
/// command], theta = [wheelbase, drag, maxSteer].
/// </summary>
internal sealed class BicycleModel : IDynamics
{
    public int StateDim => 4;

    public int ControlDim => 2;

    public int ParameterCount => 3;

    public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
        where T : IFloatingPointIeee754<T>
    {
        T dt = T.CreateChecked(0.1);
        T wheelbase = theta[0], drag = theta[1], maxSteer = theta[2];
        T heading = x[2], v = x[3];
        T steer = maxSteer * T.Tanh(u[1]);
        (T s, T c) = T.SinCos(heading);
        xNext[0] = x[0] + dt * v * c;
        xNext[1] = x[1] + dt * v * s;
        xNext[2] = heading + dt * v / wheelbase * T.Tan(steer);
        xNext[3] = v + dt * (u[0] - drag * v * T.Hypot(v, T.One));
    }
}

/// <summary>
/// A small model with a hand-written Jacobian: x = [q, qdot], u = [torque], theta = [gain];
/// q' = q + dt qdot, qdot' = qdot + dt (gain u - sin q + exp(-qdot^2)). With
/// <see cref="Wrong"/> set its analytic Jacobian has a deliberate error.
/// </summary>
internal sealed class AnalyticOscillator(bool wrong = false) : IAnalyticDynamics
{
    private const double Dt = 0.1;

    public bool Wrong { get; } = wrong;

    public int StateDim => 2;

    public int ControlDim => 1;

    public int ParameterCount => 1;

    public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
        where T : IFloatingPointIeee754<T>
    {
        T dt = T.CreateChecked(Dt);
        xNext[0] = x[0] + dt * x[1];
        xNext[1] = x[1] + dt * (theta[0] * u[0] - T.Sin(x[0]) + T.Exp(-x[1] * x[1]));
    }

    public void Jacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta, Span<double> jacobian)
    {
        // Columns: q, qdot, u, gain.
        jacobian[0] = 1;
        jacobian[1] = Dt;
        jacobian[2] = 0;
        jacobian[3] = 0;
        jacobian[4] = -Dt * Math.Cos(x[0]);
        jacobian[5] = 1 + Dt * (-2 * x[1] * Math.Exp(-x[1] * x[1]));
        jacobian[6] = Dt * theta[0];
        jacobian[7] = Dt * u[0] * (Wrong ? 1.01 : 1.0);
    }
}
