// Figures of the imitation experiments: learning curves on log scales.
using DiffMpc.Samples.Shared;
using ScottPlot;

namespace DiffMpc.Samples.ImitationLearning;

/// <summary>Writes the PNG figures of the imitation experiments.</summary>
public static class ImitationFigures
{
    /// <summary>Imitation loss and model error of the LQR experiment (log scale), side by side.</summary>
    public static void SaveLqr(LqrImitationResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        double[] epochs = Enumerable.Range(0, result.Loss.Length).Select(i => (double)i).ToArray();
        Curve(multiplot.GetPlot(0), epochs, result.Loss, "imitation loss (MSE of x, u)", Figures.Palette[0]);
        Curve(multiplot.GetPlot(1), epochs, result.ModelError, "model error ||A-A*||² + ||B-B*||²", Figures.Palette[1]);
        multiplot.GetPlot(0).Title("LQR imitation: loss");
        multiplot.GetPlot(1).Title("LQR imitation: model error");
        multiplot.SavePng(path, 1000, 380);
    }

    /// <summary>Parameter error (and loss) of the pendulum experiment for each gradient mode.</summary>
    public static void SavePendulum(IReadOnlyList<PendulumImitationResult> runs, string path)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Plot error = multiplot.GetPlot(0), loss = multiplot.GetPlot(1);
        for (int r = 0; r < runs.Count; r++)
        {
            PendulumImitationResult run = runs[r];
            double[] epochs = Enumerable.Range(0, run.Loss.Length).Select(i => (double)i).ToArray();
            string label = run.Mode == DiffMpc.Options.NonlinearGradientMode.Exact ? "exact gradient" : "first-order gradient";
            Curve(error, epochs, run.ParameterError, "parameter error (log g/l, log m l²)", Figures.Palette[r], label);
            Curve(loss, epochs, run.Loss, "imitation loss (MSE of u)", Figures.Palette[r], label);
        }
        error.Title("Pendulum imitation: parameter error");
        loss.Title("Pendulum imitation: loss");
        error.ShowLegend(Alignment.LowerLeft);
        loss.ShowLegend(Alignment.LowerLeft);
        multiplot.SavePng(path, 1000, 380);
    }

    private static void Curve(Plot plot, double[] x, double[] y, string yLabel, Color color, string? legend = null)
    {
        var line = plot.Add.ScatterLine(x, Figures.Log10(y));
        line.LineWidth = 2;
        line.Color = color;
        if (legend is not null)
        {
            line.LegendText = legend;
        }
        Figures.UseLogTicksLeft(plot);
        plot.YLabel(yLabel);
        plot.XLabel("epoch");
    }
}
