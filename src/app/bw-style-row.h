/* bw-style-row.h: one style image in the list: its thumbnail, blend weight, a remove button. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BW_TYPE_STYLE_ROW (bw_style_row_get_type ())
G_DECLARE_FINAL_TYPE (BwStyleRow, bw_style_row, BW, STYLE_ROW, AdwActionRow)

BwStyleRow *bw_style_row_new       (GFile      *file,
                                    GdkTexture *texture);
GFile      *bw_style_row_get_file  (BwStyleRow *self);
double      bw_style_row_get_blend (BwStyleRow *self);
void        bw_style_row_set_blend (BwStyleRow *self,
                                    double      blend);

G_END_DECLS
