// Notation: (xbar, ubar) the current iterate; k_t, K_t the control-limited gains from the box QP
// at every stage; a step rolls out u_t = clamp(ubar_t + alpha k_t + K_t (x_t - xbar_t)) through the
// dynamics and is accepted when the true cost does not increase (backtracking on alpha).
// Convergence: max_t |u_t - ubar_t| <= tolerance. At the returned point the active set (controls at
// a bound) is held fixed and Q_uu's free blocks are refactorised once: those factors serve the
// polish step (an exact Newton step on the free controls) and the backward pass.
using System.Diagnostics;
using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Results;

namespace DiffMpc.Box;

/// <summary>
/// Control-limited DDP (Tassa et al. 2014) for one batch element: <see cref="Iterate"/> runs the
/// phases BackwardPass (box QP per stage) and LineSearch (clamped rollouts) for any
/// <see cref="ITrajectoryModel"/>; <see cref="SolveElement"/> adds, for an LQR,
/// FinalizeActiveSet and Polish at the solution.
/// </summary>
internal static class ControlLimitedLqr
{
    /// <summary>
    /// Runs the phases BackwardPass (box QP per stage) and LineSearch (clamped rollouts of the
    /// true dynamics) from u = clamp(uInit or 0) until the step norm is at most the tolerance.
    /// Leaves the iterate in ws.Tau; returns Converged, MaxIterations, LineSearchFailed,
    /// NotPositiveDefinite or NonFinite, never throws.
    /// </summary>
    public static SolveStatus Iterate<TModel>(in LqrData d, in ControlBox box, int b, double[]? uInit, MpcOptions o,
        ref TModel model, LqrWorkspace ws, StageScratch s)
        where TModel : struct, ITrajectoryModel
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, m = d.Dims.ControlDim;
        for (int t = 0; t < T; t++)
        {
            Span<double> u = ws.TauAt(t, b).Slice(n, m);
            if (uInit is null)
            {
                u.Clear();
            }
            else
            {
                uInit.AsSpan((t * B + b) * m, m).CopyTo(u);
            }
            box.Clamp(t, b, u);
            ws.kAt(t, b).Clear();
        }
        RolloutOpenLoop(d, b, ref model, ws.Tau);
        double cost = model.Cost(b, ws.Tau);
        if (!double.IsFinite(cost))
        {
            return Finish(ws, b, 0, double.NaN, SolveStatus.NonFinite);
        }

