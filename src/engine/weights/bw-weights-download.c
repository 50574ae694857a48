/* bw-weights-download.c: see bw-weights-download.h for what it does.
 *
 * One engine, fetch(), asks for a byte range of the file and hands what arrives, in order, to
 * a consumer; it retries transient failures with back-off, asking again from where the last
 * try stopped. Two consumers:
 *
 *   Whole: the whole file. Every byte is hashed (bw-sha256: its state can be saved, which
 *   GChecksum's cannot, so an interrupted run resumes without fetching the start again).
 *   The file's first bytes say its format. Legacy PyTorch (the official file): its pickles
 *   are parsed as soon as they have arrived, which gives the order and size of every storage
 *   that follows; the storages then stream past, and only the 8-byte counts and the conv
 *   layers' storages are written to DEST.download ("kept"), ~52 MB of 548. Zip or
 *   safetensors: every byte is written, and the loader reads the verified file.
 *   Ranges: with a manifest, only the conv tensors' ranges, each hashed on its own.
 *
 * The consumer's state is saved (DEST.download.state, a key file) every 16 MB and when a
 * run stops, after the kept bytes are synced: a later run truncates DEST.download to what the
 * state vouches for and asks for the rest with Range (If-Range, so that a changed file comes
 * whole and starts everything again).
 */
#include "bw-weights-download.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "bw-pickle.h"
#include "bw-sha256.h"
#include "bw-i18n.h"

#define CHUNK (256 * 1024)
#define CHECKPOINT_EVERY (16 * 1024 * 1024)
#define MAX_HEAD (16 * 1024 * 1024)       /* a legacy file's pickles; any state dict's fit */
#define MAX_MANIFEST (1024 * 1024)
#define MERGE_GAP (256 * 1024)            /* ranges closer than this are fetched as one */
#define PROGRESS_INTERVAL_US (100 * 1000)
#define DEFAULT_ATTEMPTS 4
#define DEFAULT_DELAY_MS 1000
#define MAX_DELAY_MS 30000
#define PROGRESS_RESETS_RETRIES (1024 * 1024)
#define MAX_TRIES 100                     /* per fetch, however much each try brings */

/* Private to this file: why fetch() stopped, for its callers to tell the user. */
#define HTTP_STATUS_ERROR (g_quark_from_static_string ("bw-download-http-status"))
#define FETCH_ERROR (g_quark_from_static_string ("bw-download-fetch"))
enum { FETCH_RANGE_IGNORED, FETCH_SIZE_CHANGED };

char *
bw_weights_default_path (void)
{
  return g_build_filename (g_get_user_cache_dir (), "brushwork", "vgg19-conv.safetensors", NULL);
}

static const char *
env_or (const char *name,
        const char *fallback)
{
  const char *v = g_getenv (name);

  return v != NULL && *v != '\0' ? v : fallback;
}

static guint64
le64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 0; i < 8; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

static gboolean
is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* Another library's message, to follow a colon inside our sentence. */
static char *
reason_text (const char *message)
{
  char *s = g_strstrip (g_strdup (message != NULL ? message : "unknown error"));
  gsize len = strlen (s);

  if (len > 0 && s[len - 1] == '.')
    s[len - 1] = '\0';
  /* "Connection refused" -> "connection refused", but keep "HTTP ..." */
  if (g_ascii_isupper (s[0]) && !g_ascii_isupper (s[1]))
    s[0] = g_ascii_tolower (s[0]);
  return s;
}

/* The download. */

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

  guint64 shown_done;
  guint64 shown_total;
  gint64 shown_at;
  gint64 rate_at;
  guint64 rate_bytes;
  double rate;

  guint64 received;
  guint64 resumed_at;
} Download;

static void
download_clear (Download *dl)
{
  g_free (dl->url);
  g_clear_pointer (&dl->uri, g_uri_unref);
  g_free (dl->host);
  g_free (dl->display);
  g_free (dl->sha256);
  g_free (dl->dest);
  g_free (dl->partial);
  g_free (dl->state_path);
  g_clear_object (&dl->session);
  g_free (dl->validator);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Download, download_clear)

static void
report (Download *dl,
        guint64   done,
        guint64   total,
        gboolean  final)
{
  gint64 now = g_get_monotonic_time ();

  if (dl->rate_at == 0)
    {
      dl->rate_at = now;
      dl->rate_bytes = dl->received;
    }
  else if (now - dl->rate_at >= 250000)
    {
      double recent = (dl->received - dl->rate_bytes) * 1e6 / (now - dl->rate_at);

      /* smooth enough for a "time left" that does not jump about */
      dl->rate = dl->rate > 0 ? 0.7 * dl->rate + 0.3 * recent : recent;
      dl->rate_at = now;
      dl->rate_bytes = dl->received;
    }
  if (dl->progress == NULL)
    return;
  if (total != dl->shown_total)
    {
      dl->shown_total = total;
      dl->shown_done = 0;
    }
  /* after a restart from the beginning the bar waits until the bytes catch up with it */
  done = MAX (done, dl->shown_done);
  if (!final && now - dl->shown_at < PROGRESS_INTERVAL_US)
    return;
  dl->shown_done = done;
  dl->shown_at = now;
  dl->progress (done, total, dl->rate, dl->user_data);
}

static gboolean
set_cancelled (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       _("The download of VGG19's weights was stopped; run again to resume it."));
  return FALSE;
}

static gboolean
sleep_ms (Download  *dl,
          guint      ms,
          GError   **error)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (g_cancellable_is_cancelled (dl->cancellable))
        return set_cancelled (error);
      g_usleep (MIN (20000, MAX (until - g_get_monotonic_time (), 0)));
    }
  if (g_cancellable_is_cancelled (dl->cancellable))
    return set_cancelled (error);
  return TRUE;
}

static gboolean
save_error (Download    *dl,
            GError     **error,
            GQuark       domain,
            int          code,
            const char  *reason)
{
  g_autofree char *dir = g_path_get_dirname (dl->dest);
  g_autofree char *dir_display = g_filename_display_name (dir);
  g_autofree char *why = reason_text (reason);

  g_set_error (error, domain, code,
               _("Could not save VGG19's weights in “%s”: %s. Free some space there, or pass a "
                 "local copy with --weights FILE."), dir_display, why);
  return FALSE;
}

static gboolean
errno_error (Download  *dl,
             GError   **error,
             int        saved_errno)
{
  return save_error (dl, error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     g_strerror (saved_errno));
}

/* A failure through every retry, or one no retry can mend. */
static gboolean
transfer_error (Download     *dl,
                const GError *cause,
                GError      **error)
{
  g_autofree char *why = NULL;

  dl->transfer_failed = TRUE;
  if (cause->domain == HTTP_STATUS_ERROR)
    {
      int code = cause->code == 404 || cause->code == 410 ? G_IO_ERROR_NOT_FOUND :
                 cause->code == 401 || cause->code == 403 ? G_IO_ERROR_PERMISSION_DENIED :
                 G_IO_ERROR_FAILED;

      g_set_error (error, G_IO_ERROR, code,
                   _("Could not download VGG19's weights from %s: the server answered %s. Run "
                     "again later, or pass a local copy with --weights FILE."),
                   dl->host, cause->message);
      return FALSE;
    }
  why = reason_text (cause->message);
  g_set_error (error, G_IO_ERROR,
               cause->domain == G_IO_ERROR ? cause->code :
               cause->domain == G_RESOLVER_ERROR ? G_IO_ERROR_HOST_NOT_FOUND : G_IO_ERROR_FAILED,
               _("Could not download VGG19's weights from %s: %s. Check your internet connection "
                 "and run again (the download resumes), or pass a local copy with --weights FILE."),
               dl->host, why);
  return FALSE;
}

/* What another try may mend: a cut, a timeout, a refused connection (a restarting server).
 * Not a name that does not resolve (offline: say so at once) nor a bad certificate. */
