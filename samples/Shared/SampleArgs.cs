// The command line shared by every sample: [--out DIR] [--quick].
namespace DiffMpc.Samples.Shared;

/// <summary>Parsed command-line options of a sample.</summary>
/// <param name="OutputDirectory">Where figures and CSV files go (created).</param>
/// <param name="Quick">True when --quick was given (smaller settings).</param>
internal sealed record SampleArgs(string OutputDirectory, bool Quick)
{
    /// <summary>
    /// Parses [--out DIR] [--quick]; the default output is out/&lt;sampleName&gt; under the current
    /// directory. On an unknown argument it prints the usage (with the sample's project folder,
    /// <paramref name="projectFolder"/>) to standard error and returns null: the program then exits
    /// with code 2.
    /// </summary>
    public static SampleArgs? Parse(string[] args, string sampleName, string projectFolder, bool allowQuick = false)
    {
        string outDir = Path.Combine("out", sampleName);
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                outDir = args[++i];
            }
            else if (args[i] == "--quick" && allowQuick)
            {
                quick = true;
            }
            else
            {
                string usage = allowQuick ? "[--out DIR] [--quick]" : "[--out DIR]";
                Console.Error.WriteLine($"Unknown or incomplete argument '{args[i]}'. Usage: dotnet run -c Release --project samples/{projectFolder} -- {usage}");
                return null;
            }
        }
        Directory.CreateDirectory(outDir);
        return new SampleArgs(Path.GetFullPath(outDir), quick);
    }
}
