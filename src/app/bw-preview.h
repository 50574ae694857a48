/* bw-preview.h: the painting as it forms, scaled to fit or zoomed, with the photo a press
 * away for comparison. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BW_TYPE_PREVIEW (bw_preview_get_type ())
G_DECLARE_FINAL_TYPE (BwPreview, bw_preview, BW, PREVIEW, GtkWidget)

GdkTexture *bw_preview_get_texture       (BwPreview  *self);
void        bw_preview_set_texture       (BwPreview  *self,
                                          GdkTexture *texture);
void        bw_preview_set_original      (BwPreview  *self,
                                          GdkTexture *original);
/* 0 scales to fit; otherwise screen pixels per image pixel. */
double      bw_preview_get_zoom          (BwPreview  *self);
void        bw_preview_set_zoom          (BwPreview  *self,
                                          double      zoom);
void        bw_preview_set_show_original (BwPreview  *self,
                                          gboolean    show_original);

G_END_DECLS