static gboolean
is_transient (const GError *error)
{
  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_TEMPORARY_FAILURE;
  if (error->domain != G_IO_ERROR)
    return FALSE;
  switch (error->code)
    {
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_BROKEN_PIPE:        /* also G_IO_ERROR_CONNECTION_CLOSED */
    case G_IO_ERROR_PARTIAL_INPUT:
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NOT_CONNECTED:
    case G_IO_ERROR_FAILED:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_transient_status (guint status)
{
  return status == SOUP_STATUS_REQUEST_TIMEOUT || status == 429 /* Too Many Requests */ ||
         (status >= 500 && status < 600);
}

/* Fetching. */

/* @offset: where @data starts in the file. */
typedef gboolean (*BodyFunc)    (gpointer       user,
                                 guint64        offset,
                                 const guint8  *data,
                                 gsize          len,
                                 GError       **error);
/* The server sends the file from its start: forget everything. */
typedef gboolean (*RestartFunc) (gpointer       user,
                                 GError       **error);

static void
remember_validator (Download           *dl,
                    SoupMessageHeaders *headers)
{
  const char *etag = soup_message_headers_get_one (headers, "ETag");
  const char *modified = soup_message_headers_get_one (headers, "Last-Modified");

  g_clear_pointer (&dl->validator, g_free);
  /* If-Range takes only a strong ETag */
  if (etag != NULL && etag[0] == '"')
    dl->validator = g_strdup (etag);
  else if (modified != NULL)
    dl->validator = g_strdup (modified);
}

/* Fetches [*pos, end) of the file (@end G_MAXUINT64: to its end) into @body, in order,
 * advancing *pos; transient failures are retried from *pos after a back-off. When the server
 * sends the whole file instead of a range, calls @restart and goes on from 0, or, without
 * @restart, fails with FETCH_RANGE_IGNORED. */
static gboolean
fetch (Download     *dl,
       guint64      *pos,
       guint64       end,
       RestartFunc   restart,
       BodyFunc      body,
       gpointer      user,
       GError      **error)
{
  g_autofree guint8 *buf = g_malloc (CHUNK);
  g_autoptr(GError) last = NULL;
  guint failures = 0, tries = 0, retry_after_s = 0;

  while (TRUE)
    {
      g_autoptr(SoupMessage) msg = NULL;
      g_autoptr(GInputStream) in = NULL;
      g_autoptr(GError) local = NULL;
      SoupMessageHeaders *headers;
      gboolean ranged = *pos > 0 || end != G_MAXUINT64;
      guint64 got = 0;
      guint status;

      if (failures > 0)
        {
          guint delay = dl->retry_delay_ms << MIN (failures - 1, 16);

          if (failures >= dl->max_attempts || tries >= MAX_TRIES)
            return transfer_error (dl, last, error);
          delay = MIN (delay, MAX_DELAY_MS);
          if (retry_after_s > 0)
            delay = MAX (delay, MIN (retry_after_s, 60) * 1000);
          if (!sleep_ms (dl, delay, error))
            {
              dl->transfer_failed = TRUE;
              return FALSE;
            }
        }
      tries++;
      retry_after_s = 0;

      msg = soup_message_new_from_uri (SOUP_METHOD_GET, dl->uri);
      headers = soup_message_get_request_headers (msg);
      if (ranged)
        {
          soup_message_headers_set_range (headers, *pos, end == G_MAXUINT64 ? -1 : (goffset) end - 1);
          if (dl->validator != NULL)
            soup_message_headers_replace (headers, "If-Range", dl->validator);
        }
      in = soup_session_send (dl->session, msg, dl->cancellable, &local);
      if (in == NULL)
        {
          if (g_cancellable_is_cancelled (dl->cancellable))
            {
              dl->transfer_failed = TRUE;
              return set_cancelled (error);
            }
          if (!is_transient (local))
            return transfer_error (dl, local, error);
          g_clear_error (&last);
          last = g_steal_pointer (&local);
          failures++;
          continue;
        }

      status = soup_message_get_status (msg);
      headers = soup_message_get_response_headers (msg);
      if (status == SOUP_STATUS_PARTIAL_CONTENT && ranged)
        {
          goffset start = -1, stop = -1, total = -1;

          if (!soup_message_headers_get_content_range (headers, &start, &stop, &total) ||
              (guint64) start != *pos ||
              (end != G_MAXUINT64 && (guint64) stop + 1 != end) ||
              (end == G_MAXUINT64 && total >= 0 && stop + 1 != total))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Could not download VGG19's weights from %s: the server answered a "
                           "request for bytes from %" G_GUINT64_FORMAT " with other bytes. "
                           "Run again later, or pass a local copy with --weights FILE.",
                           dl->host, *pos);
              return FALSE;
            }
          if (total > 0 && dl->size > 0 && (guint64) total != dl->size)
            {
              /* the file there is not the one we started on */
              if (restart == NULL)
                {
                  g_set_error (error, FETCH_ERROR, FETCH_SIZE_CHANGED, "%" G_GINT64_FORMAT, (gint64) total);
                  return FALSE;
                }
              if (!restart (user, error))
                return FALSE;
              *pos = 0;
              dl->size = 0;
              g_clear_pointer (&dl->validator, g_free);
              continue;
            }
          if (total > 0)
            dl->size = total;
        }
      else if (status == SOUP_STATUS_OK)
        {
          if (ranged)
            {
              if (restart == NULL)
                {
                  g_input_stream_close (in, NULL, NULL);
                  g_set_error_literal (error, FETCH_ERROR, FETCH_RANGE_IGNORED, "range ignored");
                  return FALSE;
                }
              if (!restart (user, error))
                return FALSE;
              *pos = 0;
            }
          dl->size = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH ?
                     (guint64) soup_message_headers_get_content_length (headers) : 0;
          remember_validator (dl, headers);
        }
      else if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && ranged && restart != NULL)
        {
          /* shorter than what we kept: the file changed */
          if (!restart (user, error))
            return FALSE;
          *pos = 0;
          dl->size = 0;
          g_clear_pointer (&dl->validator, g_free);
          continue;
        }
      else
        {
          g_autoptr(GError) http = g_error_new (HTTP_STATUS_ERROR, status, "%u %s", status,
                                                soup_message_get_reason_phrase (msg) != NULL ?
                                                soup_message_get_reason_phrase (msg) :
                                                soup_status_get_phrase (status));

          if (!is_transient_status (status))
            return transfer_error (dl, http, error);
          if (soup_message_headers_get_one (headers, "Retry-After") != NULL)
            {
              /* seconds; an HTTP date reads as 0, and the usual back-off applies */
              guint64 seconds = g_ascii_strtoull (soup_message_headers_get_one (headers, "Retry-After"),
                                                  NULL, 10);

              retry_after_s = (guint) MIN (seconds, 60);
            }
          g_clear_error (&last);
          last = g_steal_pointer (&http);
          failures++;
          continue;
        }

      while (end == G_MAXUINT64 || *pos < end)
        {
          gsize want = end == G_MAXUINT64 ? CHUNK : (gsize) MIN ((guint64) CHUNK, end - *pos);
          gssize n = g_input_stream_read (in, buf, want, dl->cancellable, &local);

          if (n < 0)
            break;
          if (n == 0)
            {
              if (end != G_MAXUINT64 || (dl->size > 0 && *pos < dl->size))
                g_set_error_literal (&local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                     _("the connection closed early"));
              break;
            }
          if (!body (user, *pos, buf, n, error))
            return FALSE;
          *pos += n;
          got += n;
          dl->received += n;
        }
      if (local == NULL)
        {
          g_input_stream_close (in, NULL, NULL);
          return TRUE;
        }
      if (g_cancellable_is_cancelled (dl->cancellable))
        {
          dl->transfer_failed = TRUE;
          return set_cancelled (error);
        }
      if (!is_transient (local))
        return transfer_error (dl, local, error);
      g_clear_error (&last);
      last = g_steal_pointer (&local);
      failures = got >= PROGRESS_RESETS_RETRIES ? 1 : failures + 1;
    }
}

/* The partial file and its state. */

