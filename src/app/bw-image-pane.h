/* bw-image-pane.h: a place for an image: a thumbnail, or a prompt to drop or open one. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BW_TYPE_IMAGE_PANE (bw_image_pane_get_type ())
G_DECLARE_FINAL_TYPE (BwImagePane, bw_image_pane, BW, IMAGE_PANE, GtkWidget)

GdkTexture *bw_image_pane_get_texture (BwImagePane *self);
void        bw_image_pane_set_texture (BwImagePane *self,
                                       GdkTexture  *texture);

G_END_DECLS
