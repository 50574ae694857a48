/* bw-region-editor.h: the Regions mode: a brush on the photo for each style's region.
 *
 * Each style (by its position in the list) has a mask over the photo, painted with a round
 * brush: painting a style's region takes those pixels from every other style's, the eraser
 * gives them back to none. The masks show as a tinted overlay that can be hidden, and can be
 * loaded from and saved to grey PNG files. A style whose mask is empty gets none: it then
 * covers the whole photo, as a style without --mask does in the CLI.
 */
#pragma once

#include <gtk/gtk.h>

#include "image/bw-image.h"

G_BEGIN_DECLS

/* The longest side of the masks: the session scales them to each pass's size. */
#define BW_REGION_EDITOR_MAX_SIDE 512

#define BW_TYPE_REGION_EDITOR (bw_region_editor_get_type ())
G_DECLARE_FINAL_TYPE (BwRegionEditor, bw_region_editor, BW, REGION_EDITOR, GtkWidget)

GtkWidget  *bw_region_editor_new            (void);

/* The photo painted on; a photo of another size clears the masks. */
void        bw_region_editor_set_photo      (BwRegionEditor *self,
                                             GdkTexture     *photo);
/* The number of styles: masks are added empty or dropped from the end. */
void        bw_region_editor_set_n_styles   (BwRegionEditor *self,
                                             guint           n_styles);
guint       bw_region_editor_get_n_styles   (BwRegionEditor *self);
/* The style the brush paints. */
void        bw_region_editor_set_style      (BwRegionEditor *self,
                                             guint           index);
guint       bw_region_editor_get_style      (BwRegionEditor *self);
/* The brush's diameter as a percentage of the photo's longer side. */
void        bw_region_editor_set_brush_size (BwRegionEditor *self,
                                             double          percent);
void        bw_region_editor_set_erasing    (BwRegionEditor *self,
                                             gboolean        erasing);
/* The current style's mask emptied, or filled where no other style's is. */
void        bw_region_editor_clear          (BwRegionEditor *self);
void        bw_region_editor_fill_rest      (BwRegionEditor *self);
/* The masks' size (0 before a photo). */
void        bw_region_editor_get_mask_size  (BwRegionEditor *self,
                                             int            *width,
                                             int            *height);
/* Style @index's mask as a grey image, or NULL when it is empty. */
BwImage    *bw_region_editor_get_mask       (BwRegionEditor *self,
                                             guint           index);
/* Whether any style has a region painted. */
gboolean    bw_region_editor_has_masks      (BwRegionEditor *self);
/* A grey PNG (or any image the app reads) of the photo's shape as style @index's mask. */
gboolean    bw_region_editor_load_mask      (BwRegionEditor *self,
                                             guint           index,
                                             GFile          *file,
                                             GError        **error);
gboolean    bw_region_editor_save_mask      (BwRegionEditor *self,
                                             guint           index,
                                             GFile          *file,
                                             GError        **error);
/* The colour style @index's region is tinted with. */
void        bw_region_editor_get_color      (guint           index,
                                             GdkRGBA        *color);

G_END_DECLS
