using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace DiffMpc.Internal;

/// <summary>
/// Runs a per-unit body over the batch (a unit is one element, or one group of elements packed
/// into SIMD lanes), split into contiguous chunks, one per worker. Each unit's work is
/// independent, written to its own slots, and does not depend on what its worker's scratch set
/// held before, so results are bitwise identical whatever the number of workers and whichever
/// worker runs a unit.
/// </summary>
/// <remarks>
/// Small batches run inline on the calling thread. Larger ones hand chunks 1..W-1 to the thread
/// pool as reusable <see cref="IThreadPoolWorkItem"/> objects owned by the runner (no delegate,
/// closure or task per call: a steady-state <see cref="Run"/> allocates nothing) and run chunk 0
/// on the caller. Each worker takes its chunk's units from the front; a worker whose chunk is
/// done takes the other chunks' remaining units from their back (one atomic range per chunk), so
/// a pool thread that starts late, or a core that runs slow, costs the batch little: on the
/// 2-core project machine a pool thread started 10-30 us after the caller on average, against
/// ~55 us of Backward work per worker at n = 10, B = 64 (there the units, lane groups of ~14 us,
/// are too coarse for taking them over to gain much: medians unchanged; the mean Solve of the
/// box-constrained benchmarks, whose groups take unequal numbers of iterations, 0.3-10% lower).
/// The caller then claims back any chunk no pool thread has started (so progress never depends
/// on pool threads being available) and waits for the rest on a reusable event. A pool thread
/// that has done its part stays briefly for the next run (<see cref="LingerMicroseconds"/>).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The ManualResetEventSlim never creates a kernel handle (WaitHandle is not used), so there is nothing to release.")]
internal sealed class BatchRunner
{
    /// <summary>Below this estimated work (flops) a call stays on the calling thread.</summary>
    private const long ParallelThreshold = 200_000;

    /// <summary>
    /// How long a pool thread that has finished its part of a run spins, waiting for the runner's
    /// next run, before it returns to the pool. Back-to-back calls (Solve, then Backward) then
    /// find it awake: it caught ~90% of the runs in a Solve + Backward loop, and the mean Solve
    /// and Backward at n = 10, B = 64 came out 3-10% lower in three of four in-process
    /// comparisons (2% higher in the fourth). At most this long of one core's time per run is spent
    /// spinning when no call follows.
    /// </summary>
    private const double LingerMicroseconds = 50;

    private readonly int _units;
    private readonly int _workers;
    private readonly bool _parallel;
    private readonly Action<int, int, int> _body;
    private readonly Action<int, int, int, int>? _afterBlock;
    private readonly int _blockUnits;
    private readonly ChunkItem[] _items;
    private readonly long[] _ranges;   // per chunk, the units not yet taken: next from the front (low 32 bits), end (high 32 bits)
    private readonly ManualResetEventSlim _done = new(initialState: true, spinCount: 2000);
    private int _generation;   // counts the parallel runs; incremented once a run's items are armed
    private int _phase;
    private int _pending;
    private ExceptionDispatchInfo? _failure;

    /// <param name="units">Number of independent units (elements or lane groups).</param>
    /// <param name="workers">Number of chunks / scratch sets available.</param>
    /// <param name="flopsPerUnit">Rough work of one unit, to decide whether threads pay off.</param>
    /// <param name="body">(phase, unit, worker) =&gt; work; worker indexes the scratch to use.</param>
    /// <param name="afterBlock">
    /// Optional (phase, first unit, end unit, worker) =&gt; work, run on the same thread once the
    /// body has run for the units [first, end): at most <paramref name="blockUnits"/> consecutive
    /// units of one chunk that this worker ran, flushed early when its next unit does not extend
    /// the block. Every unit is in exactly one block. For output that is best written in
    /// contiguous runs over several units rather than unit by unit.
    /// </param>
    /// <param name="blockUnits">Units per <paramref name="afterBlock"/> call (at least 1; int.MaxValue: as long as the runs go).</param>
    public BatchRunner(int units, int workers, long flopsPerUnit, Action<int, int, int> body,
        Action<int, int, int, int>? afterBlock = null, int blockUnits = 1)
    {
        Debug.Assert(workers >= 1 && workers <= Math.Max(units, 1) && blockUnits >= 1);
        _units = units;
        _workers = workers;
        _body = body;
        _afterBlock = afterBlock;
        _blockUnits = blockUnits;
        _parallel = workers > 1 && flopsPerUnit * units >= ParallelThreshold;
        _items = new ChunkItem[workers];
        _ranges = new long[workers];
        for (int w = 1; w < workers; w++)
        {
            _items[w] = new ChunkItem(this, w);
        }
    }

    /// <summary>True when calls are split over threads (else everything runs on the caller).</summary>
    public bool IsParallel => _parallel;

