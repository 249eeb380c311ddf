using DiffMpc.Benchmarks.Problems;
using DiffMpc.Problems;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Benchmarks;

/// <summary>
/// The benchmark project's problem generator builds, for every lqr entry of
/// ../shared/bench/problems.json, a problem of the entry's dimensions in the documented layout
/// (every input per stage and per element: nothing broadcast). Speed is never asserted here.
/// </summary>
public sealed class LqrProblemGeneratorTests
{
    private static string ProblemsPath => Path.Combine(RepoPaths.SharedDir, "bench", "problems.json");

    public static TheoryData<string> LqrEntries()
    {
        var data = new TheoryData<string>();
        if (File.Exists(ProblemsPath))
        {
            foreach (ProblemSpec p in ProblemCatalog.Load(ProblemsPath).Problems.Where(p => p.Kind is "lqr" or "box_lqr"))
            {
                data.Add(p.Name);
            }
        }
        return data;
    }

    [Fact]
    public void ProblemsJson_HasLqrEntries()
    {
        Assert.True(File.Exists(ProblemsPath), $"problems.json not found: {ProblemsPath}");
        Assert.Contains(ProblemCatalog.Load(ProblemsPath).Problems, p => p.Kind == "lqr");
    }

    [Theory]
    [MemberData(nameof(LqrEntries))]
    public void Generator_MatchesEntry(string name)
    {
        ProblemSpec spec = ProblemCatalog.Load(ProblemsPath).Get(name);
        Assert.Equal(new MpcDimensions(spec.Horizon, spec.Batch, spec.N!.Value, spec.M!.Value), LqrProblemGenerator.Dimensions(spec));
        // The layout checks on the entry's own n and m; the largest entries (10^7 values, seconds
        // to draw in a Debug build) at a shorter horizon and a smaller batch, the same code path.
        MpcDimensions d = LqrProblemGenerator.Dimensions(spec);
        if ((long)d.Horizon * d.BatchSize * d.TauDim * d.TauDim > 1_000_000)
        {
            d = d with { Horizon = Math.Min(d.Horizon, 4), BatchSize = Math.Min(d.BatchSize, 3) };
        }
        LqrProblem p = LqrProblemGenerator.Build(d);
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = n + m;

        Assert.Equal(d, p.Dimensions);
        Assert.Equal(B * n, p.XInit.Length);
        AssertFullLayout(p.CostQuadratic, T * B * N * N);
        AssertFullLayout(p.CostLinear, T * B * N);
        AssertFullLayout(p.Dynamics, (T - 1) * B * n * N);
        Assert.NotNull(p.DynamicsOffset);
        AssertFullLayout(p.DynamicsOffset!, (T - 1) * B * n);

        // C_t = G G'/N + 0.1 I: symmetric, diagonal at least 0.1.
        ReadOnlySpan<double> C0 = p.CostQuadratic.Data.AsSpan(0, N * N);
        for (int i = 0; i < N; i++)
        {
            Assert.True(C0[i * N + i] >= 0.1);
            for (int j = 0; j < i; j++)
            {
                Assert.Equal(C0[i * N + j], C0[j * N + i]);
            }
        }
        // F is time-varying: stage 0 and stage 1 of element 0 differ (when there are two stages).
        if (T > 2)
        {
            Assert.False(p.Dynamics.Data.AsSpan(0, n * N).SequenceEqual(p.Dynamics.Data.AsSpan(B * n * N, n * N)));
        }
        // Fixed seed: rebuilding gives the same numbers.
        Assert.Equal(p.Dynamics.Data, LqrProblemGenerator.Build(d).Dynamics.Data);
    }

    /// <summary>A problems file that cannot be used is one InvalidDataException naming the file and what is wrong.</summary>
    [Theory]
    [InlineData(null, "cannot read")]
    [InlineData("{\"problems\": [1, 2]}", "cannot read")]
    [InlineData("{\"problems\": [{\"name\": \"a\", \"kind\": \"lqr\"", "cannot read")]
    [InlineData("{\"problems\": [{\"name\": \"a\", \"kind\": \"lqr\", \"T\": 0, \"B\": 1, \"n\": 2, \"m\": 1}]}", "T >= 1")]
    [InlineData("{\"problems\": [{\"name\": \"a\", \"kind\": \"lqr\", \"T\": 3, \"B\": 1, \"m\": 1}]}", "needs n >= 1 and m >= 1")]
    [InlineData("{\"problems\": [{\"name\": \"a\", \"kind\": \"box_lqr\", \"T\": 3, \"B\": 1, \"n\": 2, \"m\": 1}]}", "needs a bound box > 0")]
    public void BadCatalog_IsOneInvalidDataException_NamingTheFile(string? json, string expected)
    {
        string path = Path.Combine(Path.GetTempPath(), $"diffmpc-catalog-{Guid.NewGuid():N}.json");
        try
        {
            if (json is not null)
            {
                File.WriteAllText(path, json);
            }
            var ex = Assert.Throws<InvalidDataException>(() => ProblemCatalog.Load(path));
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertFullLayout(StageArray a, int length)
    {
        Assert.False(a.SharedOverTime);
        Assert.False(a.SharedOverBatch);
        Assert.False(a.IsScalar);
        Assert.Equal(length, a.Data.Length);
    }
}