static gboolean
write_at (Download      *dl,
          int            fd,
          guint64        offset,
          const guint8  *data,
          gsize          len,
          GError       **error)
{
  while (len > 0)
    {
      gssize n = pwrite (fd, data, len, (off_t) offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return errno_error (dl, error, n < 0 ? errno : ENOSPC);
      data += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

static gboolean
read_at (int      fd,
         guint64  offset,
         guint8  *buf,
         gsize    len)
{
  while (len > 0)
    {
      gssize n = pread (fd, buf, len, (off_t) offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buf += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

static int
open_partial (Download  *dl,
              GError   **error)
{
  int fd = g_open (dl->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

  if (fd < 0)
    errno_error (dl, error, errno);
  return fd;
}

static void
forget_partial (Download *dl)
{
  g_unlink (dl->partial);
  g_unlink (dl->state_path);
}

/* The state file, or NULL when there is none we can use. */
static GKeyFile *
load_state (Download   *dl,
            const char *method)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *got = NULL;

  if (!g_key_file_load_from_file (kf, dl->state_path, G_KEY_FILE_NONE, NULL))
    return NULL;
  got = g_key_file_get_string (kf, "download", "method", NULL);
  if (g_strcmp0 (got, method) != 0)
    return NULL;
  return g_steal_pointer (&kf);
}

static guint64
state_uint (GKeyFile   *kf,
            const char *key,
            gboolean   *ok)
{
  g_autofree char *s = g_key_file_get_string (kf, "download", key, NULL);
  char *end = NULL;
  guint64 v;

  if (s == NULL || !g_ascii_isdigit (s[0]))
    {
      *ok = FALSE;
      return 0;
    }
  v = g_ascii_strtoull (s, &end, 10);
  if (*end != '\0')
    *ok = FALSE;
  return v;
}

static void
state_set_uint (GKeyFile   *kf,
                const char *key,
                guint64     v)
{
  g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, v);

  g_key_file_set_string (kf, "download", key, s);
}

/* Called once the kept bytes it vouches for are on disk. A state that cannot be written only
 * costs the next run its head start, so that is not an error. */
static void
save_state (Download *dl,
            GKeyFile *kf)
{
  g_autoptr(GError) error = NULL;

  g_key_file_set_string (kf, "download", "url", dl->url);
  state_set_uint (kf, "size", dl->size);
  if (dl->validator != NULL)
    g_key_file_set_string (kf, "download", "validator", dl->validator);
  if (!g_key_file_save_to_file (kf, dl->state_path, &error))
    g_debug ("Could not save the download's state: %s", error->message);
}

static void
restore_common (Download *dl,
                GKeyFile *kf)
{
  g_autofree char *url = g_key_file_get_string (kf, "download", "url", NULL);
  gboolean ok = TRUE;

  dl->size = state_uint (kf, "size", &ok);
  if (!ok)
    dl->size = 0;
  /* a validator belongs to the server that gave it */
  if (g_strcmp0 (url, dl->url) == 0)
    dl->validator = g_key_file_get_string (kf, "download", "validator", NULL);
}

/* The whole file. */

typedef enum {
  PHASE_HEAD,       /* the first bytes, until the format is known and a legacy file's pickles parsed */
  PHASE_STORAGES,   /* a legacy file's storages: counts and conv layers kept, the rest hashed only */
  PHASE_ALL,        /* another format: every byte kept */
} Phase;

typedef struct {
  const char *key;  /* owned by the pickle */
  guint64 numel;
  guint64 bytes;
  guint64 at;       /* of its 8-byte count, in the file */
  guint64 kept_at;  /* of the same, in DEST.download */
  gboolean wanted;
} Storage;

typedef struct {
  Download *dl;
  Phase phase;
  BwSha256 sha;
  guint64 pos;            /* bytes of the file received and hashed */
  int fd;
  guint64 kept;           /* bytes in DEST.download */
  guint64 checkpointed;   /* pos at the last checkpoint */

  GByteArray *head;       /* PHASE_HEAD: the bytes so far (also in DEST.download) */
  gsize next_try;         /* parse the pickles again once head holds this much */
  gboolean legacy;

  guint64 pickles_len;    /* PHASE_STORAGES */
  BwPickle *pickle;
  GPtrArray *refs;        /* BwTensorRef *, the wanted tensors */
  GPtrArray *ref_keys;    /* char *, each one's storage key */
  GArray *storages;       /* Storage, in file order */
  guint cur;              /* the storage that pos is in */
  guint8 count[8];
} Whole;

static void
whole_reset_parse (Whole *w)
{
  g_clear_pointer (&w->head, g_byte_array_unref);
  g_clear_pointer (&w->refs, g_ptr_array_unref);
  g_clear_pointer (&w->ref_keys, g_ptr_array_unref);
  g_clear_pointer (&w->storages, g_array_unref);
  g_clear_pointer (&w->pickle, bw_pickle_free);
  w->next_try = 0;
  w->legacy = FALSE;
  w->pickles_len = 0;
  w->cur = 0;
}

static void
whole_clear (Whole *w)
{
  whole_reset_parse (w);
  if (w->fd >= 0)
    close (w->fd);
  w->fd = -1;
}

G_GNUC_PRINTF (3, 4)
static gboolean
damaged (Whole       *w,
         GError     **error,
         const char  *format,
         ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               _("“%s” is damaged: %s. Download it again."), w->dl->display, what);
  return FALSE;
}

static gboolean
keep (Whole         *w,
      const guint8  *data,
      gsize          len,
      GError       **error)
{
  if (!write_at (w->dl, w->fd, w->kept, data, len, error))
    return FALSE;
  w->kept += len;
  return TRUE;
}

/* Where a storage's bytes lie, from the list of keys that follows the state dict; checked
 * as bw_torch_legacy_locate() checks it. */
static gboolean
layout_storages (Whole                *w,
                 const BwPickleValue  *keys,
                 GError              **error)
{
  g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  guint64 at = w->pickles_len, kept_at = w->pickles_len;

  for (guint i = 0; i < w->ref_keys->len; i++)
    g_hash_table_add (wanted, g_ptr_array_index (w->ref_keys, i));
  w->storages = g_array_new (FALSE, TRUE, sizeof (Storage));
  for (guint i = 0; i < keys->items->len; i++)
    {
      const BwPickleValue *key = g_ptr_array_index (keys->items, i);
      const BwPickleValue *storage;
      Storage st = { 0 };

      if (key->kind != BW_PV_STR)
        return damaged (w, error, "its list of storages holds something other than a key");
      storage = bw_pickle_lookup_storage (w->pickle, key->str.data);
      if (storage == NULL)
        return damaged (w, error, "it lists a storage (“%s”) that its pickle never uses", key->str.data);
      if (!g_hash_table_add (listed, (char *) key->str.data))
        return damaged (w, error, "it lists storage “%s” twice", key->str.data);
      st.key = key->str.data;
      st.numel = storage->storage.numel;
      st.wanted = g_hash_table_contains (wanted, st.key);
      st.at = at;
      st.kept_at = kept_at;
      if (!g_uint64_checked_mul (&st.bytes, st.numel, bw_dtype_size (storage->storage.dtype)) ||
          !g_uint64_checked_add (&at, at, 8) || !g_uint64_checked_add (&at, at, st.bytes))
        return damaged (w, error, "storage “%s” is larger than any file", st.key);
      kept_at += 8 + (st.wanted ? st.bytes : 0);
      g_array_append_val (w->storages, st);
    }
  for (guint i = 0; i < w->ref_keys->len; i++)
    if (!g_hash_table_contains (listed, g_ptr_array_index (w->ref_keys, i)))
      return damaged (w, error, "the storage of tensor %s is missing",
                      ((BwTensorRef *) g_ptr_array_index (w->refs, i))->name);
  return TRUE;
}

/* Runs the pickles over the first @len bytes; FALSE with *@short_input when they go on. */
static gboolean
parse_pickles (Whole         *w,
               const guint8  *data,
               gsize          len,
               gboolean      *short_input,
               GError       **error)
{
  const BwPickleValue *state = NULL, *keys = NULL;
  gsize used = 0;

  g_clear_pointer (&w->refs, g_ptr_array_unref);
  g_clear_pointer (&w->ref_keys, g_ptr_array_unref);
  g_clear_pointer (&w->storages, g_array_unref);
  g_clear_pointer (&w->pickle, bw_pickle_free);
  w->pickle = bw_pickle_new (w->dl->display);
  *short_input = FALSE;
  if (!bw_torch_legacy_read_pickles (w->dl->display, w->pickle, data, len, &state, &keys, &used,
                                     short_input, error))
    return FALSE;
  w->pickles_len = used;
  w->refs = g_ptr_array_new_with_free_func ((GDestroyNotify) bw_tensor_ref_free);
  w->ref_keys = g_ptr_array_new_with_free_func (g_free);
  /* Not VGG19: say so now, not after 548 MB */
  return bw_pickle_collect_tensors (w->pickle, state, BW_SELECT_VGG19, w->refs, w->ref_keys, error) &&
         bw_weights_check_located (w->refs, w->dl->display, error) &&
         layout_storages (w, keys, error);
}

/* Bytes of the storages, starting at file offset @offset. */
static gboolean
storages_feed (Whole         *w,
               guint64        offset,
               const guint8  *data,
               gsize          len,
               GError       **error)
{
  while (len > 0 && w->cur < w->storages->len)
    {
      Storage *st = &g_array_index (w->storages, Storage, w->cur);
      guint64 rel = offset - st->at;
      gsize n;

      if (rel < 8)
        {
          n = MIN (len, 8 - rel);
          memcpy (w->count + rel, data, n);
          if (!keep (w, data, n, error))
            return FALSE;
          if (rel + n == 8 && le64 (w->count) != st->numel)
            return damaged (w, error, "storage “%s” holds %" G_GUINT64_FORMAT " elements where "
                            "its pickle says %" G_GUINT64_FORMAT, st->key, le64 (w->count), st->numel);
        }
      else
        {
          n = (gsize) MIN ((guint64) len, 8 + st->bytes - rel);
          if (st->wanted && !keep (w, data, n, error))
            return FALSE;
        }
      data += n;
      len -= n;
      offset += n;
      if (offset == st->at + 8 + st->bytes)
        w->cur++;
    }
  /* what follows the last storage is hashed, and otherwise ignored, as torch.load does */
  return TRUE;
}

/* With what PHASE_HEAD holds: decide the format; for a legacy file, parse the pickles once
 * they are all there. @final: nothing more will come. */
static gboolean
head_try (Whole     *w,
          gboolean   final,
          GError   **error)
{
  const guint8 *h = w->head->data;
  gsize len = w->head->len;
  gboolean short_input = FALSE;
  g_autoptr(GError) local = NULL;
  g_autoptr(GByteArray) head = NULL;

  if (!w->legacy)
    {
      if (len < 9 && !final)
        return TRUE;
      /* as load_source() tells them apart; an HTML error page is none of them */
      if (len >= 4 && memcmp (h, "PK\3\4", 4) == 0)
        w->phase = PHASE_ALL;
      else if (len >= 9 && h[8] == '{')
        w->phase = PHASE_ALL;
      else if (len >= 1 && h[0] == 0x80)
        w->legacy = TRUE;
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Could not download VGG19's weights from %s: the server sent something "
                         "other than a weights file. Run again later, or pass a local copy with "
                         "--weights FILE."), w->dl->host);
          return FALSE;
        }
      if (w->phase == PHASE_ALL)
        {
          g_clear_pointer (&w->head, g_byte_array_unref);
          return TRUE;
        }
    }

  /* Parsing again from the start as bytes come is simplest; trying only each time the head
   * doubles keeps that linear */
  if (len < w->next_try && !final)
    return TRUE;
  if (!parse_pickles (w, h, len, &short_input, &local))
    {
      if (!short_input)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (final)
        {
          g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                       _("“%s” is truncated: it ends inside its pickles. Download it again."),
                       w->dl->display);
          return FALSE;
        }
      if (len >= MAX_HEAD)
        return damaged (w, error, "its pickles are larger than any state dict's");
      w->next_try = MAX (len * 2, 64 * 1024);
      return TRUE;
    }

  /* DEST.download holds the head; keep the pickles, and of what came after them only what
   * the storages' walk keeps */
  if (ftruncate (w->fd, (off_t) w->pickles_len) != 0)
    return errno_error (w->dl, error, errno);
  w->kept = w->pickles_len;
  w->phase = PHASE_STORAGES;
  w->cur = 0;
  head = g_steal_pointer (&w->head);
  return storages_feed (w, w->pickles_len, head->data + w->pickles_len, len - w->pickles_len, error);
}

