/* bw-loss-plot.h: a small line of the loss over the steps, on a log scale. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BW_TYPE_LOSS_PLOT (bw_loss_plot_get_type ())
G_DECLARE_FINAL_TYPE (BwLossPlot, bw_loss_plot, BW, LOSS_PLOT, GtkWidget)

GtkWidget *bw_loss_plot_new    (void);
void       bw_loss_plot_add    (BwLossPlot *self,
                                double      loss);
void       bw_loss_plot_clear  (BwLossPlot *self);

G_END_DECLS
