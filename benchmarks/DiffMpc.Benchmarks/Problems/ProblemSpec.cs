using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// One entry of problems.json: a benchmark shape. Fields a kind does not use are null; fields this
/// class does not know are kept in <see cref="Extra"/> so a new kind can read them without a change here.
/// </summary>
internal sealed class ProblemSpec
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>State dimension n (lqr, box_lqr).</summary>
    [JsonPropertyName("n")]
    public int? N { get; set; }

    /// <summary>Control dimension m (lqr, box_lqr).</summary>
    [JsonPropertyName("m")]
    public int? M { get; set; }

    /// <summary>Horizon T.</summary>
    [JsonPropertyName("T")]
    public int Horizon { get; set; }

    /// <summary>Batch size B.</summary>
    [JsonPropertyName("B")]
    public int Batch { get; set; }

    /// <summary>Minimum number of timed runs, when given.</summary>
    [JsonPropertyName("reps")]
    public int? Reps { get; set; }

    /// <summary>Control bound |u| &lt;= box (box_lqr).</summary>
    [JsonPropertyName("box")]
    public double? Box { get; set; }

    /// <summary>Iteration limit (box_lqr, pendulum, cartpole).</summary>
    [JsonPropertyName("max_iter")]
    public int? MaxIter { get; set; }

    /// <summary>Step-norm tolerance (pendulum, cartpole).</summary>
    [JsonPropertyName("eps")]
    public double? Eps { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>n, or an error naming the problem when the entry has none.</summary>
    public int RequireN() => N ?? throw new InvalidDataException($"problem '{Name}' (kind {Kind}) has no 'n'.");

    /// <summary>m, or an error naming the problem when the entry has none.</summary>
    public int RequireM() => M ?? throw new InvalidDataException($"problem '{Name}' (kind {Kind}) has no 'm'.");

    public override string ToString() => $"{Name} ({Kind}, n={N}, m={M}, T={Horizon}, B={Batch})";
}

/// <summary>The problems.json file: a description and the list of shapes.</summary>
internal sealed class ProblemCatalog
{
    [JsonPropertyName("doc")]
    public string Doc { get; set; } = "";

    [JsonPropertyName("problems")]
    public List<ProblemSpec> Problems { get; set; } = [];

    /// <summary>
    /// Reads and checks a problems.json file: every failure (missing or unreadable file, malformed
    /// JSON, an entry without what its kind needs) is an <see cref="InvalidDataException"/> whose
    /// message names the file and the problem, so callers report it in one line.
    /// </summary>
    public static ProblemCatalog Load(string path)
    {
        ProblemCatalog? catalog;
        try
        {
            using FileStream stream = File.OpenRead(path);
            catalog = JsonSerializer.Deserialize<ProblemCatalog>(stream);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: cannot read the problem catalog: {ex.Message}", ex);
        }
        if (catalog is null)
        {
            throw new InvalidDataException($"{path} holds no problem catalog.");
        }
        foreach (ProblemSpec p in catalog.Problems)
        {
            if (string.IsNullOrEmpty(p.Name) || string.IsNullOrEmpty(p.Kind) || p.Horizon < 1 || p.Batch < 1)
            {
                throw new InvalidDataException($"{path}: every problem needs a name, a kind, T >= 1 and B >= 1; got {p}.");
            }
            if (p.Kind is "lqr" or "box_lqr" && (p.N is not >= 1 || p.M is not >= 1))
            {
                throw new InvalidDataException($"{path}: problem '{p.Name}' of kind {p.Kind} needs n >= 1 and m >= 1; got {p}.");
            }
            if (p.Kind == "box_lqr" && !(p.Box > 0))
            {
                throw new InvalidDataException($"{path}: problem '{p.Name}' of kind box_lqr needs a bound box > 0; got {p.Box?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}.");
            }
        }
        return catalog;
    }

    /// <summary>The catalog at the default location (see <see cref="BenchPaths.DefaultProblemsPath"/>).</summary>
    public static ProblemCatalog LoadDefault() => Load(BenchPaths.DefaultProblemsPath());

    /// <summary>The problem called <paramref name="name"/>.</summary>
    public ProblemSpec Get(string name) =>
        Problems.Find(p => string.Equals(p.Name, name, StringComparison.Ordinal))
        ?? throw new ArgumentException($"no problem named '{name}'; known: {string.Join(", ", Problems.Select(p => p.Name))}.", nameof(name));
}
