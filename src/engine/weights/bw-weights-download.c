/* bw-weights-download.c: see bw-weights-download.h.
 *
 * The transfer goes to "<dest>.download" next to the destination; after an interruption the
 * next run hashes what is there and asks the server for the rest with a Range request (a
 * server that ignores Range sends it all again, and we start over). Only a complete file
 * whose SHA-256 matches is parsed, and only its conv tensors are kept.
 */
#include "bw-weights-download.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "bw-weights.h"

#define MAX_ATTEMPTS 4
#define CHUNK (256 * 1024)

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

  return v && *v ? v : fallback;
}

/* Hashes what an earlier run left in @partial; returns its size. */
static guint64
resume_hash (const char *partial,
             GChecksum  *checksum)
{
  g_autoptr(GMappedFile) map = g_mapped_file_new (partial, FALSE, NULL);
  gsize len;

  if (map == NULL)
    return 0;
  len = g_mapped_file_get_length (map);
  if (len > 0)
    g_checksum_update (checksum, (const guchar *) g_mapped_file_get_contents (map), len);
  return len;
}

static gboolean
is_transient (const GError *error,
              guint         status)
{
  if (status >= 500 && status < 600)
    return TRUE;
  if (error == NULL)
    return FALSE;
  /* a cut connection or a timeout may go through next time; a bad name will not */
  return error->domain == G_IO_ERROR &&
         (error->code == G_IO_ERROR_TIMED_OUT || error->code == G_IO_ERROR_CONNECTION_CLOSED ||
          error->code == G_IO_ERROR_BROKEN_PIPE || error->code == G_IO_ERROR_PARTIAL_INPUT ||
          error->code == G_IO_ERROR_CONNECTION_REFUSED || error->code == G_IO_ERROR_FAILED);
}

/* One attempt: appends to @partial from @offset. Returns TRUE when the file is complete. */
static gboolean
fetch (SoupSession            *session,
       const char             *url,
       const char             *partial,
       GChecksum              *checksum,
       guint64                *offset,
       BwDownloadProgressFunc  progress,
       gpointer                user_data,
       GCancellable           *cancellable,
       guint                  *status_out,
       GError                **error)
{
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (partial);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree guchar *buf = g_malloc (CHUNK);
  guint64 total = 0;
  gint64 started = g_get_monotonic_time ();
  guint64 at_start = *offset;
  guint status;

  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is not a valid address", url);
      return FALSE;
    }
  if (*offset > 0)
    soup_message_headers_set_range (soup_message_get_request_headers (msg), *offset, -1);
  in = soup_session_send (session, msg, cancellable, error);
  status = soup_message_get_status (msg);
  *status_out = status;
  if (in == NULL)
    return FALSE;
  if (status == SOUP_STATUS_PARTIAL_CONTENT && *offset > 0)
    out = g_file_append_to (file, G_FILE_CREATE_NONE, cancellable, error);
  else if (status == SOUP_STATUS_OK)
    {
      /* the server ignored Range (or this is the first try): start from the beginning */
      *offset = 0;
      g_checksum_reset (checksum);
      out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, error);
    }
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the server answered %u %s",
                   status, soup_message_get_reason_phrase (msg));
      return FALSE;
    }
  if (out == NULL)
    return FALSE;
  if (soup_message_headers_get_content_length (soup_message_get_response_headers (msg)) > 0)
    total = *offset + soup_message_headers_get_content_length (soup_message_get_response_headers (msg));

  for (;;)
    {
      gssize n = g_input_stream_read (in, buf, CHUNK, cancellable, error);
      double seconds;

      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buf, n, NULL, cancellable, error))
        return FALSE;
      g_checksum_update (checksum, buf, n);
      *offset += n;
      seconds = (g_get_monotonic_time () - started) / 1e6;
      if (progress)
        progress (*offset, total, seconds > 0 ? (*offset - at_start) / seconds : 0, user_data);
    }
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, error))
    return FALSE;
  if (total > 0 && *offset < total)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "the connection closed early");
      return FALSE;
    }
  return TRUE;
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
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GError) last_error = NULL;
  g_autoptr(BwWeights) weights = NULL;
  g_autofree char *partial = g_strconcat (dest, ".download", NULL);
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *host = NULL;
  g_autoptr(GUri) uri = NULL;
  guint64 offset;
  guint status = 0;
  gboolean complete = FALSE;

  url = url ? url : env_or ("BRUSHWORK_WEIGHTS_URL", BW_WEIGHTS_URL);
  sha256 = sha256 ? sha256 : env_or ("BRUSHWORK_WEIGHTS_SHA256", BW_WEIGHTS_SHA256);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  host = g_strdup (uri && g_uri_get_host (uri) ? g_uri_get_host (uri) : url);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not create the folder “%s” for VGG19's weights: %s.", dir, g_strerror (saved));
      return FALSE;
    }
  session = soup_session_new_with_options ("user-agent", "Brushwork", "timeout", 60, NULL);
  offset = resume_hash (partial, checksum);

  for (int attempt = 0; attempt < MAX_ATTEMPTS && !complete; attempt++)
    {
      if (attempt > 0)
        {
          /* back off 1, 2, 4 s, waking early if cancelled */
          gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC * (1 << (attempt - 1));
          while (g_get_monotonic_time () < until && !g_cancellable_is_cancelled (cancellable))
            g_usleep (50000);
        }
      g_clear_error (&last_error);
      complete = fetch (session, url, partial, checksum, &offset, progress, user_data,
                        cancellable, &status, &last_error);
      if (!complete && (g_cancellable_is_cancelled (cancellable) || !is_transient (last_error, status)))
        break;
    }
  if (!complete)
    {
      if (g_error_matches (last_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&last_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "Could not download VGG19's weights from %s: %s. Check your internet "
                     "connection and run again (the download resumes), or pass a local copy "
                     "with --weights FILE.", host, last_error ? last_error->message : "unknown error");
      return FALSE;
    }
  if (g_ascii_strcasecmp (g_checksum_get_string (checksum), sha256) != 0)
    {
      /* a corrupt or tampered file is never parsed */
      g_unlink (partial);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The weights downloaded from %s are damaged (their SHA-256 is %s, not %s). "
                   "Run again to download them anew.", host, g_checksum_get_string (checksum), sha256);
      return FALSE;
    }
  weights = bw_weights_load (partial, error);
  if (weights == NULL || !bw_weights_save_safetensors (weights, dest, error))
    return FALSE;
  {
    /* where the conv layers came from, for whoever wonders later */
    g_autofree char *record = g_strconcat (dest, ".source", NULL);
    g_autofree char *text = g_strdup_printf ("%s  %s\n", sha256, url);
    g_file_set_contents (record, text, -1, NULL);
  }
  g_unlink (partial);
  return TRUE;
}
