/* bw-compare-picture.h: the painting drawn to fit or at a zoom, and the photo beside it for
 * comparison: instead of it, or left of a divider the user drags. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BW_TYPE_COMPARE_PICTURE (bw_compare_picture_get_type ())
G_DECLARE_FINAL_TYPE (BwComparePicture, bw_compare_picture, BW, COMPARE_PICTURE, GtkWidget)

GtkWidget  *bw_compare_picture_new                (void);

GdkTexture *bw_compare_picture_get_texture        (BwComparePicture      *self);
void        bw_compare_picture_set_texture        (BwComparePicture      *self,
                                                   GdkTexture            *texture);
GdkTexture *bw_compare_picture_get_original       (BwComparePicture      *self);
/* Drawn over the same rectangle as the painting, whatever its own size. */
void        bw_compare_picture_set_original       (BwComparePicture      *self,
                                                   GdkTexture            *original);
/* The longest side, in pixels, the painting is shown at when zoomed, whatever the size of
 * the texture (frames of early coarse-to-fine passes are smaller); 0: the texture's own. */
int         bw_compare_picture_get_image_size     (BwComparePicture      *self);
void        bw_compare_picture_set_image_size     (BwComparePicture      *self,
                                                   int                    image_size);
/* 0 scales to fit the allocation; otherwise screen pixels per image pixel. */
double      bw_compare_picture_get_zoom           (BwComparePicture      *self);
void        bw_compare_picture_set_zoom           (BwComparePicture      *self,
                                                   double                 zoom);
/* The size, in image pixels, the painting is shown at (see :image-size); 0 × 0 without one. */
void        bw_compare_picture_get_image_dimensions (BwComparePicture    *self,
                                                   int                   *width,
                                                   int                   *height);
/* Where the painting is drawn in the widget's coordinates; FALSE without a painting. */
gboolean    bw_compare_picture_get_image_bounds   (BwComparePicture      *self,
                                                   graphene_rect_t       *bounds);

/* The photo in place of the painting. */
gboolean    bw_compare_picture_get_show_original  (BwComparePicture      *self);
void        bw_compare_picture_set_show_original  (BwComparePicture      *self,
                                                   gboolean               show_original);
/* The photo left of a vertical divider, the painting right of it. */
gboolean    bw_compare_picture_get_split          (BwComparePicture      *self);
void        bw_compare_picture_set_split          (BwComparePicture      *self,
                                                   gboolean               split);
/* Where the divider is, as a fraction of the painting's width: 0 left edge, 1 right edge. */
double      bw_compare_picture_get_split_position (BwComparePicture      *self);
void        bw_compare_picture_set_split_position (BwComparePicture      *self,
                                                   double                 position);

G_END_DECLS
