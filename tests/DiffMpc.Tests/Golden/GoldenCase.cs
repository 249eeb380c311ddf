using System.Text.Json;

namespace DiffMpc.Tests.Golden;

/// <summary>
/// One golden reference case (format 1, see ../shared/golden/README.md), with every nested
/// array flattened to a row-major double[] in its documented [t][b][...] order.
/// </summary>
internal sealed class GoldenCase
{
    private readonly JsonElement _root;

    private GoldenCase(string path, JsonElement root)
    {
        Path = path;
        _root = root;
        Format = root.TryGetProperty("format", out JsonElement f) ? f.GetInt32() : 1;
        Name = root.TryGetProperty("name", out JsonElement nm) ? nm.GetString()! : System.IO.Path.GetFileNameWithoutExtension(path);
        Kind = root.GetProperty("kind").GetString()!;
        T = root.GetProperty("T"u8).GetInt32();
        B = root.GetProperty("n_batch").GetInt32();
        N = root.GetProperty("n_state").GetInt32();
        M = root.GetProperty("n_ctrl").GetInt32();
    }

    public string Path { get; }

    public int Format { get; }

    public string Name { get; }

    public string Kind { get; }

    public int T { get; }

    public int B { get; }

    /// <summary>n, the state dimension.</summary>
    public int N { get; }

    /// <summary>m, the control dimension.</summary>
    public int M { get; }

    public static GoldenCase Load(string path)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
        return new GoldenCase(path, doc.RootElement.Clone());
    }

    /// <summary>The flattened array at a dotted path ("inputs.C"), or null when absent or JSON null.</summary>
    public double[]? Array(string dottedPath)
    {
        JsonElement? e = Find(dottedPath);
        if (e is null || e.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        var values = new List<double>();
        Flatten(e.Value, values);
        return values.ToArray();
    }

    /// <summary>The flattened array at a dotted path; throws when absent.</summary>
    public double[] Required(string dottedPath) =>
        Array(dottedPath) ?? throw new InvalidDataException($"{Name}: field '{dottedPath}' is missing or null.");

    /// <summary>True when the dotted path exists and is not JSON null.</summary>
    public bool Has(string dottedPath)
    {
        JsonElement? e = Find(dottedPath);
        return e is not null && e.Value.ValueKind != JsonValueKind.Null;
    }

    /// <summary>The string at a dotted path, or null.</summary>
    public string? String(string dottedPath) => Find(dottedPath) is { ValueKind: JsonValueKind.String } e ? e.GetString() : null;

    /// <summary>True when the dotted path holds a single number (rather than an array).</summary>
    public bool IsScalar(string dottedPath) => Find(dottedPath) is { ValueKind: JsonValueKind.Number };

    /// <summary>Names of the members of the object at a dotted path (e.g. the gradients given).</summary>
    public IReadOnlyList<string> Members(string dottedPath) =>
        Find(dottedPath) is { ValueKind: JsonValueKind.Object } e ? e.EnumerateObject().Select(p => p.Name).ToList() : [];

    private JsonElement? Find(string dottedPath)
    {
        JsonElement cur = _root;
        foreach (string part in dottedPath.Split('.'))
        {
            if (cur.ValueKind != JsonValueKind.Object || !cur.TryGetProperty(part, out cur))
            {
                return null;
            }
        }
        return cur;
    }

    private static void Flatten(JsonElement e, List<double> into)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in e.EnumerateArray())
            {
                Flatten(item, into);
            }
        }
        else
        {
            into.Add(e.GetDouble());
        }
    }
}
