/* test-download.c: the first-run download of the weights, against a local HTTP server.
 *
 * The server (libsoup, on 127.0.0.1 only, in a thread of this test) serves a VGG19 .pth
 * that PyTorch wrote with seeded random weights (tests/oracle/cli_oracle.py). It can
 * honour or ignore Range requests, fail a few times with 503 and pace the body (a piece
 * every few ms, so that a cancel from the progress callback, which the downloader calls at
 * most every 100 ms, lands mid-file however fast the machine), and counts the bytes it
 * queues. Checked: the stored conv layers equal what the loader reads from the file itself;
 * a wrong checksum leaves nothing behind; a cancelled download resumes where it stopped;
 * a server that ignores Range still works; 503s are retried; progress is monotonic. And
 * brushwork-cli, stopped by Ctrl-C while a server (a bare socket) never answers.
 */
#include <signal.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "bw-test-util.h"
#include "vgg19/bw-vgg19-layers.h"
#include "weights/bw-weights-download.h"
#include "weights/bw-weights.h"

#define PACE_PIECES 32            /* a paced body comes in pieces of 1/32 of the file */
#define PACE_INTERVAL_MS 15       /* each one this long after the last went out: ~0.5 s */

typedef struct {
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *server;
  GBytes *file;
  char *url;
  gboolean ignore_range;
  gboolean pace;
  int fail_next;          /* answer 503 this many times */
  guint64 served;         /* body bytes queued since server_reset() */
  guint generation;       /* bumped by server_reset() */
  GMutex lock;
  GCond ready;
} Server;

static Server server;
static char *oracle_dir;
static char *sha256;

/* One paced body; lives until the message finishes or its connection goes, whichever first. */
typedef struct {
  SoupServerMessage *msg;
  GBytes *body;
  gsize sent;
  guint generation;
  GSource *timer;         /* until the next piece */
} Pace;

static void
pace_free (Pace *pace)
{
  g_signal_handlers_disconnect_by_data (pace->msg, pace);
  if (pace->timer != NULL)
    {
      g_source_destroy (pace->timer);
      g_source_unref (pace->timer);
    }
  g_bytes_unref (pace->body);
  g_object_unref (pace->msg);
  g_free (pace);
}

/* Queues the next piece. */
static void
pace_next (Pace *pace)
{
  gsize len = MIN ((g_bytes_get_size (server.file) + PACE_PIECES - 1) / PACE_PIECES,
                   g_bytes_get_size (pace->body) - pace->sent);
  g_autoptr(GBytes) piece = g_bytes_new_from_bytes (pace->body, pace->sent, len);

  soup_message_body_append_bytes (soup_server_message_get_response_body (pace->msg), piece);
  pace->sent += len;
  g_mutex_lock (&server.lock);
  /* a body cancelled by an earlier test may still be going: it is not this one's */
  if (pace->generation == server.generation)
    server.served += len;
  g_mutex_unlock (&server.lock);
}

static gboolean
pace_tick (gpointer data)
{
  Pace *pace = data;

  g_clear_pointer (&pace->timer, g_source_unref);
  pace_next (pace);
  /* the server paused the message when it ran out of body */
  soup_server_message_unpause (pace->msg);
  return G_SOURCE_REMOVE;
}

static void
pace_wrote_chunk (SoupServerMessage *msg,
                  Pace              *pace)
{
  /* wait from when a piece went out, not from when it was queued: a client that stalls
   * then finds at most what the socket holds, not the whole backlog */
  if (pace->sent == g_bytes_get_size (pace->body))
    return;
  pace->timer = g_timeout_source_new (PACE_INTERVAL_MS);
  g_source_set_callback (pace->timer, pace_tick, pace, NULL);
  g_source_attach (pace->timer, server.context);
}

/* Sends @body in pieces. The client may hang up (a cancelled download) at any point: the
 * message then finishes with an error at the next write, or is "disconnected" when the
 * server goes; either frees the Pace, which holds a reference on the message till then. */
static void
pace_start (SoupServerMessage *msg,
            GBytes            *body,
            guint              generation)
{
  Pace *pace = g_new0 (Pace, 1);

  pace->msg = g_object_ref (msg);
  pace->body = g_bytes_ref (body);
  pace->generation = generation;
  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
                                           g_bytes_get_size (body));
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (pace_wrote_chunk), pace);
  g_signal_connect_swapped (msg, "finished", G_CALLBACK (pace_free), pace);
  g_signal_connect_swapped (msg, "disconnected", G_CALLBACK (pace_free), pace);
  pace_next (pace);
}