static void
whole_checkpoint (Whole   *w,
                  guint64  pos)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *hash = NULL;
  static const char *const phases[] = { "head", "storages", "all" };

  if (fdatasync (w->fd) != 0)
    return;
  hash = bw_sha256_save (&w->sha);
  g_key_file_set_string (kf, "download", "method", "whole");
  g_key_file_set_string (kf, "download", "sha256", w->dl->sha256);
  g_key_file_set_string (kf, "download", "phase", phases[w->phase]);
  state_set_uint (kf, "pickles", w->pickles_len);
  state_set_uint (kf, "position", pos);
  state_set_uint (kf, "kept", w->kept);
  g_key_file_set_string (kf, "download", "hash", hash);
  save_state (w->dl, kf);
  w->checkpointed = pos;
}

static gboolean
whole_body (gpointer       user,
            guint64        offset,
            const guint8  *data,
            gsize          len,
            GError       **error)
{
  Whole *w = user;

  bw_sha256_update (&w->sha, data, len);
  switch (w->phase)
    {
    case PHASE_HEAD:
      g_byte_array_append (w->head, data, len);
      if (!keep (w, data, len, error) || !head_try (w, FALSE, error))
        return FALSE;
      break;
    case PHASE_STORAGES:
      if (!storages_feed (w, offset, data, len, error))
        return FALSE;
      break;
    case PHASE_ALL:
    default:
      if (!keep (w, data, len, error))
        return FALSE;
      break;
    }
  /* fetch() advances w->pos once this returns */
  report (w->dl, offset + len, w->dl->size, FALSE);
  if (offset + len - w->checkpointed >= CHECKPOINT_EVERY)
    whole_checkpoint (w, offset + len);
  return TRUE;
}

static gboolean
whole_restart (gpointer   user,
               GError   **error)
{
  Whole *w = user;

  g_debug ("The server sent the whole file: starting again from its beginning");
  whole_reset_parse (w);
  w->head = g_byte_array_new ();
  w->phase = PHASE_HEAD;
  w->pos = 0;
  w->kept = 0;
  w->checkpointed = 0;
  w->dl->resumed_at = 0;
  bw_sha256_init (&w->sha);
  g_unlink (w->dl->state_path);
  if (ftruncate (w->fd, 0) != 0)
    return errno_error (w->dl, error, errno);
  return TRUE;
}

/* Picks up what an earlier run saved; FALSE when there is nothing usable (start afresh). */
static gboolean
whole_resume (Whole *w)
{
  g_autoptr(GKeyFile) kf = load_state (w->dl, "whole");
  g_autofree char *sha = NULL;
  g_autofree char *phase = NULL;
  g_autofree char *hash = NULL;
  gboolean ok = TRUE;
  guint64 pos, kept, pickles;
  struct stat st;

  if (kf == NULL)
    return FALSE;
  sha = g_key_file_get_string (kf, "download", "sha256", NULL);
  phase = g_key_file_get_string (kf, "download", "phase", NULL);
  hash = g_key_file_get_string (kf, "download", "hash", NULL);
  pos = state_uint (kf, "position", &ok);
  kept = state_uint (kf, "kept", &ok);
  pickles = state_uint (kf, "pickles", &ok);
  /* the same file (by its checksum, from wherever) and the bytes the state vouches for */
  if (!ok || g_strcmp0 (sha, w->dl->sha256) != 0 || !bw_sha256_restore (&w->sha, hash) ||
      w->sha.length != pos || fstat (w->fd, &st) != 0 || (guint64) st.st_size < kept ||
      ftruncate (w->fd, (off_t) kept) != 0)
    return FALSE;
  restore_common (w->dl, kf);
  w->pos = pos;
  w->kept = kept;
  w->checkpointed = pos;

  if (g_strcmp0 (phase, "all") == 0)
    {
      w->phase = PHASE_ALL;
      return kept == pos;
    }
  if (g_strcmp0 (phase, "head") == 0)
    {
      g_autoptr(GError) error = NULL;

      if (kept != pos || kept > MAX_HEAD)
        return FALSE;
      w->phase = PHASE_HEAD;
      w->head = g_byte_array_sized_new (kept);
      g_byte_array_set_size (w->head, kept);
      return read_at (w->fd, 0, w->head->data, kept) && head_try (w, FALSE, &error);
    }
  if (g_strcmp0 (phase, "storages") == 0 && pickles > 0 && pickles <= MAX_HEAD && pickles <= pos)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *buf = g_malloc (pickles);
      gboolean short_input = FALSE;
      guint64 expect_kept;
      Storage *s;

      if (!read_at (w->fd, 0, buf, pickles) ||
          !parse_pickles (w, buf, pickles, &short_input, &error) || w->pickles_len != pickles)
        return FALSE;
      w->phase = PHASE_STORAGES;
      /* the storage pos is in, and what must be kept up to there */
      for (w->cur = 0; w->cur < w->storages->len; w->cur++)
        {
          s = &g_array_index (w->storages, Storage, w->cur);
          if (pos < s->at + 8 + s->bytes)
            break;
        }
      if (w->cur == w->storages->len)
        {
          Storage *last = w->storages->len > 0 ? &g_array_index (w->storages, Storage, w->storages->len - 1) : NULL;

          expect_kept = last != NULL ? last->kept_at + 8 + (last->wanted ? last->bytes : 0) : pickles;
          return kept == expect_kept;
        }
      s = &g_array_index (w->storages, Storage, w->cur);
      if (pos < s->at)
        return FALSE;
      expect_kept = s->kept_at + MIN (pos - s->at, 8) + (s->wanted && pos - s->at > 8 ? pos - s->at - 8 : 0);
      if (kept != expect_kept)
        return FALSE;
      /* a count cut in two: its first bytes are kept */
      if (pos - s->at < 8 && !read_at (w->fd, s->kept_at, w->count, pos - s->at))
        return FALSE;
      return TRUE;
    }
  return FALSE;
}

