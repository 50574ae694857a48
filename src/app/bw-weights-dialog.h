/* bw-weights-dialog.h: first run: fetch VGG19's weights, or point at a local copy. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BW_TYPE_WEIGHTS_DIALOG (bw_weights_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BwWeightsDialog, bw_weights_dialog, BW, WEIGHTS_DIALOG, AdwWindow)

/* Emits ::weights-chosen (path) when a download finished or a file was chosen. */
BwWeightsDialog *bw_weights_dialog_new (GtkWindow *parent);

G_END_DECLS
