// The batch runner: every unit runs exactly once; a worker that is done takes the rest of a
// slow worker's chunk; the after-block hook covers every unit by exactly one block, after the
// body has run for all units of that block, on the same worker, in blocks of at most the
// requested size that never straddle two chunks; with one worker or with several.
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
            for (int u = first; u < end; u++)
            {
                covered[u]++;
            }
        }
        Assert.All(covered, c => Assert.Equal(1, c));
    }

    [Fact]
    public void FinishedWorker_TakesTheRestOfASlowWorkersChunk()
    {
        const int units = 24;
        var ranBy = new int[units];
        var runs = new int[units];
        int slowed = 0;
        var runner = new BatchRunner(units, 2, flopsPerUnit: 1_000_000, (phase, u, worker) =>
        {
            Interlocked.Increment(ref runs[u]);
            ranBy[u] = worker;
            if (worker == 1 && Interlocked.Exchange(ref slowed, 1) == 0)
            {
                Thread.Sleep(200);   // the pool worker stalls on its first unit
            }
        });

        runner.Run(0);

        Assert.All(runs, r => Assert.Equal(1, r));
        // Worker 0 finished its chunk [0, 12) at once and took units of chunk [12, 24) from the back,
        // unless the pool thread never started (then the caller ran the whole chunk as worker 1).
        Assert.True(slowed == 0 || ranBy[23] == 0, "the last unit of the slow chunk ran on worker 0");
    }

    [Fact]
    public void BackToBackRuns_RunEveryUnitOncePerRun_WithTheRunsPhase()
    {
        // Runs that follow each other at once are mostly taken up by the pool thread still
        // lingering after the previous run; each must still run every unit once, in its own phase.
        const int units = 16, runs = 300;
        var count = new int[units];
        var phaseSeen = new int[units];
        var runner = new BatchRunner(units, 2, flopsPerUnit: 1_000_000, (phase, u, worker) =>
        {
            Interlocked.Increment(ref count[u]);
            Volatile.Write(ref phaseSeen[u], phase);
        });
        for (int r = 0; r < runs; r++)
        {
            runner.Run(r);
            for (int u = 0; u < units; u++)
            {
                Assert.Equal(r + 1, Volatile.Read(ref count[u]));
                Assert.Equal(r, Volatile.Read(ref phaseSeen[u]));
            }
        }
    }
    /// <summary>
    /// A unit that throws on the caller's chunk while another worker is inside a unit: Run waits
    /// for that worker before it rethrows (a worker still running would share its scratch and
    /// counters with the next run), no worker takes a unit after the failure, and the runner's
    /// next run is complete. Deterministic: unit 0 throws only once unit 4 (chunk 1) has started,
    /// and unit 4 finishes only when the test opens its gate.
    /// </summary>
    [Fact]
    public void FailureOnTheCallersChunk_WaitsForTheOtherWorkers_AndStopsTakingUnits()
    {
        using var started = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var ran = new ConcurrentBag<int>();
        bool fail = true;
        var runner = new BatchRunner(8, 2, flopsPerUnit: 1_000_000, (phase, u, worker) =>
        {
            ran.Add(u);
            if (fail && u == 0)
            {
                Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
                throw new InvalidDataException("unit 0");
            }
            if (fail && u == 4)
            {
                started.Set();
                Assert.True(gate.Wait(TimeSpan.FromSeconds(10)));
            }
        });
        Assert.True(runner.IsParallel);

        var run = Task.Run(() => runner.Run(0));
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        Thread.Sleep(100);
        Assert.False(run.IsCompleted, "Run returned while a worker was still inside a unit");
        gate.Set();
        Assert.Throws<InvalidDataException>(() => run.GetAwaiter().GetResult());
        Assert.Equal([0, 4], ran.Order());

        fail = false;
        ran.Clear();
        runner.Run(1);
        Assert.Equal(Enumerable.Range(0, 8), ran.Order());
    }
}
