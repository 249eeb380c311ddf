namespace DiffMpc.Benchmarks.Problems;

/// <summary>Finds the repository root and the shared benchmark definitions beside it.</summary>
internal static class BenchPaths
{
    /// <summary>Overrides the default problems.json (used by BenchmarkDotNet's child processes too).</summary>
    public const string ProblemsEnvironmentVariable = "DIFFMPC_BENCH_PROBLEMS";

    /// <summary>
    /// The folder holding DiffMpc.sln, found by walking up from the current directory, then from
    /// the binary's folder (BenchmarkDotNet runs benchmarks from a generated folder under bin/).
    /// </summary>
    public static string RepoRoot() =>
        FindUp(Environment.CurrentDirectory) ?? FindUp(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException(
            $"DiffMpc.sln not found above {Environment.CurrentDirectory} or {AppContext.BaseDirectory}; pass --problems PATH.");

    /// <summary>$DIFFMPC_BENCH_PROBLEMS when set, else ../shared/bench/problems.json relative to the repository root.</summary>
    public static string DefaultProblemsPath()
    {
        string? env = Environment.GetEnvironmentVariable(ProblemsEnvironmentVariable);
        return string.IsNullOrWhiteSpace(env)
            ? Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "bench", "problems.json"))
            : Path.GetFullPath(env);
    }

    private static string? FindUp(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffMpc.sln")))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