static gboolean
whole_finish (Whole       *w,
              BwWeights  **out,
              GError     **error)
{
  g_autofree char *got = bw_sha256_finish_hex (&w->sha);
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local = NULL;

  report (w->dl, w->pos, w->dl->size > 0 ? w->dl->size : w->pos, TRUE);

  /* Integrity first: a file that is not the published one is never used, however it parses */
  if (g_ascii_strcasecmp (got, w->dl->sha256) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The file downloaded from %s is not VGG19's published weights (its SHA-256 is "
                     "%.12s…, not %.12s…), so it was not used. Run again, or pass a local copy "
                     "with --weights FILE."), w->dl->host, got, w->dl->sha256);
      return FALSE;
    }
  if (w->phase == PHASE_HEAD && !head_try (w, TRUE, error))
    return FALSE;
  if (w->phase == PHASE_STORAGES && w->cur < w->storages->len)
    {
      Storage *s = &g_array_index (w->storages, Storage, w->cur);

      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   "“%s” is truncated: storage “%s” needs %" G_GUINT64_FORMAT " bytes at offset %"
                   G_GUINT64_FORMAT " but the file ends at %" G_GUINT64_FORMAT ". Download it again.",
                   w->dl->display, s->key, s->bytes, s->at + 8, w->pos);
      return FALSE;
    }

  mapped = g_mapped_file_new_from_fd (w->fd, FALSE, &local);
  if (mapped == NULL)
    return save_error (w->dl, error, local->domain, local->code, local->message);
  bytes = g_mapped_file_get_bytes (mapped);
  if (w->phase == PHASE_ALL)
    *out = bw_weights_load_bytes (bytes, w->dl->display, BW_WEIGHTS_LOAD_DEFAULT, error);
  else
    {
      g_autoptr(GHashTable) by_key = g_hash_table_new (g_str_hash, g_str_equal);
      BwSource src = { .display = w->dl->display, .bytes = bytes, .size = g_bytes_get_size (bytes) };

      for (guint i = 0; i < w->storages->len; i++)
        {
          Storage *s = &g_array_index (w->storages, Storage, i);

          g_hash_table_insert (by_key, (char *) s->key, s);
        }
      /* each wanted tensor now lies in DEST.download, right after its storage's count */
      for (guint i = 0; i < w->refs->len; i++)
        {
          BwTensorRef *ref = g_ptr_array_index (w->refs, i);
          Storage *s = g_hash_table_lookup (by_key, g_ptr_array_index (w->ref_keys, i));

          ref->file_offset = s->kept_at + 8;
          ref->storage_numel = s->numel;
        }
      *out = bw_weights_load_located (&src, w->refs, error);
    }
  return *out != NULL;
}

static gboolean
whole_run (Download   *dl,
           BwWeights **out,
           GError    **error)
{
  Whole w = { .dl = dl, .fd = -1 };
  gboolean ok;

  w.fd = open_partial (dl, error);
  if (w.fd < 0)
    return FALSE;
  if (whole_resume (&w))
    {
      dl->resumed_at = w.pos;
      g_debug ("Resuming the download at byte %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " kept)",
               w.pos, w.kept);
    }
  else
    {
      /* what the state said of the remote file is no longer known either */
      dl->size = 0;
      g_clear_pointer (&dl->validator, g_free);
      if (!whole_restart (&w, error))
        {
          whole_clear (&w);
          return FALSE;
        }
    }

  ok = fetch (dl, &w.pos, G_MAXUINT64, whole_restart, whole_body, &w, error) &&
       whole_finish (&w, out, error);
  if (!ok && dl->transfer_failed && w.pos > w.checkpointed)
    whole_checkpoint (&w, w.pos);   /* the next run goes on from exactly here */
  whole_clear (&w);
  /* a wrong or unusable file: the next run starts afresh; nothing came: nothing to keep */
  if (!ok && (!dl->transfer_failed || w.pos == 0))
    forget_partial (dl);
  return ok;
}

/* The manifest. */

/* Just enough JSON for a manifest: a tree, depth bounded, integers kept exact. */
typedef struct _JNode JNode;
struct _JNode {
  char kind;          /* 'o'bject, 'a'rray, 's'tring, 'n'umber, 'b'oolean, 'z' null */
  char *str;
  gboolean is_uint;
  guint64 uint;
  GPtrArray *items;   /* JNode *: arrays; objects as key, value, key, value, ... */
};

static void
jnode_free (JNode *node)
{
  if (node == NULL)
    return;
  g_free (node->str);
  g_clear_pointer (&node->items, g_ptr_array_unref);
  g_free (node);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JNode, jnode_free)

typedef struct {
  const char *p;
  const char *end;
  const char *why;
} JParser;

static void
j_ws (JParser *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static gboolean
j_lit (JParser    *j,
       const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (j->end - j->p) < n || memcmp (j->p, word, n) != 0)
    return FALSE;
  j->p += n;
  return TRUE;
}

static char *
j_string (JParser *j)
{
  g_autoptr(GString) s = g_string_new (NULL);

  j->p++;   /* the opening quote */
  while (j->p < j->end && *j->p != '"')
    {
      char c = *j->p++;

      if ((guchar) c < 0x20)
        return j->why = "has a control character in a string", NULL;
      if (c != '\\')
        {
          g_string_append_c (s, c);
          continue;
        }
      if (j->p >= j->end)
        break;
      c = *j->p++;
      switch (c)
        {
        case '"': case '\\': case '/': g_string_append_c (s, c); break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            gunichar u = 0;

            for (int i = 0; i < 4; i++, j->p++)
              if (j->p >= j->end || g_ascii_xdigit_value (*j->p) < 0)
                return j->why = "has a bad \\u escape", NULL;
              else
                u = u << 4 | (gunichar) g_ascii_xdigit_value (*j->p);
            /* names are ASCII; a surrogate would be a name we never want anyway */
            if (u >= 0xd800 && u < 0xe000)
              u = 0xfffd;
            g_string_append_unichar (s, u);
          }
          break;
        default:
          return j->why = "has a bad escape", NULL;
        }
    }
  if (j->p >= j->end)
    return j->why = "ends inside a string", NULL;
  j->p++;
  if (!g_utf8_validate (s->str, s->len, NULL))
    return j->why = "is not UTF-8", NULL;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static JNode *
j_value (JParser *j,
         int      depth)
{
  g_autoptr(JNode) node = g_new0 (JNode, 1);

  j_ws (j);
  if (depth > 16)
    return j->why = "nests too deep", NULL;
  if (j->p >= j->end)
    return j->why = "ends early", NULL;
  if (*j->p == '{' || *j->p == '[')
    {
      char close = *j->p == '{' ? '}' : ']';

      node->kind = *j->p == '{' ? 'o' : 'a';
      node->items = g_ptr_array_new_with_free_func ((GDestroyNotify) jnode_free);
      j->p++;
      j_ws (j);
      if (j->p < j->end && *j->p == close)
        {
          j->p++;
          return g_steal_pointer (&node);
        }
      while (TRUE)
        {
          JNode *item;

          if (node->kind == 'o')
            {
              JNode *key;

              j_ws (j);
              if (j->p >= j->end || *j->p != '"')
                return j->why = "lacks a key", NULL;
              key = j_value (j, depth + 1);
              if (key == NULL)
                return NULL;
              g_ptr_array_add (node->items, key);
              j_ws (j);
              if (j->p >= j->end || *j->p++ != ':')
                return j->why = "lacks a colon", NULL;
            }
          item = j_value (j, depth + 1);
          if (item == NULL)
            return NULL;
          g_ptr_array_add (node->items, item);
          j_ws (j);
          if (j->p < j->end && *j->p == ',')
            {
              j->p++;
              continue;
            }
          if (j->p < j->end && *j->p == close)
            {
              j->p++;
              return g_steal_pointer (&node);
            }
          return j->why = "lacks a comma", NULL;
        }
    }
  if (*j->p == '"')
    {
      node->kind = 's';
      node->str = j_string (j);
      return node->str != NULL ? g_steal_pointer (&node) : NULL;
    }
  if (*j->p == '-' || g_ascii_isdigit (*j->p))
    {
      const char *start = j->p;
      gboolean plain = *j->p != '-';

      while (j->p < j->end && (g_ascii_isdigit (*j->p) || strchr ("+-.eE", *j->p) != NULL))
        {
          if (!g_ascii_isdigit (*j->p) && j->p != start)
            plain = FALSE;
          j->p++;
        }
      node->kind = 'n';
      node->str = g_strndup (start, j->p - start);
      if (plain && strlen (node->str) <= 19)   /* always fits in 64 bits */
        {
          node->is_uint = TRUE;
          node->uint = g_ascii_strtoull (node->str, NULL, 10);
        }
      return g_steal_pointer (&node);
    }
  if (j_lit (j, "true") || j_lit (j, "false"))
    node->kind = 'b';
  else if (j_lit (j, "null"))
    node->kind = 'z';
  else
    return j->why = "holds something that is not JSON", NULL;
  return g_steal_pointer (&node);
}

