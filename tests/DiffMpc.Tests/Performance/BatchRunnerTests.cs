// The batch runner's after-block hook: every unit is covered by exactly one block, after the
// body has run for all units of that block, on the same worker, in blocks of at most the
// requested size that never straddle two workers' chunks; with one worker or with several.
using System.Collections.Concurrent;
using DiffMpc.Internal;
using Xunit;

namespace DiffMpc.Tests.Performance;

public sealed class BatchRunnerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 3)]
    [InlineData(2, 1)]
    [InlineData(2, 3)]
    [InlineData(2, int.MaxValue)]
    [InlineData(3, 4)]
    public void AfterBlock_CoversEveryUnitOnce_AfterItsBody_OnItsWorker(int workers, int blockUnits)
    {
        const int units = 23;
        var bodyWorker = new int[units];
        var bodyDone = new bool[units];
        var blocks = new ConcurrentBag<(int First, int End, int Worker, int Phase)>();
        var runner = new BatchRunner(units, workers, flopsPerUnit: 1_000_000,
            (phase, u, worker) => { bodyWorker[u] = worker; Volatile.Write(ref bodyDone[u], true); },
            (phase, first, end, worker) =>
            {
                for (int u = first; u < end; u++)
                {
                    Assert.True(Volatile.Read(ref bodyDone[u]));
                    Assert.Equal(worker, bodyWorker[u]);
                }
                blocks.Add((first, end, worker, phase));
            },
            blockUnits);
        Assert.Equal(workers > 1, runner.IsParallel);

        runner.Run(7);

        int chunk = (units + workers - 1) / workers;
        var covered = new int[units];
        foreach ((int first, int end, int worker, int phase) in blocks)
        {
            Assert.Equal(7, phase);
            Assert.InRange(end - first, 1, blockUnits);
            Assert.Equal(first / chunk, (end - 1) / chunk);   // within one chunk
            Assert.Equal(first / chunk, worker);
            for (int u = first; u < end; u++)
            {
                covered[u]++;
            }
        }
        Assert.All(covered, c => Assert.Equal(1, c));
    }
}
