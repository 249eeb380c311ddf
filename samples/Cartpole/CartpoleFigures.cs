// Figures of a cartpole run: the time series and a strip of poses drawn with ScottPlot primitives.
using DiffMpc.Samples.Shared;
using ScottPlot;
using Model = DiffMpc.Systems.Cartpole;

namespace DiffMpc.Samples.Cartpole;

/// <summary>Writes the PNG figures of a <see cref="CartpoleResult"/>.</summary>
public static class CartpoleFigures
{
    /// <summary>Position, angle and force over time (one panel each), with the force limits dashed.</summary>
    public static void SaveTimeSeries(CartpoleResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        double[] time = result.Steps.Select(s => s.Time).ToArray();
        Figures.SaveStackedTimeSeries(path, "Cartpole swing-up by receding-horizon MPC (T = 20, |u| <= 100)", time,
        [
            new Series("cart position", result.Steps.Select(s => s.Position).ToArray(), [0]),
            new Series("pole angle (rad)", Figures.Unwrap(result.Steps.Select(s => s.Angle).ToArray()), [0]),
            new Series("force", result.Steps.Select(s => s.Force).ToArray(), [Model.ControlLower, Model.ControlUpper]),
        ]);
    }

    /// <summary>
    /// Poses every <paramref name="every"/> steps up to <paramref name="untilTime"/> (the swing), one
    /// panel each left to right: the cart (a box on its rail, offset from the panel's x = 0 tick by
    /// its position, clipped to +-0.9) and the pole (length 2 * 0.5).
    /// </summary>
    public static void SavePoseStrip(CartpoleResult result, string path, int every = 4, double untilTime = 2.6)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new Plot();
        const double spacing = 2.6, pole = 1.0, cartW = 0.5, cartH = 0.25;
        int last = result.Steps.Count(st => st.Time <= untilTime + 1e-9);
        int count = (last + every - 1) / every, shown = 0;
        for (int k = 0; k < last; k += every, shown++)
        {
            CartpoleStep s = result.Steps[k];
            double centre = shown * spacing;
            // The cart is drawn at its position, shifted into its panel so panels do not overlap.
            double cx = centre + Math.Clamp(s.Position, -0.9, 0.9);
            Color color = Colors.Blue.MixedWith(Colors.Red, shown / (double)Math.Max(count - 1, 1));
            var rail = plot.Add.Line(centre - 1.15, 0, centre + 1.15, 0);
            rail.LineColor = Colors.LightGray;
            rail.LineWidth = 2;
            rail.MarkerSize = 0;
            var tick = plot.Add.Line(centre, -0.06, centre, 0.06);
            tick.LineColor = Colors.Gray;
            tick.MarkerSize = 0;
            var cart = plot.Add.Rectangle(cx - cartW / 2, cx + cartW / 2, -cartH / 2, cartH / 2);
            cart.FillStyle.Color = Colors.Black.WithAlpha(0.15);
            cart.LineStyle.Color = Colors.Black;
            // Angle 0 is upright: the pole's tip is at (sin th, cos th) * length from the hinge.
            double tx = cx + pole * Math.Sin(s.Angle), ty = pole * Math.Cos(s.Angle);
            var rod = plot.Add.Line(cx, 0, tx, ty);
            rod.LineWidth = 3;
            rod.LineColor = color;
            rod.MarkerSize = 0;
            plot.Add.Marker(tx, ty, MarkerShape.FilledCircle, 9, color);
            var label = plot.Add.Text($"{s.Time:0.0} s\nx = {s.Position:0.00}", centre, -1.15);
            label.LabelFontSize = 13;
            label.LabelAlignment = Alignment.UpperCenter;
        }
        plot.Title($"Cartpole poses every {every * Model.TimeStep:0.##} s (tick = cart at x = 0; up = upright)");
        double left = -1.3, right = (shown - 1) * spacing + 1.3, bottom = -1.9, top = 1.2;
        plot.Axes.SetLimits(left, right, bottom, top);
        plot.HideGrid();
        plot.Axes.Frameless();
        plot.Axes.Title.IsVisible = true;
        const int width = 1600;
        plot.SavePng(path, width, (int)(width * (top - bottom) / (right - left)) + 50);
    }
}