static JNode *
j_member (JNode      *object,
          const char *key,
          char        kind)
{
  if (object == NULL || object->kind != 'o')
    return NULL;
  for (guint i = 0; i + 1 < object->items->len; i += 2)
    {
      JNode *k = g_ptr_array_index (object->items, i);
      JNode *v = g_ptr_array_index (object->items, i + 1);

      if (g_str_equal (k->str, key))
        return v->kind == kind ? v : NULL;
    }
  return NULL;
}

typedef struct {
  BwTensorRef *ref;       /* name (canonical), dtype, shape; file_offset is the manifest's */
  guint64 length;
  char sha256[65];
} MTensor;

static void
mtensor_free (MTensor *t)
{
  bw_tensor_ref_free (t->ref);
  g_free (t);
}

typedef struct {
  char *display;          /* the manifest's file name */
  char *digest;           /* of the manifest itself: which partial state is its */
  char *url;              /* optional */
  guint64 size;
  GPtrArray *tensors;     /* MTensor *, by offset */
} Manifest;

static void
manifest_free (Manifest *m)
{
  g_free (m->display);
  g_free (m->digest);
  g_free (m->url);
  g_clear_pointer (&m->tensors, g_ptr_array_unref);
  g_free (m);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Manifest, manifest_free)

static int
by_offset (gconstpointer a,
           gconstpointer b)
{
  const MTensor *x = *(MTensor *const *) a, *y = *(MTensor *const *) b;

  return x->ref->file_offset < y->ref->file_offset ? -1 : x->ref->file_offset > y->ref->file_offset;
}

G_GNUC_PRINTF (3, 4)
static Manifest *
manifest_invalid (const char  *display,
                  GError     **error,
                  const char  *format,
                  ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The weights manifest “%s” is not valid: %s. Make it again with "
                 "brushwork-cli --make-weights-manifest."), display, what);
  return NULL;
}

static Manifest *
manifest_load (const char  *path,
               GError     **error)
{
  g_autoptr(Manifest) m = g_new0 (Manifest, 1);
  g_autoptr(GError) local = NULL;
  g_autoptr(JNode) root = NULL;
  g_autoptr(GPtrArray) refs = g_ptr_array_new ();
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *text = NULL;
  JParser j = { 0 };
  JNode *size, *list, *url;
  gsize len = 0;

  m->display = g_filename_display_basename (path);
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, G_IO_ERROR, g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                   G_IO_ERROR_NOT_FOUND : G_IO_ERROR_FAILED,
                   _("Could not read the weights manifest “%s”: %s. Check BRUSHWORK_WEIGHTS_MANIFEST."),
                   m->display, local->message);
      return NULL;
    }
  if (len > MAX_MANIFEST)
    return manifest_invalid (m->display, error, "it is far larger than any manifest");
  m->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text, len);
  j.p = text;
  j.end = text + len;
  root = j_value (&j, 0);
  if (root == NULL)
    return manifest_invalid (m->display, error, "it %s", j.why);
  j_ws (&j);
  if (j.p != j.end)
    return manifest_invalid (m->display, error, "something follows its JSON");

  size = j_member (root, "size", 'n');
  list = j_member (root, "tensors", 'a');
  url = j_member (root, "url", 's');
  if (size == NULL || !size->is_uint || list == NULL)
    return manifest_invalid (m->display, error, "it lacks the file's size or its list of tensors");
  m->size = size->uint;
  m->url = url != NULL ? g_strdup (url->str) : NULL;
  m->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) mtensor_free);

  for (guint i = 0; i < list->items->len; i++)
    {
      JNode *item = g_ptr_array_index (list->items, i);
      JNode *name = j_member (item, "name", 's');
      JNode *dtype = j_member (item, "dtype", 's');
      JNode *shape = j_member (item, "shape", 'a');
      JNode *offset = j_member (item, "offset", 'n');
      JNode *length = j_member (item, "length", 'n');
      JNode *sha = j_member (item, "sha256", 's');
      g_autofree char *canonical = NULL;
      MTensor *t;
      guint64 numel = 1, bytes, stop;
      BwDtype dt;

      if (name == NULL || dtype == NULL || shape == NULL || offset == NULL || !offset->is_uint ||
          length == NULL || !length->is_uint || sha == NULL)
        return manifest_invalid (m->display, error, "tensor %u lacks a name, dtype, shape, offset, "
                                 "length or sha256", i);
      canonical = bw_weights_wanted_name (BW_SELECT_VGG19, name->str);
      if (canonical == NULL)
        return manifest_invalid (m->display, error, "it lists “%s”, which is not one of VGG19's "
                                 "convs up to conv5_1", name->str);
      if (!g_hash_table_add (names, g_strdup (canonical)))
        return manifest_invalid (m->display, error, "it lists %s twice", canonical);
      if (g_str_equal (dtype->str, "F32"))
        dt = BW_DTYPE_F32;
      else if (g_str_equal (dtype->str, "F16"))
        dt = BW_DTYPE_F16;
      else if (g_str_equal (dtype->str, "BF16"))
        dt = BW_DTYPE_BF16;
      else if (g_str_equal (dtype->str, "F64"))
        dt = BW_DTYPE_F64;
      else
        return manifest_invalid (m->display, error, "tensor %s has dtype “%s”", canonical, dtype->str);
      if (!is_sha256_hex (sha->str))
        return manifest_invalid (m->display, error, "the sha256 of tensor %s is not 64 hexadecimal "
                                 "digits", canonical);
      if (shape->items->len > BW_MAX_DIMS)
        return manifest_invalid (m->display, error, "tensor %s has too many dimensions", canonical);

      t = g_new0 (MTensor, 1);
      t->ref = g_new0 (BwTensorRef, 1);
      t->ref->name = g_steal_pointer (&canonical);
      t->ref->dtype = dt;
      t->ref->n_dims = shape->items->len;
      t->ref->file_offset = offset->uint;
      g_ptr_array_add (m->tensors, t);
      for (guint d = 0; d < t->ref->n_dims; d++)
        {
          JNode *extent = g_ptr_array_index (shape->items, d);

          if (extent->kind != 'n' || !extent->is_uint || extent->uint > G_MAXINT64 ||
              !g_uint64_checked_mul (&numel, numel, extent->uint))
            return manifest_invalid (m->display, error, "the shape of tensor %s is not a list of "
                                     "sizes", t->ref->name);
          t->ref->shape[d] = (gint64) extent->uint;
        }
      bw_tensor_ref_set_contiguous (t->ref);
      t->ref->storage_numel = numel;
      t->length = length->uint;
      g_strlcpy (t->sha256, sha->str, sizeof t->sha256);
      for (char *c = t->sha256; *c != '\0'; c++)
        *c = g_ascii_tolower (*c);
      if (!g_uint64_checked_mul (&bytes, numel, bw_dtype_size (dt)) || bytes != t->length)
        return manifest_invalid (m->display, error, "the length of tensor %s does not fit its "
                                 "shape and dtype", t->ref->name);
      if (!g_uint64_checked_add (&stop, t->ref->file_offset, t->length) || stop > m->size)
        return manifest_invalid (m->display, error, "tensor %s lies past the end of the file",
                                 t->ref->name);
      g_ptr_array_add (refs, t->ref);
    }

  g_ptr_array_sort (m->tensors, by_offset);
  for (guint i = 1; i < m->tensors->len; i++)
    {
      MTensor *a = g_ptr_array_index (m->tensors, i - 1), *b = g_ptr_array_index (m->tensors, i);

      if (b->ref->file_offset < a->ref->file_offset + a->length)
        return manifest_invalid (m->display, error, "tensors %s and %s overlap", a->ref->name,
                                 b->ref->name);
    }
  /* names and shapes: VGG19's, or the loader's sentence naming what is wrong */
  if (!bw_weights_check_located (refs, m->display, error))
    return NULL;
  return g_steal_pointer (&m);
}

/* Byte ranges. */

typedef struct {
  Download *dl;
  Manifest *m;
  int fd;
  guint64 kept;           /* bytes in DEST.download: the tensors so far, back to back */
  guint done;             /* tensors verified, in offset order */
  guint64 done_bytes;
  BwSha256 sha;           /* of tensor `done`, as it arrives */
  guint64 got;            /* of tensor `done` */
  guint group_end;
  guint64 total;
  guint64 checkpointed;
} Ranges;

static MTensor *
range_tensor (Ranges *r,
              guint   i)
{
  return g_ptr_array_index (r->m->tensors, i);
}

