namespace DiffMpc.Tests.Support;

/// <summary>Locates the repository root and the shared material beside it.</summary>
internal static class RepoPaths
{
    /// <summary>The folder holding DiffMpc.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared beside the repository.</summary>
    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>$DIFFMPC_GOLDEN_DIR when set, else ../shared/golden.</summary>
    public static string GoldenDir
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("DIFFMPC_GOLDEN_DIR");
            return string.IsNullOrWhiteSpace(env) ? Path.Combine(SharedDir, "golden") : Path.GetFullPath(env);
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffMpc.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"DiffMpc.sln not found above {AppContext.BaseDirectory}.");
    }
}
