namespace DiffMpc.Internal;

/// <summary>
/// Runs a per-element body over the batch, split into contiguous chunks, one per worker. Each
/// element's work is independent and written to its own slots, so results are bitwise identical
/// whatever the number of workers. Small batches run inline on the calling thread (no
/// allocation); larger ones use <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>.
/// </summary>
internal sealed class BatchRunner
{
    /// <summary>Below this estimated work (flops) a solve stays on the calling thread.</summary>
    private const long ParallelThreshold = 200_000;

    private readonly int _batch;
    private readonly int _workers;
    private readonly bool _parallel;
    private readonly Action<int, int, int> _body;
    private readonly Action<int> _workerBody;
    private readonly ParallelOptions _parallelOptions;
    private int _phase;

    /// <param name="batch">B.</param>
    /// <param name="workers">Number of chunks / scratch sets available.</param>
    /// <param name="flopsPerElement">Rough work of one element, to decide whether threads pay off.</param>
    /// <param name="body">(phase, element, worker) =&gt; work; worker indexes the scratch to use.</param>
    public BatchRunner(int batch, int workers, long flopsPerElement, Action<int, int, int> body)
    {
        _batch = batch;
        _workers = workers;
        _body = body;
        _parallel = workers > 1 && flopsPerElement * batch >= ParallelThreshold;
        _workerBody = RunChunk;
        _parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = workers };
    }

    /// <summary>Runs <c>body(phase, b, worker)</c> for every b.</summary>
    public void Run(int phase)
    {
        if (!_parallel)
        {
            for (int b = 0; b < _batch; b++)
            {
                _body(phase, b, 0);
            }
            return;
        }
        _phase = phase;
        Parallel.For(0, _workers, _parallelOptions, _workerBody);
    }

    private void RunChunk(int worker)
    {
        int chunk = (_batch + _workers - 1) / _workers;
        int end = Math.Min(_batch, (worker + 1) * chunk);
        for (int b = worker * chunk; b < end; b++)
        {
            _body(_phase, b, worker);
        }
    }
}