static void
ranges_checkpoint (Ranges *r)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *hash = NULL;

  if (fdatasync (r->fd) != 0)
    return;
  hash = bw_sha256_save (&r->sha);
  g_key_file_set_string (kf, "download", "method", "ranges");
  g_key_file_set_string (kf, "download", "manifest", r->m->digest);
  state_set_uint (kf, "tensors", r->done);
  state_set_uint (kf, "tensor-bytes", r->got);
  state_set_uint (kf, "kept", r->kept);
  g_key_file_set_string (kf, "download", "hash", hash);
  save_state (r->dl, kf);
  r->checkpointed = r->done_bytes + r->got;
}

static gboolean
ranges_body (gpointer       user,
             guint64        offset,
             const guint8  *data,
             gsize          len,
             GError       **error)
{
  Ranges *r = user;

  while (len > 0 && r->done < r->group_end)
    {
      MTensor *t = range_tensor (r, r->done);
      guint64 start = t->ref->file_offset;
      gsize n;

      if (offset < start)
        {
          /* between two tensors of one request: an 8-byte count, say */
          n = (gsize) MIN ((guint64) len, start - offset);
        }
      else
        {
          n = (gsize) MIN ((guint64) len, start + t->length - offset);
          bw_sha256_update (&r->sha, data, n);
          if (!write_at (r->dl, r->fd, r->kept, data, n, error))
            return FALSE;
          r->kept += n;
          r->got += n;
          if (r->got == t->length)
            {
              g_autofree char *hex = bw_sha256_finish_hex (&r->sha);

              if (!g_str_equal (hex, t->sha256))
                {
                  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("Tensor %s downloaded from %s does not match its SHA-256 in the "
                                 "weights manifest “%s”, so it was not used. Run again, or make "
                                 "the manifest again from the current file."),
                               t->ref->name, r->dl->host, r->m->display);
                  return FALSE;
                }
              r->done++;
              r->done_bytes += t->length;
              r->got = 0;
              bw_sha256_init (&r->sha);
              ranges_checkpoint (r);
            }
        }
      data += n;
      len -= n;
      offset += n;
    }
  report (r->dl, r->done_bytes + r->got, r->total, FALSE);
  if (r->done_bytes + r->got - r->checkpointed >= CHECKPOINT_EVERY)
    ranges_checkpoint (r);
  return TRUE;
}

static gboolean
ranges_resume (Ranges *r)
{
  g_autoptr(GKeyFile) kf = load_state (r->dl, "ranges");
  g_autofree char *digest = NULL;
  g_autofree char *hash = NULL;
  gboolean ok = TRUE;
  guint64 done, got, kept, before = 0;
  struct stat st;

  if (kf == NULL)
    return FALSE;
  digest = g_key_file_get_string (kf, "download", "manifest", NULL);
  hash = g_key_file_get_string (kf, "download", "hash", NULL);
  done = state_uint (kf, "tensors", &ok);
  got = state_uint (kf, "tensor-bytes", &ok);
  kept = state_uint (kf, "kept", &ok);
  if (!ok || g_strcmp0 (digest, r->m->digest) != 0 || done > r->m->tensors->len ||
      !bw_sha256_restore (&r->sha, hash) || r->sha.length != got)
    return FALSE;
  for (guint i = 0; i < done; i++)
    before += range_tensor (r, i)->length;
  if ((done == r->m->tensors->len && got != 0) ||
      (done < r->m->tensors->len && got >= range_tensor (r, done)->length) ||
      kept != before + got || fstat (r->fd, &st) != 0 || (guint64) st.st_size < kept ||
      ftruncate (r->fd, (off_t) kept) != 0)
    return FALSE;
  restore_common (r->dl, kf);
  r->done = done;
  r->done_bytes = before;
  r->got = got;
  r->kept = kept;
  r->checkpointed = before + got;
  return TRUE;
}

static gboolean
ranges_run (Download   *dl,
            Manifest   *m,
            BwWeights **out,
            GError    **error)
{
  Ranges r = { .dl = dl, .m = m, .fd = -1 };
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GPtrArray) refs = g_ptr_array_new ();
  g_autoptr(GError) local = NULL;
  BwSource src = { 0 };
  guint64 at = 0;

  r.fd = open_partial (dl, error);
  if (r.fd < 0)
    return FALSE;
  for (guint i = 0; i < m->tensors->len; i++)
    r.total += range_tensor (&r, i)->length;
  if (ranges_resume (&r))
    dl->resumed_at = r.done_bytes + r.got;
  else
    {
      g_unlink (dl->state_path);
      bw_sha256_init (&r.sha);
      if (ftruncate (r.fd, 0) != 0)
        {
          errno_error (dl, error, errno);
          goto fail;
        }
    }
  dl->size = m->size;   /* a server that says otherwise serves another file */

  while (r.done < m->tensors->len)
    {
      MTensor *first = range_tensor (&r, r.done);
      MTensor *last = first;
      guint64 pos = first->ref->file_offset + r.got;

      /* ranges a few bytes apart (the 8-byte counts between storages) as one request */
      for (r.group_end = r.done + 1; r.group_end < m->tensors->len; r.group_end++)
        {
          MTensor *next = range_tensor (&r, r.group_end);

          if (next->ref->file_offset - (last->ref->file_offset + last->length) > MERGE_GAP)
            break;
          last = next;
        }
      if (!fetch (dl, &pos, last->ref->file_offset + last->length, NULL, ranges_body, &r, &local))
        {
          if (g_error_matches (local, FETCH_ERROR, FETCH_SIZE_CHANGED))
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "The weights manifest “%s” describes a file of %" G_GUINT64_FORMAT
                         " bytes, but the one at %s has %s bytes. Make the manifest again from "
                         "the current file.", m->display, m->size, dl->host, local->message);
          else
            g_propagate_error (error, g_steal_pointer (&local));
          goto fail;
        }
    }
  report (dl, r.total, r.total, TRUE);

  /* the tensors lie back to back in DEST.download, in offset order */
  for (guint i = 0; i < m->tensors->len; i++)
    {
      MTensor *t = range_tensor (&r, i);

      t->ref->file_offset = at;
      at += t->length;
      g_ptr_array_add (refs, t->ref);
    }
  mapped = g_mapped_file_new_from_fd (r.fd, FALSE, &local);
  if (mapped == NULL)
    {
      save_error (dl, error, local->domain, local->code, local->message);
      goto fail;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  src.display = dl->display;
  src.bytes = bytes;
  src.size = g_bytes_get_size (bytes);
  *out = bw_weights_load_located (&src, refs, error);
  close (r.fd);
  return *out != NULL;

fail:
  if (dl->transfer_failed && r.done_bytes + r.got > r.checkpointed)
    ranges_checkpoint (&r);
  close (r.fd);
  if (dl->transfer_failed && r.done_bytes + r.got == 0)
    forget_partial (dl);
  return FALSE;
}

/* Installing the result. */

/* bw-sha256 rather than GChecksum: with the CPU's SHA instructions, 52 MB in 40 ms */
static char *
hash_file (const char  *path,
           GError     **error)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);
  BwSha256 sha;

  if (mapped == NULL)
    return NULL;
  bw_sha256_init (&sha);
  bw_sha256_update (&sha, g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped));
  return bw_sha256_finish_hex (&sha);
}

static gboolean
same_weights (BwWeights *a,
              BwWeights *b)
{
  if (bw_weights_get_n_tensors (a) != bw_weights_get_n_tensors (b))
    return FALSE;
  for (guint i = 0; i < bw_weights_get_n_tensors (a); i++)
    {
      const char *name = bw_weights_get_name (a, i);
      const gint64 *shape_a, *shape_b;
      guint dims_a, dims_b;
      const float *x = bw_weights_lookup (a, name, &shape_a, &dims_a);
      const float *y = bw_weights_lookup (b, name, &shape_b, &dims_b);
      gsize numel = 1;

      if (y == NULL || dims_a != dims_b || memcmp (shape_a, shape_b, dims_a * sizeof (gint64)) != 0)
        return FALSE;
      for (guint d = 0; d < dims_a; d++)
        numel *= shape_a[d];
      if (memcmp (x, y, numel * sizeof (float)) != 0)
        return FALSE;
    }
  return TRUE;
}

