/* bw-preview.h: the painting as it forms, scaled to fit or zoomed, with the photo a press
 * away for comparison, or beside it, split by a divider. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BW_TYPE_PREVIEW (bw_preview_get_type ())
G_DECLARE_FINAL_TYPE (BwPreview, bw_preview, BW, PREVIEW, GtkWidget)

GdkTexture *bw_preview_get_texture        (BwPreview  *self);
void        bw_preview_set_texture        (BwPreview  *self,
                                           GdkTexture *texture);
void        bw_preview_set_original       (BwPreview  *self,
                                           GdkTexture *original);
/* The longest side of the painting being made, so that zoom 1 shows its pixels one to one
 * even while the frames of early passes are smaller; 0: each texture's own size. */
void        bw_preview_set_image_size     (BwPreview  *self,
                                           int         image_size);
/* 0 scales to fit; otherwise screen pixels per image pixel. */
double      bw_preview_get_zoom           (BwPreview  *self);
void        bw_preview_set_zoom           (BwPreview  *self,
                                           double      zoom);
void        bw_preview_set_show_original  (BwPreview  *self,
                                           gboolean    show_original);
/* Photo left of a divider, painting right of it (the preview.split action toggles it). */
gboolean    bw_preview_get_split          (BwPreview  *self);
void        bw_preview_set_split          (BwPreview  *self,
                                           gboolean    split);
/* The divider's position as a fraction of the painting's width. */
double      bw_preview_get_split_position (BwPreview  *self);
void        bw_preview_set_split_position (BwPreview  *self,
                                           double      position);

/* Whether the zoom and compare buttons over the image show (they fade out when the pointer
 * rests or leaves). */
gboolean    bw_preview_get_controls_shown (BwPreview  *self);

G_END_DECLS