static void
handle (SoupServer        *soup_server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  gsize size = g_bytes_get_size (server.file);
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  goffset start = 0, end = size - 1;
  g_autoptr(GBytes) slice = NULL;
  gboolean pace;
  guint generation;

  g_mutex_lock (&server.lock);
  if (server.fail_next > 0)
    {
      server.fail_next--;
      g_mutex_unlock (&server.lock);
      soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      return;
    }
  if (!server.ignore_range && soup_message_headers_get_ranges (req, size, &ranges, &n_ranges) && n_ranges == 1)
    {
      start = ranges[0].start;
      end = ranges[0].end;
      soup_message_headers_set_content_range (resp, start, end, size);
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (ranges)
    soup_message_headers_free_ranges (req, ranges);
  pace = server.pace;
  generation = server.generation;
  if (!pace)
    server.served += end - start + 1;
  g_mutex_unlock (&server.lock);
  slice = g_bytes_new_from_bytes (server.file, start, end - start + 1);
  if (pace)
    pace_start (msg, slice, generation);
  else
    soup_message_body_append_bytes (soup_server_message_get_response_body (msg), slice);
}

static gpointer
server_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;

  g_main_context_push_thread_default (server.context);
  server.server = soup_server_new ("server-header", "brushwork-test", NULL);
  soup_server_add_handler (server.server, "/vgg19.pth", handle, NULL, NULL);
  /* loopback only: nothing leaves this machine */
  soup_server_listen_local (server.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server.server);
  g_mutex_lock (&server.lock);
  server.url = g_strdup_printf ("http://127.0.0.1:%d/vgg19.pth", g_uri_get_port (uris->data));
  g_cond_signal (&server.ready);
  g_mutex_unlock (&server.lock);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  g_main_loop_run (server.loop);
  g_object_unref (server.server);
  g_main_context_pop_thread_default (server.context);
  return NULL;
}

static void
server_start (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, &error);

  g_assert_no_error (error);
  server.file = g_mapped_file_get_bytes (map);
  server.context = g_main_context_new ();
  server.loop = g_main_loop_new (server.context, FALSE);
  g_mutex_lock (&server.lock);
  server.thread = g_thread_new ("http", server_thread, NULL);
  while (server.url == NULL)
    g_cond_wait (&server.ready, &server.lock);
  g_mutex_unlock (&server.lock);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (server.loop);
  return G_SOURCE_REMOVE;
}

static void
server_stop (void)
{
  g_main_context_invoke (server.context, quit_loop, NULL);
  g_thread_join (server.thread);
  g_main_loop_unref (server.loop);
  g_main_context_unref (server.context);
  g_bytes_unref (server.file);
  g_free (server.url);
}

static void
server_reset (gboolean ignore_range,
              int      fail_next)
{
  g_mutex_lock (&server.lock);
  server.ignore_range = ignore_range;
  server.fail_next = fail_next;
  server.pace = FALSE;
  server.served = 0;
  server.generation++;
  g_mutex_unlock (&server.lock);
}

/* Until the next server_reset(), send bodies slowly enough to be cancelled midway. */
static void
server_pace (void)
{
  g_mutex_lock (&server.lock);
  server.pace = TRUE;
  g_mutex_unlock (&server.lock);
}

static char *
fresh_dest (const char *name)
{
  char *dest = g_build_filename (oracle_dir, name, NULL);
  g_autofree char *partial = g_strconcat (dest, ".download", NULL);

  g_unlink (dest);
  g_unlink (partial);
  return dest;
}

/* The stored conv layers must be exactly what the loader reads from the original. */
static void
assert_same_weights (const char *dest)
{
  g_autofree char *pth = g_build_filename (oracle_dir, "vgg19.pth", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) want = bw_weights_load (pth, &error);
  g_autoptr(BwWeights) got = NULL;

  g_assert_no_error (error);
  got = bw_weights_load (dest, &error);
  g_assert_no_error (error);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    for (int b = 0; b < 2; b++)
      {
        const BwVgg19Conv *c = &bw_vgg19_convs[i];
        g_autofree char *name = g_strdup_printf ("features.%d.%s", c->module, b ? "bias" : "weight");
        gsize n = b ? (gsize) c->out_channels : (gsize) c->out_channels * c->in_channels * 9;
        const float *x = bw_weights_lookup (want, name, NULL, NULL);
        const float *y = bw_weights_lookup (got, name, NULL, NULL);

        g_assert_nonnull (x);
        g_assert_nonnull (y);
        g_assert_cmpmem (x, n * sizeof (float), y, n * sizeof (float));
      }
}

typedef struct {
  guint64 last;
  guint64 total;
  guint calls;
  gboolean monotonic;
  guint64 cancel_after;
  GCancellable *cancellable;
} ProgressLog;

static void
on_progress (guint64  done,
             guint64  total,
             double   rate,
             gpointer user_data)
{
  ProgressLog *log = user_data;

  log->monotonic &= done >= log->last;
  log->last = done;
  log->total = total;
  log->calls++;
  if (log->cancel_after && done >= log->cancel_after)
    g_cancellable_cancel (log->cancellable);
}