/* DEST.new, read back and compared, then its checksum beside it, then renamed into place. */
static gboolean
install (Download   *dl,
         BwWeights  *weights,
         GError    **error)
{
  g_autofree char *tmp = g_strconcat (dl->dest, ".new", NULL);
  g_autofree char *sidecar = g_strconcat (dl->dest, ".sha256", NULL);
  g_autofree char *sidecar_tmp = g_strconcat (dl->dest, ".sha256.new", NULL);
  g_autofree char *base = g_path_get_basename (dl->dest);
  g_autofree char *digest = NULL;
  g_autofree char *line = NULL;
  g_autoptr(BwWeights) again = NULL;
  g_autoptr(GError) local = NULL;

  if (!bw_weights_save_safetensors (weights, tmp, &local) ||
      (again = bw_weights_load (tmp, &local)) == NULL ||
      (digest = hash_file (tmp, &local)) == NULL)
    goto fail;
  if (!same_weights (weights, again))
    {
      g_set_error_literal (&local, G_IO_ERROR, G_IO_ERROR_FAILED, _("the file read back differs"));
      goto fail;
    }
  line = g_strdup_printf ("%s  %s\n", digest, base);
  if (!g_file_set_contents (sidecar_tmp, line, -1, &local))
    goto fail;
  /* no moment when an old sidecar describes the new file */
  g_unlink (sidecar);
  if (g_rename (tmp, dl->dest) != 0 || g_rename (sidecar_tmp, sidecar) != 0)
    {
      int saved = errno;

      g_set_error_literal (&local, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
      goto fail;
    }
  return TRUE;

fail:
  g_unlink (tmp);
  g_unlink (sidecar_tmp);
  if (local->domain == BW_WEIGHTS_ERROR)
    g_propagate_error (error, g_steal_pointer (&local));
  else
    save_error (dl, error, local->domain, local->code, local->message);
  return FALSE;
}

gboolean
bw_weights_verify_download (const char  *path,
                            GError     **error)
{
  g_autofree char *sidecar = g_strconcat (path, ".sha256", NULL);
  g_autofree char *display = g_filename_display_basename (path);
  g_autofree char *recorded = NULL;
  g_autofree char *actual = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (sidecar, &recorded, NULL, NULL) || strlen (recorded) < 64)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” has no record of its checksum, so it cannot be checked; delete it to "
                     "download it again."), display);
      return FALSE;
    }
  actual = hash_file (path, error);
  if (actual == NULL)
    return FALSE;
  if (g_ascii_strncasecmp (recorded, actual, 64) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” has changed since it was downloaded (its SHA-256 differs from the one "
                     "recorded); delete it to download it again."), display);
      return FALSE;
    }
  return TRUE;
}

/* One download per destination at a time. The lock file is removed by its holder; a waiter
 * that locked a file removed meanwhile tries again on the new one. */
static int
lock_dest (Download  *dl,
           gboolean  *waited,
           GError   **error)
{
  g_autofree char *path = g_strconcat (dl->dest, ".lock", NULL);

  *waited = FALSE;
  while (TRUE)
    {
      int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      struct stat held, now;

      if (fd < 0)
        {
          errno_error (dl, error, errno);
          return -1;
        }
      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          int saved = errno;

          if (saved != EWOULDBLOCK && saved != EINTR)
            return fd;   /* a file system without locks: go on unlocked */
          close (fd);
          *waited = TRUE;
          if (!sleep_ms (dl, 200, error))
            return -1;
          continue;
        }
      if (fstat (fd, &held) == 0 && g_stat (path, &now) == 0 &&
          held.st_ino == now.st_ino && held.st_dev == now.st_dev)
        return fd;
      close (fd);
    }
}

static void
unlock_dest (Download *dl,
             int       fd)
{
  g_autofree char *path = g_strconcat (dl->dest, ".lock", NULL);

  g_unlink (path);
  close (fd);
}

gboolean
bw_weights_download_with_options (const BwDownloadOptions  *options,
                                  const char               *dest,
                                  BwDownloadProgressFunc    progress,
                                  gpointer                  user_data,
                                  BwDownloadResult         *result,
                                  GCancellable             *cancellable,
                                  GError                  **error)
{
  static const BwDownloadOptions defaults = { 0 };
  g_auto(Download) dl = { 0 };
  g_autoptr(Manifest) manifest = NULL;
  g_autoptr(BwWeights) weights = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sha = NULL;
  const char *manifest_path, *path;
  gboolean waited = FALSE, ok;
  int lock_fd;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (options == NULL)
    options = &defaults;
  if (result != NULL)
    memset (result, 0, sizeof *result);

  manifest_path = options->manifest_path != NULL ? options->manifest_path :
                  env_or ("BRUSHWORK_WEIGHTS_MANIFEST", NULL);
  if (manifest_path != NULL && *manifest_path != '\0')
    {
      manifest = manifest_load (manifest_path, error);
      if (manifest == NULL)
        return FALSE;
    }
  dl.url = g_strdup (options->url != NULL ? options->url :
                     env_or ("BRUSHWORK_WEIGHTS_URL",
                             manifest != NULL && manifest->url != NULL ? manifest->url : BW_WEIGHTS_URL));
  sha = g_strdup (options->sha256 != NULL ? options->sha256 :
                  env_or ("BRUSHWORK_WEIGHTS_SHA256", BW_WEIGHTS_SHA256));
  if (!is_sha256_hex (sha))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a SHA-256 checksum: give its 64 hexadecimal digits."), sha);
      return FALSE;
    }
  dl.sha256 = g_ascii_strdown (sha, -1);
  dl.uri = g_uri_parse (dl.url, G_URI_FLAGS_ENCODED, NULL);
  if (dl.uri == NULL || g_uri_get_host (dl.uri) == NULL ||
      (g_strcmp0 (g_uri_get_scheme (dl.uri), "http") != 0 &&
       g_strcmp0 (g_uri_get_scheme (dl.uri), "https") != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an http or https address to download VGG19's weights from."), dl.url);
      return FALSE;
    }
  dl.host = g_strdup (g_uri_get_host (dl.uri));
  path = g_uri_get_path (dl.uri);
  {
    g_autofree char *base = g_path_get_basename (path != NULL && *path != '\0' ? path : "/");
    g_autofree char *unescaped = g_uri_unescape_string (base, NULL);

    dl.display = g_strdup (unescaped != NULL && g_utf8_validate (unescaped, -1, NULL) &&
                           !g_str_equal (unescaped, "/") ? unescaped : "vgg19.pth");
  }
  dl.dest = dest != NULL ? g_strdup (dest) : bw_weights_default_path ();
  dl.partial = g_strconcat (dl.dest, ".download", NULL);
  dl.state_path = g_strconcat (dl.dest, ".download.state", NULL);
  dl.max_attempts = options->max_attempts > 0 ? options->max_attempts : DEFAULT_ATTEMPTS;
  dl.retry_delay_ms = options->retry_delay_ms > 0 ? options->retry_delay_ms : DEFAULT_DELAY_MS;
  dl.cancellable = cancellable;
  dl.progress = progress;
  dl.user_data = user_data;

  dir = g_path_get_dirname (dl.dest);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    return errno_error (&dl, error, errno);
  lock_fd = lock_dest (&dl, &waited, error);
  if (lock_fd < 0)
    return FALSE;
  if (waited && g_file_test (dl.dest, G_FILE_TEST_IS_REGULAR))
    {
      unlock_dest (&dl, lock_fd);
      if (result != NULL)
        result->method = BW_DOWNLOAD_DONE_ELSEWHERE;
      return TRUE;
    }

  /* Range arithmetic and the checksum are over the bytes as stored: no Content-Encoding */
  dl.session = soup_session_new_with_options ("user-agent", "Brushwork ", "timeout", 60, NULL);
  soup_session_remove_feature_by_type (dl.session, SOUP_TYPE_CONTENT_DECODER);

  ok = FALSE;
  if (manifest != NULL)
    {
      if (result != NULL)
        result->method = BW_DOWNLOAD_RANGES;
      ok = ranges_run (&dl, manifest, &weights, &local);
      if (!ok && g_error_matches (local, FETCH_ERROR, FETCH_RANGE_IGNORED))
        {
          g_debug ("%s ignores Range: fetching the whole file", dl.host);
          g_clear_error (&local);
          forget_partial (&dl);
          dl.size = 0;
          g_clear_pointer (&dl.validator, g_free);
          dl.resumed_at = 0;
          g_clear_pointer (&manifest, manifest_free);
        }
      else if (!ok && !dl.transfer_failed)
        forget_partial (&dl);
    }
  if (manifest == NULL)
    {
      if (result != NULL)
        result->method = BW_DOWNLOAD_WHOLE_FILE;
      ok = whole_run (&dl, &weights, &local);
    }
  if (ok)
    {
      ok = install (&dl, weights, &local);
      if (ok)
        forget_partial (&dl);
    }
  unlock_dest (&dl, lock_fd);

  if (result != NULL)
    {
      result->bytes_received = dl.received;
      result->resumed_at = dl.resumed_at;
    }
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

gboolean
bw_weights_download (const char              *url,
                     const char              *sha256,
                     const char              *dest,
                     BwDownloadProgressFunc   progress,
                     gpointer                 user_data,
                     GCancellable            *cancellable,
                     GError                 **error)
{
  BwDownloadOptions options = { .url = url, .sha256 = sha256 };

  return bw_weights_download_with_options (&options, dest, progress, user_data, NULL, cancellable,
                                           error);
}