    /// <summary>Runs <c>body(phase, unit, worker)</c> for every unit and returns when all are done.</summary>
    public void Run(int phase)
    {
        if (!_parallel)
        {
            RunInline(phase);
            return;
        }

        _phase = phase;
        _failure = null;
        _pending = _workers - 1;
        int chunk = (_units + _workers - 1) / _workers;
        for (int w = 0; w < _workers; w++)
        {
            _ranges[w] = Range(Math.Min(_units, w * chunk), Math.Min(_units, (w + 1) * chunk));
        }
        _done.Reset();
        for (int w = 1; w < _workers; w++)
        {
            _items[w].Arm();
        }
        Interlocked.Increment(ref _generation);   // a pool thread lingering after the last run may take its item now
        for (int w = 1; w < _workers; w++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_items[w], preferLocal: false);
        }
        try
        {
            RunChunk(0);
        }
#pragma warning disable CA1031 // Recorded and rethrown below, once no worker runs any more.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RecordFailure(ex);
        }
        // Claim back chunks that no pool thread has picked up yet, and wait for the others even
        // when a unit has failed: a worker still running when Run returns would share its
        // scratch set and counters with the next run.
        for (int w = 1; w < _workers; w++)
        {
            if (_items[w].TryClaim())
            {
                _items[w].Execute();
            }
        }
        _done.Wait();
        Volatile.Read(ref _failure)?.Throw();
    }

    /// <summary>Keeps the first failure of a run (whichever worker it came from); the workers then take no more units.</summary>
    private void RecordFailure(Exception ex) => Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);

    /// <summary>True once a unit of this run has thrown: the run is lost, so the workers stop taking units.</summary>
    private bool Failed => Volatile.Read(ref _failure) is not null;

    /// <summary>Worker w's share: its own chunk from the front, then the other chunks' leftovers from their back.</summary>
    private void RunChunk(int worker)
    {
        var block = new Block(this, _phase, worker);
        while (!Failed && TakeFront(worker, out int u))
        {
            _body(_phase, u, worker);
            block.Add(u);
        }
        block.Flush();
        for (int k = 1; k < _workers; k++)
        {
            int victim = (worker + k) % _workers;
            while (!Failed && TakeBack(victim, out int u))
            {
                _body(_phase, u, worker);
                block.Add(u);
            }
            block.Flush();
        }
    }

    /// <summary>The body for every unit in order on the calling thread (worker 0), with the after-block calls.</summary>
    private void RunInline(int phase)
    {
        var block = new Block(this, phase, 0);
        for (int u = 0; u < _units; u++)
        {
            _body(phase, u, 0);
            block.Add(u);
        }
        block.Flush();
    }

    private static long Range(int next, int end) => ((long)end << 32) | (uint)next;

    /// <summary>Takes the first unit not yet taken of chunk w; false when none is left.</summary>
    private bool TakeFront(int w, out int unit) => Take(w, fromBack: false, out unit);

    /// <summary>Takes the last unit not yet taken of chunk w; false when none is left.</summary>
    private bool TakeBack(int w, out int unit) => Take(w, fromBack: true, out unit);

    /// <summary>Takes the first or last unit not yet taken of chunk w (one compare-and-swap on its range); false when none is left.</summary>
    private bool Take(int w, bool fromBack, out int unit)
    {
        while (true)
        {
            long r = Volatile.Read(ref _ranges[w]);
            int next = (int)r, end = (int)(r >> 32);
            if (next >= end)
            {
                unit = -1;
                return false;
            }
            long taken = fromBack ? Range(next, end - 1) : Range(next + 1, end);
            if (Interlocked.CompareExchange(ref _ranges[w], taken, r) == r)
            {
                unit = fromBack ? end - 1 : next;
                return true;
            }
        }
    }

    /// <summary>The consecutive units one worker has run since its last after-block call.</summary>
    private struct Block(BatchRunner owner, int phase, int worker)
    {
        private int _first, _end;

        /// <summary>Adds a unit the body has just run; flushes first when it does not extend the block, after when the block is full.</summary>
        public void Add(int unit)
        {
            if (owner._afterBlock is null)
            {
                return;
            }
            if (_first == _end)
            {
                (_first, _end) = (unit, unit + 1);
            }
            else if (unit == _end)
            {
                _end++;
            }
            else if (unit == _first - 1)
            {
                _first--;
            }
            else
            {
                Flush();
                (_first, _end) = (unit, unit + 1);
            }
            if (_end - _first >= owner._blockUnits)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_first < _end)
            {
                owner._afterBlock!(phase, _first, _end, worker);
                _first = _end;
            }
        }
    }

    /// <summary>
    /// Spins for up to <see cref="LingerMicroseconds"/> until a run after <paramref name="generation"/>
    /// has armed its items; true when one has.
    /// </summary>
    private bool AwaitNextRun(int generation)
    {
        long until = Stopwatch.GetTimestamp() + (long)(LingerMicroseconds * 1e-6 * Stopwatch.Frequency);
        while (Volatile.Read(ref _generation) == generation)
        {
            if (Stopwatch.GetTimestamp() >= until)
            {
                return false;
            }
            Thread.SpinWait(8);
        }
        return true;
    }

    private void ChunkDone()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _done.Set();
        }
    }

    /// <summary>One reusable chunk of work; whoever claims it first (pool thread or caller) runs it.</summary>
    private sealed class ChunkItem(BatchRunner owner, int worker) : IThreadPoolWorkItem
    {
        private int _claimed;

        public void Arm() => Volatile.Write(ref _claimed, 0);

        public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

        void IThreadPoolWorkItem.Execute()
        {
            if (!TryClaim())
            {
                return;
            }
            while (true)
            {
                int generation = Volatile.Read(ref owner._generation);
                Execute();
                // Stay a moment for the runner's next run (a Solve is often followed at once by a
                // Backward): a pool thread woken from sleep starts it 10-30 us late.
                if (!owner.AwaitNextRun(generation) || !TryClaim())
                {
                    return;
                }
            }
        }

        public void Execute()
        {
            try
            {
                owner.RunChunk(worker);
            }
#pragma warning disable CA1031 // The body must not throw; if it does, the caller rethrows it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                owner.RecordFailure(ex);
            }
            finally
            {
                owner.ChunkDone();
            }
        }
    }
}
