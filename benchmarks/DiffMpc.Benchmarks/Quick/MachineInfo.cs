using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DiffMpc.Benchmarks.Quick;

/// <summary>What a results table needs to say about the machine it came from.</summary>
internal static class MachineInfo
{
    public static string Describe() =>
        $"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n"
        + $"cpu: {CpuModel()}, {Environment.ProcessorCount} logical cores\n"
        + $"runtime: {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture})\n"
        + $"simd: Vector512 accelerated = {Vector512.IsHardwareAccelerated}, Vector256 = {Vector256.IsHardwareAccelerated}, Vector<double>.Count = {System.Numerics.Vector<double>.Count}\n"
        + $"gc: server = {System.Runtime.GCSettings.IsServerGC}";

    /// <summary>The "model name" of /proc/cpuinfo (as lscpu shows it), or "unknown".</summary>
    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                    {
                        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return "unknown";
    }
}
