using DiffMpc.Results;
using DiffMpc.Samples.Cartpole;
using Xunit;

namespace DiffMpc.Tests.Samples;

/// <summary>The cartpole sample's core, with a shorter closed loop.</summary>
public sealed class CartpoleSampleTests
{
    [Fact]
    public void SwingUp_ReachesAndHoldsUpright()
    {
        CartpoleResult result = CartpoleSwingUp.Run(new CartpoleSettings(Steps: 60));
        Assert.True(result.ReachedUpright, "the pole never came within 0.1 rad of upright");
        Assert.True(result.HeldUpright, "the pole did not stay upright over the last second");
        Assert.InRange(result.FirstUprightTime, 0, 2.0);
        Assert.All(result.Steps, s => Assert.True(s.Status is SolveStatus.Converged or SolveStatus.MaxIterations, $"{s.Status} at t={s.Time}"));
        Assert.All(result.Steps, s => Assert.InRange(s.Force, DiffMpc.Systems.Cartpole.ControlLower, DiffMpc.Systems.Cartpole.ControlUpper));
    }
}