        var gains = new BoxGains(box, o.TrustRegion, o.BoxQpMaxIterations);
        var gradient = new ViewStageVector(Problems.StageView.Full(ws.CostGradient, B, d.Dims.TauDim));
        SolveStatus status = SolveStatus.MaxIterations;
        double stepNorm = double.PositiveInfinity, lm = 0;
        int iter = 0, slowSteps = 0;
        double largestStep = 0;
        bool linearized = false, newton = false;
        LqrData stepData = d;
        while (iter < o.MaxIterations)
        {
            if (ws.Cancellation.IsCancellationRequested)
            {
                break;   // the solver throws OperationCanceledException once the batch returns
            }
            iter++;
            if (!linearized)
            {
                model.Linearize(b);
                CostGradient(d, b, ws);
                stepData = d;
                if (newton && model.Curvature(b, out LqrData curved))
                {
                    stepData = curved;
                }
                linearized = true;
            }
            SolveStatus backward = RiccatiSweep.Factor(stepData, b, lm, gradient, withOffset: false,
                ref gains, ws, s);
            if (backward == SolveStatus.NotPositiveDefinite && model.Regularizes && lm < MaxRegularization)
            {
                lm = Math.Max(10 * lm, MinRegularization);   // Levenberg-Marquardt: retry with a larger mu
                continue;
            }
            if (backward != SolveStatus.Converged)
            {
                status = backward;
                break;
            }

            double alpha = 1, trialCost = double.NaN;
            bool accepted = false;
            int ls = 0;   // step sizes tried
            for (; ls < o.LineSearchMaxSteps && !accepted; ls++)
            {
                Rollout(d, box, b, alpha, clamp: true, ref model, ws);
                trialCost = model.Cost(b, ws.TauTrial);
                accepted = trialCost <= cost + 1e-13 * Math.Max(1, Math.Abs(cost));
                alpha *= o.LineSearchDecay;
            }
            if (!accepted)
            {
                if (model.Regularizes && lm < MaxRegularization && double.IsFinite(trialCost))
                {
                    lm = Math.Max(10 * lm, MinRegularization);
                    continue;
                }
                status = double.IsFinite(trialCost) ? SolveStatus.LineSearchFailed : SolveStatus.NonFinite;
                break;
            }
            double previousStep = stepNorm;
            stepNorm = AcceptTrial(ws, b);
            cost = trialCost;
            linearized = false;
            // A small step counts as convergence only when it is the full, unregularised step: a
            // heavily backtracked or damped step can be small far from a solution.
            bool fullStep = ls == 1 && lm == 0;
            lm = lm > MinRegularization ? lm / 10 : 0;
            if (stepNorm <= o.Tolerance && fullStep)
            {
                status = SolveStatus.Converged;
                break;
            }
            // Full Gauss-Newton steps that shrink only slowly mean a linear tail (the dynamics'
            // curvature, which Gauss-Newton leaves out, matters at this solution): from then on
            // the steps are Newton's, with the Hessian of the Lagrangian, which converge
            // quadratically near the solution.
            largestStep = Math.Max(largestStep, stepNorm);
            slowSteps = fullStep && stepNorm < previousStep && stepNorm > SlowTailRatio * previousStep
                && stepNorm <= TailScale * largestStep ? slowSteps + 1 : 0;
            newton |= slowSteps >= SlowTailSteps;
        }
        return Finish(ws, b, iter, stepNorm, status);
    }

    /// <summary>Box-constrained LQR for element b: iterate, then FinalizeActiveSet and Polish.</summary>
    public static SolveStatus SolveElement(in LqrData data, in ControlBox box, int b, double[]? uInit, MpcOptions o,
        LqrWorkspace ws, StageScratch s)
    {
        LqrData d = Symmetrized(data, b, s);
        var model = new LinearModel(d);
        SolveStatus status = Iterate(d, box, b, uInit, o, ref model, ws, s);
        // A DDP step-norm stop is verified by the projected gradient; a stall, a false stop or the
        // iteration limit hands over to a primal active-set method on the condensed (convex)
        // problem, which terminates finitely, for the rest of the iteration budget.
        bool verified = status == SolveStatus.Converged
            && ActiveSetLqr.ProjectedGradient(d, box, b, ws, s) <= KktTolerance(o);
        if (!verified && status is SolveStatus.Converged or SolveStatus.LineSearchFailed or SolveStatus.MaxIterations)
        {
            status = HandOver(d, box, b, o, ws, s);
        }
        if (status is SolveStatus.NotPositiveDefinite or SolveStatus.NonFinite)
        {
            return status;
        }
        int B = d.Dims.BatchSize;
        var gradient = new ViewStageVector(Problems.StageView.Full(ws.CostGradient, B, d.Dims.TauDim));

        // FinalizeActiveSet: factorise with the active set of the returned point held fixed.
        var fixedSet = new FixedActiveSetGains(box);
        CostGradient(d, b, ws);
        SolveStatus final = RiccatiSweep.Factor(d, b, 0, gradient, withOffset: false,
            ref fixedSet, ws, s);
        if (final != SolveStatus.Converged)
        {
            return final;
        }
        double cost = RiccatiSweep.Cost(d, b, ws.Tau);

        // Polish: one exact Newton step on the free controls (active set fixed), kept when it
        // stays feasible and does not increase the cost.
        if (status == SolveStatus.Converged)
        {
            Rollout(d, box, b, 1, clamp: false, ref model, ws);
            double polished = RiccatiSweep.Cost(d, b, ws.TauTrial);
            if (TrialFeasible(box, b, ws) && polished <= cost + 1e-13 * Math.Max(1, Math.Abs(cost)))
            {
                AcceptTrial(ws, b);
            }
        }
        return status;
    }

    /// <summary>
    /// Element b's data with C_t replaced by sym(C_t) in the worker's buffer (every iteration
    /// reads sym(C_t): symmetrised once per element).
    /// </summary>
    internal static LqrData Symmetrized(in LqrData data, int b, StageScratch s)
    {
        Debug.Assert(s.SymmetricCost is not null, "LqrWorkspace.EnsureSymmetricCostBuffers runs before box-constrained solves");
        return data.WithSymmetrizedCost(b, s.SymmetricCost!);
    }

    /// <summary>
    /// The handover of an unverified DDP result: runs <see cref="ActiveSetLqr"/> from the feasible
    /// iterate in ws.Tau (element b; <paramref name="d"/> from <see cref="Symmetrized"/>) for the
    /// rest of the iteration budget (ws.Iterations[b] already used), and records the iterations
    /// and step norm. Returns the active-set method's status.
    /// </summary>
    internal static SolveStatus HandOver(in LqrData d, in ControlBox box, int b, MpcOptions o, LqrWorkspace ws, StageScratch s)
    {
        int iterations = ws.Iterations[b];
        double stepNorm = ws.StepNorm[b];
        SolveStatus status = ActiveSetLqr.Iterate(d, box, b, o, KktTolerance(o), o.MaxIterations - iterations, ws, s,
            ref iterations, ref stepNorm);
        Finish(ws, b, iterations, stepNorm, status);
        return status;
    }

    /// <summary>(sym(C_t) + mu I_u) tau_t + c_t for every stage of element b, into ws.CostGradient.</summary>
    internal static void CostGradient(in LqrData d, int b, LqrWorkspace ws)
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, N = d.Dims.TauDim;
        for (int t = 0; t < T; t++)
        {
            Span<double> g = ws.CostGradient.AsSpan((t * B + b) * N, N);
            RiccatiSweep.HessianRows(d, t, b, 0, ws.TauAt(t, b), g);
            LinearAlgebra.Blas.Axpy(1, d.c.At(t, b), g);
        }
    }

    /// <summary>Rolls the true dynamics out from x_init with the controls already in tau.</summary>
    private static void RolloutOpenLoop<TModel>(in LqrData d, int b, ref TModel model, double[] tauAll)
        where TModel : struct, ITrajectoryModel
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, N = d.Dims.TauDim;
        d.XInit.AsSpan(b * n, n).CopyTo(tauAll.AsSpan(b * N, n));
        for (int t = 0; t < T - 1; t++)
        {
            model.Step(t, b, tauAll.AsSpan((t * B + b) * N, N), tauAll.AsSpan(((t + 1) * B + b) * N, n));
        }
    }

    /// <summary>
    /// Candidate trajectory u_t = ubar_t + alpha k_t + K_t (x_t - xbar_t) (clamped into the box when
    /// asked) into ws.TauTrial.
    /// </summary>
    private static void Rollout<TModel>(in LqrData d, in ControlBox box, int b, double alpha, bool clamp, ref TModel model,
        LqrWorkspace ws)
        where TModel : struct, ITrajectoryModel
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim;
        d.XInit.AsSpan(b * n, n).CopyTo(ws.TauTrialAt(0, b));
        for (int t = 0; t < T; t++)
        {
            Span<double> trial = ws.TauTrialAt(t, b);
            ReadOnlySpan<double> bar = ws.TauAt(t, b);
            ReadOnlySpan<double> K = ws.KAt(t, b), k = ws.kAt(t, b);
            Span<double> u = trial.Slice(n, m);
            for (int i = 0; i < m; i++)
            {
                double du = alpha * k[i];
                ReadOnlySpan<double> Ki = K.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    du += Ki[j] * (trial[j] - bar[j]);
                }
                u[i] = bar[n + i] + du;
            }
            if (clamp)
            {
                box.Clamp(t, b, u);
            }
            if (t < T - 1)
            {
                model.Step(t, b, trial, ws.TauTrialAt(t + 1, b)[..n]);
            }
        }
    }

    /// <summary>Copies the trial trajectory of element b into the iterate; returns max |u - ubar|.</summary>
    internal static double AcceptTrial(LqrWorkspace ws, int b)
    {
        int n = ws.Dims.StateDim;
        double norm = 0;
        for (int t = 0; t < ws.Dims.Horizon; t++)
        {
            Span<double> bar = ws.TauAt(t, b);
            ReadOnlySpan<double> trial = ws.TauTrialAt(t, b);
            for (int i = n; i < bar.Length; i++)
            {
                norm = Math.Max(norm, Math.Abs(trial[i] - bar[i]));
            }
            trial.CopyTo(bar);
        }
        return norm;
    }

    private static bool TrialFeasible(in ControlBox box, int b, LqrWorkspace ws)
    {
        int n = ws.Dims.StateDim, m = ws.Dims.ControlDim;
        for (int t = 0; t < ws.Dims.Horizon; t++)
        {
            ReadOnlySpan<double> u = ws.TauTrialAt(t, b).Slice(n, m);
            for (int i = 0; i < m; i++)
            {
                if (!(u[i] >= box.Lower(t, b, i) && u[i] <= box.Upper(t, b, i)))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static SolveStatus Finish(LqrWorkspace ws, int b, int iterations, double stepNorm, SolveStatus status)
    {
        ws.Iterations[b] = iterations;
        ws.StepNorm[b] = stepNorm;
        return status;
    }

    private const double MinRegularization = 1e-8;

    /// <summary>
    /// A Gauss-Newton tail is slow when this many consecutive full steps, each at most
    /// <see cref="TailScale"/> times the largest step so far, shrink by a factor between
    /// <see cref="SlowTailRatio"/> and 1: then the iteration switches to Newton (SQP) steps for
    /// models with curvature (each costs a Hessian of the Lagrangian, several times a
    /// linearisation, so only slow tails switch). Chosen on cartpole and pendulum batches (T = 20,
    /// 30, 40; B = 64-256; 3 / 5 steps, ratios 0.6 / 0.8 / 0.9, scales 1e-2 / 1e-3 / none):
    /// cartpole T = 20, B = 64 (the benchmark, step tolerance 1e-4): 1,597 -> 971 iterations in
    /// all (median 21 -> 15, max 205 -> 42), same batch cost; B = 256: 6,373 -> 4,046 and 6,632 ->
    /// 4,029; T = 30, B = 128, 100 iterations at most: 107 -> 123 of 128 converged; pendulum
    /// T = 20 unchanged (no element switches), T = 40: 202-207 -> 244-246 of 256 converged.
    /// Without the scale test, plateaus switched too and cartpole at T = 40 took 1.6-2.5 times as long.
    /// </summary>
    private const int SlowTailSteps = 3;

    /// <summary>See <see cref="SlowTailSteps"/>.</summary>
    private const double SlowTailRatio = 0.6;

    /// <summary>
    /// A tail starts once the full steps are this small against the largest step of the element's
    /// iteration: slowly changing steps of the size of the first ones are a plateau far from a
    /// solution, where Newton steps (and their Hessians) do not pay.
    /// </summary>
    private const double TailScale = 1e-2;

    /// <summary>Projected-gradient level at which a box-constrained LQR counts as solved.</summary>
    internal static double KktTolerance(MpcOptions o) => Math.Max(o.Tolerance, 1e-12);
    private const double MaxRegularization = 1e10;

    /// <summary>Linear dynamics x_{t+1} = F_t tau_t + f_t (nothing to linearise).</summary>
    internal readonly struct LinearModel(LqrData d) : ITrajectoryModel
    {
        public bool Regularizes => false;

        public void Step(int t, int b, ReadOnlySpan<double> tau, Span<double> xNext)
        {
            int n = d.Dims.StateDim, N = d.Dims.TauDim;
            LinearAlgebra.Blas.Gemv(false, n, N, 1, d.F.At(t, b), N, tau, 0, xNext);
            if (!d.f.IsZero)
            {
                LinearAlgebra.Blas.Axpy(1, d.f.At(t, b), xNext);
            }
        }

        public void Linearize(int b)
        {
        }

        public double Cost(int b, double[] tauAll) => RiccatiSweep.Cost(d, b, tauAll);

        public bool Curvature(int b, out LqrData curvatureData)
        {
            curvatureData = d;
            return false;
        }
    }
}
