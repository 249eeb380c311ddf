using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace DiffMpc.Internal;

/// <summary>
/// Runs a per-unit body over the batch (a unit is one element, or one group of elements packed
/// into SIMD lanes), split into static contiguous chunks, one per worker. Each unit's work is
/// independent and written to its own slots, and chunk w always uses scratch set w, so results
/// are bitwise identical whatever the number of workers or which thread runs a chunk.
/// </summary>
/// <remarks>
/// Small batches run inline on the calling thread. Larger ones hand chunks 1..W-1 to the thread
/// pool as reusable <see cref="IThreadPoolWorkItem"/> objects owned by the runner (no delegate,
/// closure or task per call: a steady-state <see cref="Run"/> allocates nothing), run chunk 0
/// on the caller, then claim back any chunk no pool thread has started yet (so progress never
/// depends on pool threads being available) and wait for the rest on a reusable event.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The ManualResetEventSlim never creates a kernel handle (WaitHandle is not used), so there is nothing to release.")]
internal sealed class BatchRunner
{
    /// <summary>Below this estimated work (flops) a call stays on the calling thread.</summary>
    private const long ParallelThreshold = 200_000;

    private readonly int _units;
    private readonly int _workers;
    private readonly bool _parallel;
    private readonly Action<int, int, int> _body;
    private readonly Action<int, int, int, int>? _afterBlock;
    private readonly int _blockUnits;
    private readonly ChunkItem[] _items;
    private readonly ManualResetEventSlim _done = new(initialState: true, spinCount: 2000);
    private int _phase;
    private int _pending;
    private ExceptionDispatchInfo? _failure;

    /// <param name="units">Number of independent units (elements or lane groups).</param>
    /// <param name="workers">Number of chunks / scratch sets available.</param>
    /// <param name="flopsPerUnit">Rough work of one unit, to decide whether threads pay off.</param>
    /// <param name="body">(phase, unit, worker) =&gt; work; worker indexes the scratch to use.</param>
    /// <param name="afterBlock">
    /// Optional (phase, first unit, end unit, worker) =&gt; work, run on the same thread once the
    /// body has run for the units [first, end): a block of <paramref name="blockUnits"/>
    /// consecutive units of one chunk, or the rest of the chunk. For output that is best written
    /// in contiguous runs over several units rather than unit by unit.
    /// </param>
    /// <param name="blockUnits">Units per <paramref name="afterBlock"/> call (at least 1; int.MaxValue: one call per chunk).</param>
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
            RunUnits(phase, 0, _units, 0);
            return;
        }

        _phase = phase;
        _failure = null;
        _pending = _workers - 1;
        _done.Reset();
        for (int w = 1; w < _workers; w++)
        {
            _items[w].Arm();
            ThreadPool.UnsafeQueueUserWorkItem(_items[w], preferLocal: false);
        }
        RunChunk(0);
        // Claim back chunks that no pool thread has picked up yet.
        for (int w = 1; w < _workers; w++)
        {
            if (_items[w].TryClaim())
            {
                _items[w].Execute();
            }
        }
        _done.Wait();
        _failure?.Throw();
    }

    private void RunChunk(int worker)
    {
        int chunk = (_units + _workers - 1) / _workers;
        RunUnits(_phase, worker * chunk, Math.Min(_units, (worker + 1) * chunk), worker);
    }

    /// <summary>The body for units [first, end) in order, with the after-block calls.</summary>
    private void RunUnits(int phase, int first, int end, int worker)
    {
        int blockStart = first;
        for (int u = first; u < end; u++)
        {
            _body(phase, u, worker);
            if (_afterBlock is not null && (u + 1 - blockStart >= _blockUnits || u + 1 == end))
            {
                _afterBlock(phase, blockStart, u + 1, worker);
                blockStart = u + 1;
            }
        }
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
            if (TryClaim())
            {
                Execute();
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
                owner._failure ??= ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                owner.ChunkDone();
            }
        }
    }
}
