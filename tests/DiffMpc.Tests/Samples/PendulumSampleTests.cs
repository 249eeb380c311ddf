using DiffMpc.Results;
using DiffMpc.Samples.Pendulum;
using Xunit;

namespace DiffMpc.Tests.Samples;

/// <summary>The README's main sample, run with its core function so it cannot rot.</summary>
public sealed class PendulumSampleTests
{
    [Fact]
    public void SwingUp_ReachesAndHoldsUpright()
    {
        SwingUpResult result = SwingUp.Run(new SwingUpSettings(Steps: 80));
        Assert.True(result.ReachedUpright, "the pendulum never came within 0.1 rad of upright");
        Assert.True(result.HeldUpright, "the pendulum did not stay upright over the last second");
        // Closed-loop MPC applies the (feasible) plan of an occasional solve that hits the
        // iteration cap mid-swing; nearly all must converge, and none may fail outright.
        Assert.True(result.Steps.Count(s => s.Status == SolveStatus.Converged) >= 0.9 * result.Steps.Count);
        Assert.All(result.Steps, s => Assert.True(s.Status is SolveStatus.Converged or SolveStatus.MaxIterations, $"{s.Status} at t={s.Time}"));
        Assert.InRange(Math.Abs(result.Steps[^1].Angle), 0, 0.01);
    }
}
