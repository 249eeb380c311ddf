// Figures of a swing-up run: the time series and a strip of poses drawn with ScottPlot lines and markers.
using DiffMpc.Samples.Shared;
using ScottPlot;

namespace DiffMpc.Samples.Pendulum;

/// <summary>Writes the PNG figures of a <see cref="SwingUpResult"/>.</summary>
public static class SwingUpFigures
{
    /// <summary>Angle, velocity and torque over time (one panel each), with the torque limits dashed.</summary>
    public static void SaveTimeSeries(SwingUpResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        double[] time = result.Steps.Select(s => s.Time).ToArray();
        Figures.SaveStackedTimeSeries(path, "Pendulum swing-up by receding-horizon MPC (T = 20, |u| <= 2)", time,
        [
            new Series("angle (rad, unwrapped)", Figures.Unwrap(result.Steps.Select(s => s.Angle).ToArray()), [0]),
            new Series("velocity (rad/s)", result.Steps.Select(s => s.Velocity).ToArray()),
            new Series("torque", result.Steps.Select(s => s.Torque).ToArray(),
                [DiffMpc.Systems.Pendulum.ControlLower, DiffMpc.Systems.Pendulum.ControlUpper]),
        ]);
    }

    /// <summary>A strip of poses, every <paramref name="every"/> control steps, left to right.</summary>
    public static void SavePoseStrip(SwingUpResult result, string path, int every = 10)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new Plot();
        const double spacing = 2.3;
        int shown = 0;
        int count = (result.Steps.Count + every - 1) / every;
        for (int k = 0; k < result.Steps.Count; k += every, shown++)
        {
            SwingUpStep s = result.Steps[k];
            double x0 = shown * spacing;
            // Angle 0 is upright: the bob sits at (sin th, cos th) from the pivot.
            double bx = x0 + Math.Sin(s.Angle), by = Math.Cos(s.Angle);
            Color color = Colors.Blue.MixedWith(Colors.Red, shown / (double)Math.Max(count - 1, 1));
            var rod = plot.Add.Line(x0, 0, bx, by);
            rod.LineWidth = 3;
            rod.LineColor = color;
            rod.MarkerSize = 0;
            plot.Add.Marker(x0, 0, MarkerShape.FilledSquare, 6, Colors.Black);
            plot.Add.Marker(bx, by, MarkerShape.FilledCircle, 12, color);
            var label = plot.Add.Text($"{s.Time:0.0}s", x0, -1.25);
            label.LabelFontSize = 14;
            label.LabelAlignment = Alignment.UpperCenter;
        }
        var ground = plot.Add.HorizontalLine(0);
        ground.LineColor = Colors.LightGray;
        ground.LinePattern = LinePattern.Dotted;
        plot.Title($"Pendulum poses every {every * DiffMpc.Systems.Pendulum.TimeStep:0.##} s (pivot = square, up = upright)");
        double left = -1.3, right = (shown - 1) * spacing + 1.3, bottom = -1.7, top = 1.3;
        plot.Axes.SetLimits(left, right, bottom, top);
        plot.HideGrid();
        plot.Axes.Frameless();
        plot.Axes.Title.IsVisible = true;
        // Equal units on both axes: size the image to the data's aspect ratio (plus the title).
        const int width = 1400;
        plot.SavePng(path, width, (int)(width * (top - bottom) / (right - left)) + 50);
    }
}
