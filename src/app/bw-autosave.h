/* bw-autosave.h: the painting in progress, kept in $XDG_STATE_HOME/brushwork/autosave/ so
 * that a crash, a kill or a power cut loses nothing: the image so far (PNG), the step, and
 * what it was painted from (the photo's and the paintings' paths, the blends, the
 * settings). The worker writes it off the main loop; the next start offers it back.
 *
 * Each painting has a key file ID.ini and an image ID.png, both written to a temporary file
 * and renamed. The key file names the process that wrote it: one whose process is gone was
 * abandoned, and is offered at the next start.
 */
#pragma once

#include <gtk/gtk.h>

#include "bw-engine.h"

G_BEGIN_DECLS

typedef struct {
  char *id;
  char *content;          /* the photo (or video) */
  double position;        /* a video's frame, in seconds */
  GPtrArray *styles;      /* paths */
  GArray *blends;         /* doubles, one per style */
  BwParams params;        /* what the window's controls set (see bw-autosave.c) */
  int step;               /* steps done */
  char *image;            /* the PNG */
} BwAutosave;

/* A new autosave for a painting of @content (no file is written yet). */
BwAutosave *bw_autosave_new            (const char        *content,
                                        double             position,
                                        GPtrArray         *styles,
                                        GArray            *blends,
                                        const BwParams    *params);
void        bw_autosave_free           (BwAutosave        *self);
BwAutosave *bw_autosave_copy           (const BwAutosave  *self);
/* Writes @image (at the output size) as the painting at @step, as this process's. */
gboolean    bw_autosave_write          (BwAutosave        *self,
                                        BwImage           *image,
                                        int                step,
                                        GError           **error);
/* Removes both files, if they are there. */
void        bw_autosave_remove         (BwAutosave        *self);
/* The newest autosave whose process has gone, or NULL. */
BwAutosave *bw_autosave_find_abandoned (void);
/* A painting that could not be saved at @output is written to
 * $XDG_CACHE_HOME/brushwork/rescued/ instead (where the CLI puts one too), named after
 * @output with the time before it; returns that file's path. */
char       *bw_autosave_rescue         (BwImage           *image,
                                        const char        *output,
                                        GError           **error);
/* The folder (for tests). */
char       *bw_autosave_get_dir        (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BwAutosave, bw_autosave_free)

G_END_DECLS
