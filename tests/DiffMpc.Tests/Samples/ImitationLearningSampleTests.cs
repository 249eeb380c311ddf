using DiffMpc.Options;
using DiffMpc.Samples.ImitationLearning;
using Xunit;

namespace DiffMpc.Tests.Samples;

/// <summary>The imitation-learning sample's cores, with small settings.</summary>
public sealed class ImitationLearningSampleTests
{
    [Fact]
    public void Lqr_ModelErrorFallsTenfold()
    {
        LqrImitationResult result = LqrImitation.Run(new LqrImitationSettings(Epochs: 500, BatchSize: 64));
        Assert.All(result.Loss, l => Assert.True(double.IsFinite(l)));
        Assert.True(result.ModelError[^1] <= result.ModelError[0] / 10,
            $"model error {result.ModelError[0]} -> {result.ModelError[^1]}: less than a 10x reduction");
        Assert.True(result.Loss[^1] <= result.Loss[0] / 10, $"imitation loss {result.Loss[0]} -> {result.Loss[^1]}");
    }

    [Fact]
    public void Pendulum_ExactGradientRecoversParameters()
    {
        PendulumImitationResult result = PendulumImitation.Run(
            new PendulumImitationSettings(NonlinearGradientMode.Exact, Epochs: 40, Starts: 8));
        Assert.All(result.ConvergedFraction, f => Assert.True(f > 0.5));
        Assert.True(result.ParameterError.Min() <= result.ParameterError[0] / 100,
            $"parameter error {result.ParameterError[0]} -> best {result.ParameterError.Min()}: less than a 100x reduction");
        Assert.True(result.ParameterError[^1] <= result.ParameterError[0] / 10,
            $"parameter error {result.ParameterError[0]} -> {result.ParameterError[^1]}: less than a 10x reduction");
    }

    [Fact]
    public void Optimizers_MinimiseAQuadratic()
    {
        foreach (IOptimizer optimizer in new IOptimizer[] { new RmsProp(2, 0.05), new Adam(2, 0.05) })
        {
            double[] x = [3, -2];
            for (int i = 0; i < 2000; i++)
            {
                optimizer.Update(x, [2 * (x[0] - 1), 8 * (x[1] + 1)]);
            }
            Assert.InRange(x[0], 0.9, 1.1);
            Assert.InRange(x[1], -1.1, -0.9);
        }
    }
}
