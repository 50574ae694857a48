/* bw-window.h: the main window: photo and styles on the left, the painting on the right. */
#pragma once

#include <adwaita.h>

#include "bw-application.h"
#include "bw-preview.h"
#include "bw-worker.h"

G_BEGIN_DECLS

#define BW_TYPE_WINDOW (bw_window_get_type ())
G_DECLARE_FINAL_TYPE (BwWindow, bw_window, BW, WINDOW, AdwApplicationWindow)

BwWindow  *bw_window_new              (BwApplication        *application);

/* Files are read off the main thread; one that is not an image only raises a toast. */
void       bw_window_open_content     (BwWindow             *self,
                                       GFile                *file);
void       bw_window_add_style        (BwWindow             *self,
                                       GFile                *file);
/* Content first, the rest as styles, as a file manager's "Open With" gives them. */
void       bw_window_open_files       (BwWindow             *self,
                                       GFile               **files,
                                       int                   n_files);
void       bw_window_set_weights_path (BwWindow             *self,
                                       const char           *path);
/* Starts painting once the images being read are in. */
void       bw_window_start            (BwWindow             *self);
/* With a video as content: paints every frame into the WebM @output, in the background
 * (what the Paint Whole Video dialog does when a file is chosen). Each frame after the first
 * takes @frame_steps steps (0: as many as the first). */
void       bw_window_paint_video      (BwWindow             *self,
                                       GFile                *output,
                                       int                   frame_steps);

/* Writes the current result to @file (PNG or JPEG by its extension), on a thread. */
void       bw_window_save_async       (BwWindow             *self,
                                       GFile                *file,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gboolean   bw_window_save_finish      (BwWindow             *self,
                                       GAsyncResult         *result,
                                       GError              **error);

/* Offers back a painting an earlier run left when it crashed or was killed (bw-autosave.h),
 * in a dialog: Restore shows it in this window and Paint goes on from its step; Discard
 * removes it. Does nothing when there is none. */
void       bw_window_offer_restore    (BwWindow             *self);

BwWorker  *bw_window_get_worker       (BwWindow             *self);
BwPreview *bw_window_get_preview      (BwWindow             *self);
/* The name the Save dialog proposes: "content-style.png". */
char      *bw_window_dup_default_name (BwWindow             *self);

G_END_DECLS
