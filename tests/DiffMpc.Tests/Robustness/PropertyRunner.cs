// Deterministic property runner on top of CsCheck. CsCheck's Sample seeds only its first
// iteration from `seed:` and draws the rest from a time-seeded generator; for a reproducible CI
// run every case here is its own one-iteration Sample with a fixed, derived seed. When a case
// fails, CsCheck is run again from that seed for a few seconds so that it shrinks the failure
// to a minimal input, and both seeds (original and shrunk) are reported.
using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace DiffMpc.Tests.Robustness;

internal static class PropertyRunner
{
    /// <summary>Seconds CsCheck may spend shrinking a failure.</summary>
    private const int ShrinkSeconds = 10;

    /// <summary>
    /// Runs <paramref name="property"/> on <paramref name="cases"/> inputs drawn from
    /// <paramref name="gen"/> with the fixed seeds of <paramref name="stream"/>. Throws (with the
    /// original seed, the shrunk seed and the minimal input) on the first failing case.
    /// </summary>
    /// <returns>The number of cases run.</returns>
    public static int Run<T>(Gen<T> gen, Action<T> property, int cases, uint stream, ITestOutputHelper output,
        Func<T, string>? print = null)
    {
        var watch = Stopwatch.StartNew();
        for (int k = 0; k < cases; k++)
        {
            string seed = Seed(stream, k);
            try
            {
                gen.Sample(property, seed: seed, iter: 1, threads: 1, print: print);
            }
            catch (Exception first)
            {
                string shrunk;
                try
                {
                    // Replays the failing seed first, then keeps sampling to find smaller failures.
                    gen.Sample(property, seed: seed, time: ShrinkSeconds, threads: 1, print: print);
                    shrunk = "(the replay passed: the failure is not reproducible from its seed)";
                }
                catch (Exception minimal)
                {
                    shrunk = Describe(minimal);
                }
                throw new XunitException(string.Create(CultureInfo.InvariantCulture,
                    $"Property failed on case {k} of {cases}, seed \"{seed}\" (stream {stream}).\n" +
                    $"First failure:\n{Describe(first)}\n\nShrunk by CsCheck:\n{shrunk}"));
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{cases} property cases (stream {stream}) passed in {watch.Elapsed.TotalSeconds:F2} s"));
        return cases;
    }

    /// <summary>CsCheck's message (seed and input) and the assertion that failed.</summary>
    private static string Describe(Exception e) =>
        e.InnerException is { } inner ? $"{e.Message}\n{inner.GetType().Name}: {inner.Message}" : e.Message;

    /// <summary>The fixed CsCheck seed of case <paramref name="k"/> of a stream.</summary>
    public static string Seed(uint stream, int k) =>
        new PCG(stream, 0x9E3779B97F4A7C15UL * (ulong)(k + 1)).ToString();
}
