// Small ScottPlot helpers shared by the samples: stacked time series and a log-scale axis.
using ScottPlot;

namespace DiffMpc.Samples.Shared;

/// <summary>One curve of a stacked time-series figure.</summary>
/// <param name="Label">Axis label (with unit).</param>
/// <param name="Values">One value per time.</param>
/// <param name="Bounds">Optional horizontal reference lines (limits, targets), drawn dashed.</param>
internal sealed record Series(string Label, double[] Values, double[]? Bounds = null);

internal static class Figures
{
    public static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#d62728"), Color.FromHex("#2ca02c"),
        Color.FromHex("#ff7f0e"), Color.FromHex("#9467bd"), Color.FromHex("#8c564b"),
    ];

    /// <summary>Writes one panel per series, stacked vertically over a shared time axis.</summary>
    public static void SaveStackedTimeSeries(string path, string title, double[] time, IReadOnlyList<Series> series,
        int width = 800, int panelHeight = 220)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(series.Count);
        for (int i = 0; i < series.Count; i++)
        {
            Plot plot = multiplot.GetPlot(i);
            Series s = series[i];
            var line = plot.Add.ScatterLine(time, s.Values);
            line.LineWidth = 2;
            line.Color = Palette[i % Palette.Length];
            foreach (double b in s.Bounds ?? [])
            {
                var h = plot.Add.HorizontalLine(b);
                h.LineColor = Colors.Gray;
                h.LinePattern = LinePattern.Dashed;
                h.LineWidth = 1;
            }
            plot.YLabel(s.Label);
            if (i == 0)
            {
                plot.Title(title);
            }
            if (i == series.Count - 1)
            {
                plot.XLabel("time (s)");
            }
            plot.Axes.SetLimitsX(time[0], time[^1]);
        }
        multiplot.SavePng(path, width, panelHeight * series.Count + 40);
    }

    /// <summary>Plots log10 of the values and labels the ticks 10^k (ScottPlot has no log axis of its own).</summary>
    public static void UseLogTicksLeft(Plot plot)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => $"1e{y:0}",
        };
    }

    /// <summary>Removes the 2 pi jumps of atan2 so a swing through the bottom plots as a continuous curve.</summary>
    public static double[] Unwrap(double[] angles)
    {
        var result = (double[])angles.Clone();
        for (int i = 1; i < result.Length; i++)
        {
            double d = angles[i] - angles[i - 1];
            d -= 2 * Math.PI * Math.Round(d / (2 * Math.PI));
            result[i] = result[i - 1] + d;
        }
        return result;
    }

    /// <summary>log10 of each value (floored at 1e-16 so zeros stay plottable).</summary>
    public static double[] Log10(IEnumerable<double> values) => values.Select(v => Math.Log10(Math.Max(v, 1e-16))).ToArray();
}
