/* bw-loss-plot.c: a small line of the loss over the steps, on a log scale.
 *
 * The loss falls by orders of magnitude in the first steps; a log scale keeps the later,
 * slower progress visible. Drawn in the accent colour (the widget's CSS color).
 */
#include <math.h>

#include "bw-loss-plot.h"

struct _BwLossPlot
{
  GtkWidget parent_instance;

  GArray *values;   /* log10 of each step's loss */
};

G_DEFINE_FINAL_TYPE (BwLossPlot, bw_loss_plot, GTK_TYPE_WIDGET)

static void
bw_loss_plot_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  BwLossPlot *self = BW_LOSS_PLOT (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
  guint n = self->values->len;
  GdkRGBA color;
  cairo_t *cr;

  if (n < 2 || width <= 2 || height <= 2)
    return;
  for (guint i = 0; i < n; i++)
    {
      lo = MIN (lo, g_array_index (self->values, double, i));
      hi = MAX (hi, g_array_index (self->values, double, i));
    }
  if (hi - lo < 1e-9)
    hi = lo + 1;

  /* GTK 4.8's way (meson.build pins that API); 4.10 deprecates it for gtk_widget_get_color */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; i < n; i++)
    {
      double x = 1 + (width - 2) * (double) i / (n - 1);
      double y = 1 + (height - 2) * (hi - g_array_index (self->values, double, i)) / (hi - lo);

      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
bw_loss_plot_finalize (GObject *object)
{
  BwLossPlot *self = BW_LOSS_PLOT (object);

  g_array_unref (self->values);
  G_OBJECT_CLASS (bw_loss_plot_parent_class)->finalize (object);
}

static void
bw_loss_plot_class_init (BwLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = bw_loss_plot_finalize;
  widget_class->snapshot = bw_loss_plot_snapshot;
  gtk_widget_class_set_css_name (widget_class, "bw-loss-plot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bw_loss_plot_init (BwLossPlot *self)
{
  self->values = g_array_new (FALSE, FALSE, sizeof (double));
}

GtkWidget *
bw_loss_plot_new (void)
{
  return g_object_new (BW_TYPE_LOSS_PLOT, NULL);
}

void
bw_loss_plot_add (BwLossPlot *self,
                  double      loss)
{
  double v;

  g_return_if_fail (BW_IS_LOSS_PLOT (self));

  if (!(loss > 0) || !isfinite (loss))
    return;
  v = log10 (loss);
  g_array_append_val (self->values, v);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bw_loss_plot_clear (BwLossPlot *self)
{
  g_return_if_fail (BW_IS_LOSS_PLOT (self));

  g_array_set_size (self->values, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
