using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// The library references the caller's arrays and must never write to them: every input array
/// and the loss gradients are bitwise unchanged after Solve and Backward, through the static
/// entry points and through a reusable solver, in every layout and outcome.
/// </summary>
public sealed class InputImmutabilityTests
{
    public static TheoryData<string> Scenarios => new()
    {
        "per-stage",
        "broadcast",
        "no-offset",
        "asymmetric-C",
        "regularised",
        "not-positive-definite",
        "parallel",
        "horizon-one",
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void SolveAndBackward_LeaveEveryInputUnchanged(string scenario)
    {
        (LqrCase lqr, MpcOptions options) = Create(scenario);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(7, lqr.Dims);
        var snapshots = lqr.Inputs().Select(p => (p.Name, p.Data, Bits: Bitwise.Bits(p.Data))).ToList();
        long[] wxBits = Bitwise.Bits(wx), wuBits = Bitwise.Bits(wu);

        void AssertUnchanged(string when)
        {
            foreach ((string name, double[] data, long[] bits) in snapshots)
            {
                Bitwise.Unchanged(bits, data, $"{scenario}: {name} after {when}");
            }
            Bitwise.Unchanged(wxBits, wx, $"{scenario}: dLdx after {when}");
            Bitwise.Unchanged(wuBits, wu, $"{scenario}: dLdu after {when}");
        }

        MpcSolution sol = Mpc.Solve(lqr.Problem, options);
        AssertUnchanged("Mpc.Solve");
        Mpc.Backward(sol, wx, wu);
        AssertUnchanged("Mpc.Backward");
        Mpc.Backward(sol, wx, null);
        Mpc.Backward(sol, null, wu);
        AssertUnchanged("Mpc.Backward with one loss gradient");

        var solver = new LqrSolver(lqr.Dims, options);
        for (int i = 0; i < 2; i++)
        {
            solver.Solve(lqr.Problem);
            AssertUnchanged($"LqrSolver.Solve #{i + 1}");
            solver.Backward(wx, wu);
            AssertUnchanged($"LqrSolver.Backward #{i + 1}");
        }
    }

    [Fact]
    public void Results_DoNotAliasInputs()
    {
        // Writing into the returned solution and gradients must not reach the caller's arrays.
        LqrCase lqr = RandomLqr.Create(8, new MpcDimensions(3, 2, 2, 2), C: Layout.Shared, f: Layout.Shared);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(8, lqr.Dims);
        var snapshots = lqr.Inputs().Select(p => (p.Name, p.Data, Bits: Bitwise.Bits(p.Data))).ToList();
        long[] wxBits = Bitwise.Bits(wx);

        MpcSolution sol = Mpc.Solve(lqr.Problem);
        MpcGradients g = Mpc.Backward(sol, wx, wu);
        foreach (double[] result in new[] { sol.X, sol.U, sol.Costates, sol.Cost, g.CostQuadratic, g.CostLinear, g.Dynamics, g.DynamicsOffset!, g.XInit })
        {
            Array.Fill(result, 12345.0);
        }
        foreach ((string name, double[] data, long[] bits) in snapshots)
        {
            Bitwise.Unchanged(bits, data, name);
        }
        Bitwise.Unchanged(wxBits, wx, "dLdx");
    }

    private static (LqrCase, MpcOptions) Create(string scenario)
    {
        switch (scenario)
        {
            case "per-stage":
                return (RandomLqr.Create(1, new MpcDimensions(5, 3, 4, 2)), MpcOptions.Default);
            case "broadcast":
                return (RandomLqr.Create(2, new MpcDimensions(5, 3, 4, 2), C: Layout.TimeInvariant, c: Layout.BatchShared,
                    F: Layout.Shared, f: Layout.TimeInvariant), MpcOptions.Default);
            case "no-offset":
                return (RandomLqr.Create(3, new MpcDimensions(5, 3, 4, 2), C: Layout.Shared, f: null), MpcOptions.Default);
            case "asymmetric-C":
                return (RandomLqr.Create(4, new MpcDimensions(5, 3, 4, 2), asymmetricC: true), MpcOptions.Default);
            case "regularised":
                // mu is added to Q_uu inside the solver, never to the caller's C.
                return (RandomLqr.Create(5, new MpcDimensions(5, 3, 4, 2), C: Layout.Shared),
                    new MpcOptions { ControlRegularization = 0.5 });
            case "not-positive-definite":
            {
                LqrCase lqr = RandomLqr.Create(6, new MpcDimensions(5, 3, 4, 2));
                lqr.SetControlCost(t: 4, b: 1, diagonal: -2.0);
                return (lqr, MpcOptions.Default);
            }
            case "parallel":
                return (RandomLqr.Create(7, new MpcDimensions(20, 16, 10, 4), F: Layout.Shared),
                    new MpcOptions { MaxDegreeOfParallelism = 2 });
            default:
                return (RandomLqr.Create(9, new MpcDimensions(1, 2, 3, 3)), MpcOptions.Default);
        }
    }
}
