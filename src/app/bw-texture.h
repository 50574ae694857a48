/* bw-texture.h: images as GdkTextures, made off the main thread. */
#pragma once

#include <gtk/gtk.h>

#include "image/bw-image.h"

G_BEGIN_DECLS

/* Safe on any thread: memory textures are immutable. */
GdkTexture *bw_texture_new_for_image (BwImage              *image);

/* Reads @file with the engine's loader (EXIF rotation, transparency over white), its longer
 * side scaled to @size (0: as it is), on a thread. Fails with a sentence for the user when
 * @file is not an image Brushwork can read. A video gives its first frame. */
void        bw_texture_load_async    (GFile                *file,
                                      int                   size,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
GdkTexture *bw_texture_load_finish   (GAsyncResult         *result,
                                      GError              **error);
/* As bw_texture_load_async(), but for a video: its frame at @seconds (the first one from
 * bw_texture_load_async()); @duration gets its length in seconds (-1 when unknown, 0 for a
 * still image). */
void        bw_texture_load_frame_async  (GFile                *file,
                                          int                   size,
                                          double                seconds,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
GdkTexture *bw_texture_load_frame_finish (GAsyncResult         *result,
                                          double               *duration,
                                          GError              **error);

/* Writes @texture (an image pasted or dropped from another app) to a new PNG file in a
 * private temporary folder, on a thread, so the engine can read it like any other file. */
void        bw_texture_save_temporary_async  (GdkTexture          *texture,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GFile      *bw_texture_save_temporary_finish (GAsyncResult        *result,
                                              GError             **error);
/* Removes a file bw_texture_save_temporary_async() made, and its folder. */
void        bw_texture_remove_temporary      (GFile               *file);

G_END_DECLS
