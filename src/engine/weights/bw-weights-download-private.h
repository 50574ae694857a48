/* bw-weights-download-private.h: what the download's files share.
 *
 *   bw-weights-download.c         the entry points: settings, the lock, which way, installing
 *   bw-weights-download-http.c    fetch(): a byte range over HTTP, retried and resumed;
 *                                 progress and cancellation
 *   bw-weights-download-whole.c   the whole file, hashed and parsed as it streams in
 *   bw-weights-download-ranges.c  only the manifest's ranges, each checked
 *   bw-weights-download-cache.c   the cache's layout: DEST, DEST.sha256, DEST.lock, and the
 *                                 partial file DEST.download with its state
 *   bw-weights-manifest.c         reading a manifest (json-glib)
 *
 * None of this is API: everything here may change with the files that use it.
 */
#pragma once

#include <libsoup/soup.h>

#include "bw-weights-download.h"
#include "bw-weights-private.h"

G_BEGIN_DECLS

/* the partial state is saved this often, besides when a run stops */
#define BW_DL_CHECKPOINT_EVERY (16 * 1024 * 1024)

/* Why fetch() stopped, for its callers to tell the user; never shown as such. */
#define BW_DL_HTTP_STATUS_ERROR (g_quark_from_static_string ("bw-download-http-status"))
#define BW_DL_FETCH_ERROR (g_quark_from_static_string ("bw-download-fetch"))
enum { BW_DL_FETCH_RANGE_IGNORED, BW_DL_FETCH_SIZE_CHANGED };

/* One call of bw_weights_download_with_options(). */
typedef struct {
  char *url;
  GUri *uri;
  char *host;             /* names the server in messages */
  char *display;          /* the file's name, for the loader's messages */
  char *sha256;           /* expected, lower case */
  char *dest;
  char *partial;          /* DEST.download */
  char *state_path;       /* DEST.download.state */
  guint max_attempts;
  guint retry_delay_ms;
  GCancellable *cancellable;
  BwDownloadProgressFunc progress;
  gpointer user_data;

  SoupSession *session;
  guint64 size;           /* of the remote file; 0 while unknown */
  char *validator;        /* a strong ETag or a Last-Modified, for If-Range */
  gboolean transfer_failed;  /* the network failed or we were cancelled: keep the partial state */
  gboolean cache_failed;     /* writing the cache failed (a full disk): keep the partial file;
                              * the last saved state says how much of it is good */

  guint64 shown_done;
  guint64 shown_total;
  gint64 shown_at;
  gint64 rate_at;
  guint64 rate_bytes;
  double rate;

  guint64 received;
  guint64 resumed_at;
} Download;

gboolean   bw_dl_is_sha256_hex (const char *s);

/* bw-weights-download-http.c */

/* Another library's message, to follow a colon inside our sentence: no final full stop,
 * "Connection refused" as "connection refused". */
char      *bw_dl_reason_text   (const char    *message);

/* Calls the user's progress callback, at most ten times a second unless @final. */
void       bw_dl_report        (Download      *dl,
                                guint64        done,
                                guint64        total,
                                gboolean       final);
gboolean   bw_dl_set_cancelled (GError       **error);
/* Sleeps @ms, or less when cancelled (then FALSE, with G_IO_ERROR_CANCELLED). */
gboolean   bw_dl_sleep_ms      (Download      *dl,
                                guint          ms,
                                GError       **error);
/* A failure through every retry, or one no retry can mend; sets transfer_failed. */
gboolean   bw_dl_transfer_error (Download     *dl,
                                 const GError *cause,
                                 GError      **error);

/* @offset: where @data starts in the file. */
typedef gboolean (*BwDlBodyFunc)    (gpointer       user,
                                     guint64        offset,
                                     const guint8  *data,
                                     gsize          len,
                                     GError       **error);
/* The server sends the file from its start: forget everything. */
typedef gboolean (*BwDlRestartFunc) (gpointer       user,
                                     GError       **error);

/* Fetches [*pos, end) of the file (@end G_MAXUINT64: to its end) into @body, in order,
 * advancing *pos; transient failures are retried from *pos after a back-off. When the server
 * sends the whole file instead of a range, calls @restart and goes on from 0, or, without
 * @restart, fails with BW_DL_FETCH_RANGE_IGNORED. */
gboolean   bw_dl_fetch         (Download        *dl,
                                guint64         *pos,
                                guint64          end,
                                BwDlRestartFunc  restart,
                                BwDlBodyFunc     body,
                                gpointer         user,
                                GError         **error);

/* bw-weights-download-cache.c */

/* "Could not save VGG19's weights in DIR: REASON. Free some space ..."; sets cache_failed. */
gboolean   bw_dl_save_error    (Download      *dl,
                                GError       **error,
                                GQuark         domain,
                                int            code,
                                const char    *reason);
gboolean   bw_dl_errno_error   (Download      *dl,
                                GError       **error,
                                int            saved_errno);
gboolean   bw_dl_write_at      (Download      *dl,
                                int            fd,
                                guint64        offset,
                                const guint8  *data,
                                gsize          len,
                                GError       **error);
gboolean   bw_dl_read_at       (int            fd,
                                guint64        offset,
                                guint8        *buf,
                                gsize          len);
int        bw_dl_open_partial  (Download      *dl,
                                GError       **error);
void       bw_dl_forget_partial (Download     *dl);

/* The partial state, a key file: its [download] group, "method" naming its consumer. */
GKeyFile  *bw_dl_load_state    (Download      *dl,
                                const char    *method);
guint64    bw_dl_state_uint    (GKeyFile      *kf,
                                const char    *key,
                                gboolean      *ok);
void       bw_dl_state_set_uint (GKeyFile     *kf,
                                 const char   *key,
                                 guint64       v);
void       bw_dl_save_state    (Download      *dl,
                                GKeyFile      *kf);
void       bw_dl_restore_common (Download     *dl,
                                 GKeyFile     *kf);

gboolean   bw_dl_install       (Download      *dl,
                                BwWeights     *weights,
                                GError       **error);
/* Waits while another run holds DEST.lock; -1 with an error when cancelled meanwhile. */
int        bw_dl_lock_dest     (Download      *dl,
                                GError       **error);
void       bw_dl_unlock_dest   (Download      *dl,
                                int            fd);

/* bw-weights-manifest.c */

typedef struct {
  BwTensorRef *ref;       /* name (canonical), dtype, shape; file_offset is the manifest's */
  guint64 length;
  char sha256[65];
} MTensor;

typedef struct {
  char *display;          /* the manifest's file name */
  char *digest;           /* of the manifest itself: which partial state is its */
  char *url;              /* optional */
  guint64 size;
  GPtrArray *tensors;     /* MTensor *, by offset */
} Manifest;

/* G_IO_ERROR_NOT_FOUND or _FAILED when it cannot be read, _INVALID_DATA when it is not a
 * manifest for VGG19. */
Manifest  *bw_weights_manifest_load (const char  *path,
                                     GError     **error);
void       bw_weights_manifest_free (Manifest    *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Manifest, bw_weights_manifest_free)

/* bw-weights-download-whole.c, bw-weights-download-ranges.c: the two ways; each leaves the
 * partial file for the next run when the transfer failed, and forgets it otherwise. */
gboolean   bw_dl_whole_run     (Download      *dl,
                                BwWeights    **out,
                                GError       **error);
gboolean   bw_dl_ranges_run    (Download      *dl,
                                Manifest      *m,
                                BwWeights    **out,
                                GError       **error);

G_END_DECLS
