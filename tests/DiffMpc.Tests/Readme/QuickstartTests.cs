using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Systems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Readme;

/// <summary>
/// The README quickstart, compiled here as written: <see cref="Quickstart"/> holds the same lines
/// as the README's first C# block (checked by <see cref="Readme_ShowsThisQuickstart"/>).
/// </summary>
public sealed class QuickstartTests
{
    private static (MpcSolution Sol, MpcGradients Grad) Quickstart()
    {
        // README-QUICKSTART-BEGIN
        int T = 10, B = 1, n = 2, m = 1;
        double[] C = [1, 0, 0, 0, 1, 0, 0, 0, 0.1];   // [n+m][n+m], shared by every t and b
        double[] F = [1, 0.1, 0, 0, 1, 0.1];           // x' = F [x; u], [n][n+m]
        var problem = new LqrProblem(new MpcDimensions(T, B, n, m), xInit: [1.0, 0.0],
            C: StageArray.Shared(C), c: StageArray.Shared(new double[n + m]), F: StageArray.Shared(F),
            uLower: StageArray.Scalar(-0.5), uUpper: StageArray.Scalar(0.5));
        MpcSolution sol = Mpc.Solve(problem);          // sol.X [T][B][n], sol.U [T][B][m]
        // Loss L = 1/2 sum_t |x_t|^2, so dL/dx = x; dL/du = 0.
        MpcGradients grad = Mpc.Backward(sol, dLdx: sol.X, dLdu: null);
        Console.WriteLine($"{sol.Status[0]}: u_1 = {sol.U[0]:F4}, dL/dx_init = [{string.Join(", ", grad.XInit)}]");
        // README-QUICKSTART-END
        return (sol, grad);
    }

    private static (MpcSolution Plan, NonlinearGradients G) NonlinearQuickstart()
    {
        // README-NONLINEAR-BEGIN
        var pendulum = new Pendulum();                              // x = [cos th, sin th, thdot], u = torque
        int N = 4;                                                  // n + m
        var C = new double[N * N];
        for (int i = 0; i < N; i++) C[i * N + i] = Pendulum.CostDiagQ[i];
        var problem = new NonlinearProblem(new MpcDimensions(20, 1, 3, 1), pendulum, Pendulum.TextbookParameters,
            xInit: [Math.Cos(2.0), Math.Sin(2.0), 0.0], C: StageArray.Shared(C), c: StageArray.Shared(Pendulum.CostP),
            uLower: StageArray.Scalar(-2), uUpper: StageArray.Scalar(2));
        var solver = new IlqrSolver(problem.Dimensions, pendulum);   // reusable; owns its workspace
        MpcSolution plan = solver.Solve(problem);
        NonlinearGradients g = solver.Backward(dLdx: null, dLdu: plan.U);   // L = 1/2 sum u^2
        Console.WriteLine($"dL/d[g, mass, length] = [{string.Join(", ", g.Parameters)}]");
        // README-NONLINEAR-END
        return (plan, g);
    }

    [Fact]
    public void NonlinearQuickstart_SolvesAndDifferentiates()
    {
        (MpcSolution plan, NonlinearGradients g) = NonlinearQuickstart();
        Assert.Equal(SolveStatus.Converged, plan.Status[0]);
        Assert.Equal(3, g.Parameters.Length);
        Assert.All(g.Parameters, v => Assert.True(double.IsFinite(v) && v != 0));
    }

    [Fact]
    public void Quickstart_SolvesAndDifferentiates()
    {
        (MpcSolution sol, MpcGradients grad) = Quickstart();
        Assert.Equal(SolveStatus.Converged, sol.Status[0]);
        Assert.Equal(-0.5, sol.U[0], 12);                 // the first control saturates
        Assert.True(sol.ActiveBounds[0] > 0);
        Assert.True(sol.KktResidual[0] < 1e-9);

        // dL/dx_init against a central difference of L(x_init) = 1/2 sum |x_t|^2.
        static double Loss(double x0)
        {
            double[] C = [1, 0, 0, 0, 1, 0, 0, 0, 0.1];
            double[] F = [1, 0.1, 0, 0, 1, 0.1];
            var p = new LqrProblem(new MpcDimensions(10, 1, 2, 1), [x0, 0.0], StageArray.Shared(C),
                StageArray.Shared(new double[3]), StageArray.Shared(F), null, StageArray.Scalar(-0.5), StageArray.Scalar(0.5));
            double[] x = Mpc.Solve(p).X;
            return 0.5 * x.Sum(v => v * v);
        }
        double fd = (Loss(1 + 1e-6) - Loss(1 - 1e-6)) / 2e-6;
        Assert.Equal(fd, grad.XInit[0], 6);
    }

    [Theory]
    [InlineData("QUICKSTART")]
    [InlineData("NONLINEAR")]
    public void Readme_ShowsThisQuickstart(string marker)
    {
        string source = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "tests", "DiffMpc.Tests", "Readme", "QuickstartTests.cs"));
        string readme = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "README.md"));
        string Begin = $"// README-{marker}-BEGIN", End = $"// README-{marker}-END";
        int from = source.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        int to = source.IndexOf(End, from, StringComparison.Ordinal);
        string[] lines = source[from..to].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        string readmeText = string.Join("\n", readme.Split('\n').Select(l => l.Trim()));
        Assert.Contains(string.Join("\n", lines), readmeText, StringComparison.Ordinal);
    }
}