static void
test_download (void)
{
  g_autofree char *dest = fresh_dest ("conv.safetensors");
  g_autoptr(GError) error = NULL;
  ProgressLog log = { .monotonic = TRUE };
  gsize size = g_bytes_get_size (server.file);

  server_reset (FALSE, 0);
  g_assert_true (bw_weights_download (server.url, sha256, dest, on_progress, &log, NULL, &error));
  g_assert_no_error (error);
  assert_same_weights (dest);
  g_assert_true (log.monotonic);
  g_assert_cmpuint (log.last, ==, size);
  g_assert_cmpuint (log.total, ==, size);
  g_assert_cmpuint (server.served, ==, size);
}

static void
test_wrong_checksum (void)
{
  g_autofree char *dest = fresh_dest ("bad.safetensors");
  g_autofree char *partial = g_strconcat (dest, ".download", NULL);
  g_autoptr(GError) error = NULL;
  const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";

  server_reset (FALSE, 0);
  g_assert_false (bw_weights_download (server.url, zeros, dest, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
}

/* Cancel after a third, then run again: only the rest is fetched. */
static void
test_resume (void)
{
  g_autofree char *dest = fresh_dest ("resumed.safetensors");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gsize size = g_bytes_get_size (server.file);
  ProgressLog log = { .monotonic = TRUE, .cancel_after = size / 3, .cancellable = cancellable };
  guint64 first;

  server_reset (FALSE, 0);
  server_pace ();
  g_assert_false (bw_weights_download (server.url, sha256, dest, on_progress, &log, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  first = log.last;
  g_assert_cmpuint (first, <, size);

  server_reset (FALSE, 0);
  g_assert_true (bw_weights_download (server.url, sha256, dest, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("first run kept %" G_GUINT64_FORMAT " bytes; the second fetched %" G_GUINT64_FORMAT
                  " of %" G_GSIZE_FORMAT, first, server.served, size);
  g_assert_cmpuint (server.served, ==, size - first);
  assert_same_weights (dest);
}

/* A server that ignores Range sends everything again: still correct. */
static void
test_no_range (void)
{
  g_autofree char *dest = fresh_dest ("norange.safetensors");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gsize size = g_bytes_get_size (server.file);
  ProgressLog log = { .monotonic = TRUE, .cancel_after = size / 2, .cancellable = cancellable };

  server_reset (TRUE, 0);
  server_pace ();
  g_assert_false (bw_weights_download (server.url, sha256, dest, on_progress, &log, cancellable, &error));
  g_clear_error (&error);
  server_reset (TRUE, 0);
  g_assert_true (bw_weights_download (server.url, sha256, dest, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (server.served, ==, size);
  assert_same_weights (dest);
}

static void
test_retry (void)
{
  g_autofree char *dest = fresh_dest ("retried.safetensors");
  g_autoptr(GError) error = NULL;

  server_reset (FALSE, 2);
  g_assert_true (bw_weights_download (server.url, sha256, dest, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_same_weights (dest);

  /* more failures than attempts: a sentence naming the host */
  g_unlink (dest);
  server_reset (FALSE, 100);
  g_assert_false (bw_weights_download (server.url, sha256, dest, NULL, NULL, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

/* A server that takes one connection, reads the request and never answers. */
typedef struct {
  GSocket *listener;
  char *url;
  GThread *thread;
  GMutex lock;
  GCond asked;
  gboolean has_asked;
} Silent;

static gpointer
silent_thread (gpointer data)
{
  Silent *s = data;
  g_autoptr(GSocket) client = g_socket_accept (s->listener, NULL, NULL);
  char buf[4096];

  if (client == NULL)
    return NULL;
  /* the request's first bytes: the client is now waiting for an answer */
  if (g_socket_receive (client, buf, sizeof buf, NULL, NULL) > 0)
    {
      g_mutex_lock (&s->lock);
      s->has_asked = TRUE;
      g_cond_signal (&s->asked);
      g_mutex_unlock (&s->lock);
    }
  while (g_socket_receive (client, buf, sizeof buf, NULL, NULL) > 0)
    ;
  return NULL;
}

static void
silent_start (Silent *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  s->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (s->listener, address, TRUE, &error));
  g_assert_true (g_socket_listen (s->listener, &error));
  bound = g_socket_get_local_address (s->listener, &error);
  g_assert_no_error (error);
  s->url = g_strdup_printf ("http://127.0.0.1:%u/vgg19.pth",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  s->thread = g_thread_new ("silent", silent_thread, s);
}

static gboolean
on_deadline (gpointer data)
{
  gboolean *late = data;

  *late = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_exited (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  gboolean *exited = data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *exited = TRUE;
}

/* Ctrl-C while the server has not answered: brushwork-cli ends at once (not when the
 * connection times out, a minute later, and retries), with 130, the shell's "interrupted",
 * as after a painting stopped by Ctrl-C, and says the download resumes. */
static void
test_cli_interrupted (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GSubprocess) cli = NULL;
  g_autofree char *cache = g_dir_make_tmp ("bw-download-cli-XXXXXX", &error);
  g_autofree char *content = g_build_filename (oracle_dir, "content.png", NULL);
  g_autofree char *style = g_build_filename (oracle_dir, "style.png", NULL);
  g_autofree char *output = NULL;
  g_autofree char *log = NULL;
  g_autofree char *printed = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  GSource *deadline;
  gint64 interrupted;
  gboolean exited = FALSE, late = FALSE;
  Silent s = { 0 };

  g_assert_no_error (error);
  g_mutex_init (&s.lock);
  g_cond_init (&s.asked);
  output = g_build_filename (cache, "out.png", NULL);
  log = g_build_filename (cache, "stderr.txt", NULL);
  silent_start (&s);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "memory", TRUE);
  g_subprocess_launcher_setenv (launcher, "BRUSHWORK_WEIGHTS_URL", s.url, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "BRUSHWORK_WEIGHTS");
  g_subprocess_launcher_unsetenv (launcher, "BRUSHWORK_WEIGHTS_MANIFEST");
  g_subprocess_launcher_unsetenv (launcher, "http_proxy");
  g_subprocess_launcher_unsetenv (launcher, "all_proxy");
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("BRUSHWORK_CLI"), "--content",
                                     content, "--style", style, "--output", output, "--steps", "1",
                                     NULL);
  g_assert_no_error (error);

  /* 60 s: only a bound for "it never asked" (a start under a sanitizer can be slow) */
  g_mutex_lock (&s.lock);
  {
    gint64 until = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

    while (!s.has_asked)
      if (!g_cond_wait_until (&s.asked, &s.lock, until))
        break;
  }
  g_mutex_unlock (&s.lock);
  g_assert_true (s.has_asked);
  g_usleep (500 * 1000);

  /* 10 s: a bound for "it did not hang", far from the minute a connection may wait */
  g_main_context_push_thread_default (context);
  interrupted = g_get_monotonic_time ();
  g_subprocess_send_signal (cli, SIGINT);
  g_subprocess_wait_async (cli, NULL, on_exited, &exited);
  deadline = g_timeout_source_new_seconds (10);
  g_source_set_callback (deadline, on_deadline, &late, NULL);
  g_source_attach (deadline, context);
  while (!exited && !late)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (deadline);
  g_source_unref (deadline);
  if (!exited)
    {
      g_subprocess_force_exit (cli);
      while (!exited)
        g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);

  g_assert_true (g_file_get_contents (log, &printed, NULL, NULL));
  g_test_message ("brushwork-cli, %.3f s after SIGINT: %s", (g_get_monotonic_time () - interrupted) / 1e6,
                  printed);
  g_assert_false (late);
  g_assert_true (g_subprocess_get_if_exited (cli));
  g_assert_cmpint (g_subprocess_get_exit_status (cli), ==, 130);
  g_assert_nonnull (strstr (printed, "Download stopped; run again to resume it."));
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));

  g_socket_close (s.listener, NULL);
  g_thread_join (s.thread);
  g_object_unref (s.listener);
  g_free (s.url);
  g_mutex_clear (&s.lock);
  g_cond_clear (&s.asked);
  {
    /* what the stopped download left in XDG_CACHE_HOME/brushwork */
    g_autofree char *folder = g_build_filename (cache, "brushwork", NULL);

    bw_test_remove_dir (folder);
    bw_test_remove_dir (cache);
  }
}

int
main (int   argc,
      char *argv[])
{
  const char *args[] = { "--steps", "1", NULL };
  g_autofree char *pth = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  int ret;

  g_test_init (&argc, &argv, NULL);
  oracle_dir = bw_test_run_oracle ("cli_oracle.py", args);
  pth = g_build_filename (oracle_dir, "vgg19.pth", NULL);
  g_assert_true (g_file_get_contents (pth, &contents, &len, NULL));
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
  server_start (pth);

  g_test_add_func ("/download/complete", test_download);
  g_test_add_func ("/download/wrong-checksum", test_wrong_checksum);
  g_test_add_func ("/download/resume", test_resume);
  g_test_add_func ("/download/server-ignores-range", test_no_range);
  g_test_add_func ("/download/retry", test_retry);
  g_test_add_func ("/download/cli-interrupted", test_cli_interrupted);
  ret = g_test_run ();

  server_stop ();
  bw_test_remove_dir (oracle_dir);
  g_free (oracle_dir);
  g_free (sha256);
  return ret;
}
