/* bw-weights-download-http.c: fetch(), one byte range of the remote file over HTTP.
 *
 * It asks for [pos, end) and hands what arrives, in order, to a consumer (the whole file's or
 * the ranges'); transient failures are retried with back-off, asking again from where the last
 * try stopped, with If-Range so that a file changed meanwhile comes whole and the consumer
 * starts again. Also here: the progress callback's pacing and the back-off's sleep.
 */
#include "bw-i18n.h"
#include "bw-weights-download-private.h"

#include <string.h>

#define CHUNK (256 * 1024)
#define PROGRESS_INTERVAL_US (100 * 1000)
#define MAX_DELAY_MS 30000
#define PROGRESS_RESETS_RETRIES (1024 * 1024)
#define MAX_TRIES 100                     /* per fetch, however much each try brings */

/* Another library's message, to follow a colon inside our sentence. */
char *
bw_dl_reason_text (const char *message)
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

void
bw_dl_report (Download *dl,
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

gboolean
bw_dl_set_cancelled (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       _("The download of VGG19's weights was stopped; run again to resume it."));
  return FALSE;
}

gboolean
bw_dl_sleep_ms (Download  *dl,
                guint      ms,
                GError   **error)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;
  GPollFD fd = { 0 };
  gboolean has_fd = dl->cancellable != NULL && g_cancellable_make_pollfd (dl->cancellable, &fd);

  /* woken by the cancel itself where the cancellable has a file descriptor; else looking
   * every 20 ms */
  while (!g_cancellable_is_cancelled (dl->cancellable) && g_get_monotonic_time () < until)
    {
      gint64 left_ms = (until - g_get_monotonic_time () + 999) / 1000;

      if (has_fd)
        g_poll (&fd, 1, (int) CLAMP (left_ms, 0, G_MAXINT));
      else
        g_usleep (MIN (20000, MAX (until - g_get_monotonic_time (), 0)));
    }
  if (has_fd)
    g_cancellable_release_fd (dl->cancellable);
  if (g_cancellable_is_cancelled (dl->cancellable))
    return bw_dl_set_cancelled (error);
  return TRUE;
}

/* A failure through every retry, or one no retry can mend. */
gboolean
bw_dl_transfer_error (Download     *dl,
                      const GError *cause,
                      GError      **error)
{
  g_autofree char *why = NULL;

  dl->transfer_failed = TRUE;
  if (cause->domain == BW_DL_HTTP_STATUS_ERROR)
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
  why = bw_dl_reason_text (cause->message);
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
 * @restart, fails with BW_DL_FETCH_RANGE_IGNORED. */
gboolean
bw_dl_fetch (Download         *dl,
             guint64          *pos,
             guint64           end,
             BwDlRestartFunc   restart,
             BwDlBodyFunc      body,
             gpointer          user,
             GError          **error)
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
            return bw_dl_transfer_error (dl, last, error);
          delay = MIN (delay, MAX_DELAY_MS);
          if (retry_after_s > 0)
            delay = MAX (delay, MIN (retry_after_s, 60) * 1000);
          if (!bw_dl_sleep_ms (dl, delay, error))
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
              return bw_dl_set_cancelled (error);
            }
          if (!is_transient (local))
            return bw_dl_transfer_error (dl, local, error);
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
                  g_set_error (error, BW_DL_FETCH_ERROR, BW_DL_FETCH_SIZE_CHANGED, "%" G_GINT64_FORMAT, (gint64) total);
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
                  g_set_error_literal (error, BW_DL_FETCH_ERROR, BW_DL_FETCH_RANGE_IGNORED, "range ignored");
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
          g_autoptr(GError) http = g_error_new (BW_DL_HTTP_STATUS_ERROR, status, "%u %s", status,
                                                soup_message_get_reason_phrase (msg) != NULL ?
                                                soup_message_get_reason_phrase (msg) :
                                                soup_status_get_phrase (status));

          if (!is_transient_status (status))
            return bw_dl_transfer_error (dl, http, error);
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
          return bw_dl_set_cancelled (error);
        }
      if (!is_transient (local))
        return bw_dl_transfer_error (dl, local, error);
      g_clear_error (&last);
      last = g_steal_pointer (&local);
      failures = got >= PROGRESS_RESETS_RETRIES ? 1 : failures + 1;
    }
}

