/* test-weights-download.c: the first run's download, against an HTTP server in this process.
 *
 * The server is a few lines of HTTP/1.1 over GSocket, on 127.0.0.1 only, a thread per
 * connection, so that it can do what real servers and networks do and libsoup's own server
 * would not: honour Range or ignore it, cut the connection at a given byte of the file, send
 * a wrong byte, answer 500 a few times, answer 404, send slowly, stop sending midway or never
 * answer at all. It counts the body bytes it sends and records each request's Range and
 * If-Range.
 *
 * As root, main() first moves the process into a mount namespace of its own, where the
 * full-disk test mounts a small tmpfs.
 *
 * It serves make_fixtures.py's files (PyTorch-written, seeded random weights): mostly the
 * 80 MB vgg19-features-legacy.pth, to keep the run short; the full 548 MB
 * vgg19-full-legacy.pth (the official file's format and layout) for the main stream and
 * manifest checks. The expected SHA-256 is computed here with GChecksum, which also checks
 * bw-sha256 against GLib's. Every result must hold reference.bin's 26 tensors bit for bit.
 *
 * Fixtures: $BW_WEIGHTS_FIXTURES or the first argument, written first when missing, as
 * test-weights does (meson runs this test alone, after that one).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "vgg19/bw-vgg19-layers.h"
#include "weights/bw-sha256.h"
#include "weights/bw-weights-download.h"
#include "weights/bw-weights.h"

#define N_TENSORS (BW_VGG19_N_CONVS * 2)
#define CONV_BYTES 51779840   /* the 26 tensors up to conv5_1, as F32 */
#define FAST_RETRY 10         /* ms: the tests' back-off */
/* What fetching by ranges may cost beyond the tensors: the gaps between ranges close enough
 * to be fetched as one (8-byte counts; 20 KB of small storages in the full fixture) */
#define RANGES_SLACK (64 * 1024)

static char *fixtures;
static float *reference;
/* Why this process cannot mount a small tmpfs (a full disk), or NULL when it can. */
static char *no_mounts;

/* The server. */

typedef struct {
  char *range;        /* the request's Range header, "" for none */
  char *if_range;
} Request;

static struct {
  GMutex lock;
  GSocket *socket;
  GCancellable *stop;
  GThread *thread;
  guint16 port;

  int fd;             /* the file served */
  guint64 size;
  char *etag;

  gboolean ignore_range;
  guint fail_next;    /* answer 500 this many times */
  guint status;       /* answer this for everything (404), 0: serve */
  guint64 cut_at;     /* close the connection when a response reaches this offset, once; 0: never */
  gint64 corrupt_at;  /* send this byte of the file wrong in every response; -1: never */
  guint pace_us;      /* wait this long before each 256 KB of a body; 0: as fast as it goes */
  gboolean silent;    /* read requests and never answer */
  guint64 stall_at;   /* stop sending when a response reaches this offset, once, and hold the
                       * connection open; 0: never */
  guint holding;      /* connections silent or stalled so far */
  GCond held;         /* signalled when one more is */

  guint64 served;     /* body bytes sent */
  guint generation;   /* bumped when counting starts again: a body still going from before
                       * (a paced one the client gave up on) is not counted, and stops */
  GPtrArray *requests;
} server;

static void
request_free (Request *r)
{
  g_free (r->range);
  g_free (r->if_range);
  g_free (r);
}

static gboolean
send_all (GOutputStream *out,
          const void    *data,
          gsize          len)
{
  return g_output_stream_write_all (out, data, len, NULL, NULL, NULL);
}

/* "bytes=A-B" or "bytes=A-" */
static gboolean
parse_range (const char *value,
             guint64     size,
             guint64    *start,
             guint64    *end)
{
  char *p = NULL;

  if (!g_str_has_prefix (value, "bytes=") || !g_ascii_isdigit (value[6]))
    return FALSE;
  *start = g_ascii_strtoull (value + 6, &p, 10);
  if (*p != '-')
    return FALSE;
  *end = g_ascii_isdigit (p[1]) ? g_ascii_strtoull (p + 1, NULL, 10) + 1 : size;
  return TRUE;
}

/* Keeps a connection open without a word until the client closes it. */
static void
hold (GInputStream *in)
{
  guint8 buf[256];

  g_mutex_lock (&server.lock);
  server.holding++;
  g_cond_broadcast (&server.held);
  g_mutex_unlock (&server.lock);
  while (g_input_stream_read (in, buf, sizeof buf, NULL, NULL) > 0)
    ;
}

/* One response; FALSE when the connection must close, with *@stalled when it must be held. */
static gboolean
respond (GOutputStream *out,
         const char    *range,
         const char    *if_range,
         gboolean      *stalled)
{
  g_autofree guint8 *buf = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  guint64 start = 0, end, cut = 0, stall = 0, at;
  gint64 corrupt;
  gboolean partial = FALSE;
  guint pace, generation;
  int fd;

  g_mutex_lock (&server.lock);
  generation = server.generation;
  end = server.size;
  fd = server.fd;
  corrupt = server.corrupt_at;
  pace = server.pace_us;
  if (server.status != 0 || server.fail_next > 0)
    {
      guint status = server.status != 0 ? server.status : 500;

      if (server.status == 0)
        server.fail_next--;
      g_mutex_unlock (&server.lock);
      g_string_printf (head, "HTTP/1.1 %u %s\r\nContent-Length: 0\r\n\r\n", status,
                       status == 404 ? "Not Found" : "Internal Server Error");
      return send_all (out, head->str, head->len);
    }
  if (range != NULL && !server.ignore_range &&
      (if_range == NULL || g_str_equal (if_range, server.etag)) &&
      parse_range (range, server.size, &start, &end))
    {
      if (start >= server.size || end > server.size || start >= end)
        {
          g_mutex_unlock (&server.lock);
          g_string_printf (head, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%"
                           G_GUINT64_FORMAT "\r\nContent-Length: 0\r\n\r\n", server.size);
          return send_all (out, head->str, head->len);
        }
      partial = TRUE;
    }
  if (server.cut_at > start && server.cut_at < end)
    {
      cut = server.cut_at;
      server.cut_at = 0;
    }
  else if (server.stall_at > start && server.stall_at < end)
    {
      cut = stall = server.stall_at;
      server.stall_at = 0;
    }
  g_mutex_unlock (&server.lock);

  if (partial)
    g_string_printf (head, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %" G_GUINT64_FORMAT
                     "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\r\n", start, end - 1, server.size);
  else
    g_string_printf (head, "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n");
  g_string_append_printf (head, "ETag: %s\r\nContent-Type: application/octet-stream\r\n"
                          "Content-Length: %" G_GUINT64_FORMAT "\r\n\r\n", server.etag, end - start);
  if (!send_all (out, head->str, head->len))
    return FALSE;

  buf = g_malloc (256 * 1024);
  for (at = start; at < (cut ? cut : end);)
    {
      gsize n = (gsize) MIN ((guint64) 256 * 1024, (cut ? cut : end) - at);

      if (pread (fd, buf, n, (off_t) at) != (gssize) n)
        return FALSE;
      if (corrupt >= 0 && (guint64) corrupt >= at && (guint64) corrupt < at + n)
        buf[corrupt - at] ^= 0x40;
      if (pace > 0)
        g_usleep (pace);
      /* counted before it is sent: once the client has it all, the count is final */
      g_mutex_lock (&server.lock);
      if (generation != server.generation)
        {
          g_mutex_unlock (&server.lock);
          return FALSE;
        }
      server.served += n;
      g_mutex_unlock (&server.lock);
      if (!send_all (out, buf, n))
        return FALSE;
      at += n;
    }
  *stalled = stall != 0;
  return cut == 0;
}

static gpointer
serve_connection (gpointer data)
{
  g_autoptr(GSocket) socket = data;
  g_autoptr(GSocketConnection) connection = g_socket_connection_factory_create_connection (socket);
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  while (TRUE)
    {
      g_autofree char *request_line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
      g_autofree char *range = NULL;
      g_autofree char *if_range = NULL;
      gboolean silent, stalled = FALSE;
      Request *r;

      if (request_line == NULL)
        break;
      while (TRUE)
        {
          g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
          char *colon;

          if (line == NULL || *line == '\0')
            break;
          colon = strchr (line, ':');
          if (colon == NULL)
            continue;
          *colon = '\0';
          if (g_ascii_strcasecmp (line, "Range") == 0)
            range = g_strdup (g_strstrip (colon + 1));
          else if (g_ascii_strcasecmp (line, "If-Range") == 0)
            if_range = g_strdup (g_strstrip (colon + 1));
        }
      r = g_new0 (Request, 1);
      r->range = g_strdup (range != NULL ? range : "");
      r->if_range = g_strdup (if_range != NULL ? if_range : "");
      g_mutex_lock (&server.lock);
      g_ptr_array_add (server.requests, r);
      silent = server.silent;
      g_mutex_unlock (&server.lock);
      if (silent)
        {
          hold (G_INPUT_STREAM (in));
          break;
        }
      if (!respond (out, range, if_range, &stalled))
        {
          if (stalled)
            hold (G_INPUT_STREAM (in));
          break;
        }
    }
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return NULL;
}

static gpointer
accept_loop (gpointer data)
{
  while (TRUE)
    {
      GSocket *client = g_socket_accept (server.socket, server.stop, NULL);

      if (client == NULL)
        break;
      g_thread_unref (g_thread_new ("connection", serve_connection, client));
    }
  return NULL;
}

static void
server_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  server.fd = -1;
  server.corrupt_at = -1;
  server.requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  server.socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (server.socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (server.socket, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (server.socket, &error);
  g_assert_no_error (error);
  server.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  server.stop = g_cancellable_new ();
  server.thread = g_thread_new ("accept", accept_loop, NULL);
}

static void
server_stop (void)
{
  g_cancellable_cancel (server.stop);
  g_thread_join (server.thread);
  g_socket_close (server.socket, NULL);
  g_clear_object (&server.socket);
  g_clear_object (&server.stop);
  if (server.fd >= 0)
    close (server.fd);
  g_free (server.etag);
  g_ptr_array_unref (server.requests);
}

/* Serve @name from the fixtures (or @path), behaving; forget what was counted. */
static void
server_serve (const char *path)
{
  struct stat st;
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_mutex_lock (&server.lock);
  if (server.fd >= 0)
    close (server.fd);
  server.fd = fd;
  server.size = st.st_size;
  g_free (server.etag);
  server.etag = g_strdup_printf ("\"%" G_GUINT64_FORMAT "-%" G_GINT64_FORMAT "\"", server.size,
                                 (gint64) st.st_mtime);
  server.ignore_range = FALSE;
  server.fail_next = 0;
  server.status = 0;
  server.cut_at = 0;
  server.corrupt_at = -1;
  server.pace_us = 0;
  server.silent = FALSE;
  server.stall_at = 0;
  server.holding = 0;
  server.served = 0;
  server.generation++;
  g_ptr_array_set_size (server.requests, 0);
  g_mutex_unlock (&server.lock);
}

static void
server_forget (void)
{
  g_mutex_lock (&server.lock);
  server.served = 0;
  server.generation++;
  g_ptr_array_set_size (server.requests, 0);
  g_mutex_unlock (&server.lock);
}

static char *
server_url (void)
{
  return g_strdup_printf ("http://127.0.0.1:%u/models/vgg19-test.pth", server.port);
}

static guint64
served (void)
{
  guint64 n;

  g_mutex_lock (&server.lock);
  n = server.served;
  g_mutex_unlock (&server.lock);
  return n;
}

static Request *
request (guint i)
{
  Request *r;

  g_mutex_lock (&server.lock);
  g_assert_cmpuint (i, <, server.requests->len);
  r = g_ptr_array_index (server.requests, i);
  g_mutex_unlock (&server.lock);
  return r;
}

static guint
n_requests (void)
{
  guint n;

  g_mutex_lock (&server.lock);
  n = server.requests->len;
  g_mutex_unlock (&server.lock);
  return n;
}

/* Helpers. */

static char *
fixture (const char *name)
{
  return g_build_filename (fixtures, name, NULL);
}

static gboolean
need_fixtures (void)
{
  if (fixtures != NULL)
    return TRUE;
  g_test_skip ("no fixtures: set BW_WEIGHTS_FIXTURES or pass the directory");
  return FALSE;
}

/* Python's hashlib, else GChecksum: never the code under test. Streamed, not mapped, so that
 * the memory check below sees only the download's memory. Fixtures are hashed once. */
static char *
sha256_of (const char *path,
           gboolean    cached)
{
  static GHashTable *cache;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = NULL;
  const char *python = g_getenv ("BW_WEIGHTS_PYTHON");
  const char *known;
  gssize n;
  int fd;

  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  known = g_hash_table_lookup (cache, path);
  if (cached && known != NULL)
    return g_strdup (known);
  if (python != NULL)
    {
      /* OpenSSL's SHA-256: several times GChecksum's speed on 548 MB */
      const char *args[] = { python, "-c",
                             "import hashlib, sys\n"
                             "h = hashlib.sha256()\n"
                             "with open(sys.argv[1], 'rb') as f:\n"
                             "    for b in iter(lambda: f.read(1 << 20), b''): h.update(b)\n"
                             "print(h.hexdigest())\n", path, NULL };
      g_autofree char *out = NULL;
      g_autoptr(GError) error = NULL;
      int status = 0;

      g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_strstrip (out);
      g_assert_cmpuint (strlen (out), ==, 64);
      g_hash_table_insert (cache, g_strdup (path), g_strdup (out));
      return g_steal_pointer (&out);
    }
  buf = g_malloc (1 << 20);
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  while ((n = read (fd, buf, 1 << 20)) > 0)
    g_checksum_update (sum, buf, n);
  g_assert_cmpint (n, ==, 0);
  close (fd);
  g_hash_table_insert (cache, g_strdup (path), g_strdup (g_checksum_get_string (sum)));
  return g_strdup (g_checksum_get_string (sum));
}

static guint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

static float *
read_reference (void)
{
  g_autofree char *path = fixture ("reference.bin");
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, CONV_BYTES);
  return (float *) data;
}

/* The downloaded file holds VGG19's 26 tensors bit for bit as reference.bin has them, as
 * the loader reads them from @source (the file served), and its sidecar its checksum. */
static void
assert_downloaded (const char *dest,
                   const char *source)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) got = bw_weights_load (dest, &error);
  g_autoptr(BwWeights) want = NULL;
  g_autofree char *sidecar = g_strconcat (dest, ".sha256", NULL);
  g_autofree char *recorded = NULL;
  g_autofree char *actual = sha256_of (dest, FALSE);
  g_autofree char *base = g_path_get_basename (dest);
  g_autofree char *line = g_strdup_printf ("%s  %s\n", actual, base);
  gsize at = 0;

  g_assert_no_error (error);
  want = bw_weights_load (source, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bw_weights_get_n_tensors (got), ==, N_TENSORS);
  for (guint i = 0; i < BW_VGG19_N_CONVS; i++)
    for (int weight = 1; weight >= 0; weight--)
      {
        const BwVgg19Conv *conv = &bw_vgg19_convs[i];
        g_autofree char *name = g_strdup_printf ("features.%d.%s", conv->module,
                                                 weight ? "weight" : "bias");
        gsize n = weight ? (gsize) conv->out_channels * conv->in_channels * 9 : (gsize) conv->out_channels;
        const float *x = bw_weights_lookup (got, name, NULL, NULL);
        const float *y = bw_weights_lookup (want, name, NULL, NULL);

        g_assert_nonnull (x);
        g_assert_nonnull (y);
        g_assert_cmpmem (x, n * sizeof (float), reference + at, n * sizeof (float));
        g_assert_cmpmem (x, n * sizeof (float), y, n * sizeof (float));
        at += n;
      }

  g_assert_true (g_file_get_contents (sidecar, &recorded, NULL, NULL));
  g_assert_cmpstr (recorded, ==, line);
  g_assert_true (bw_weights_verify_download (dest, &error));
  g_assert_no_error (error);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The files in @dir, sorted, space-separated: what a run left behind. */
static char *
listing (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  /* NULL: a test that skipped before making its folder */
  if (dir == NULL || (d = g_dir_open (dir, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

typedef struct {
  char *dir;
  char *dest;
  char *url;
  char *source;       /* the fixture served */
  char *sha;
  BwDownloadOptions options;
  BwDownloadResult result;
} Run;

static void
run_init (Run        *run,
          const char *name)
{
  g_autoptr(GError) error = NULL;

  run->dir = g_dir_make_tmp ("bw-download-XXXXXX", &error);
  g_assert_no_error (error);
  run->dest = g_build_filename (run->dir, "vgg19-conv.safetensors", NULL);
  run->url = server_url ();
  run->source = fixture (name);
  run->sha = sha256_of (run->source, TRUE);
  run->options.url = run->url;
  run->options.sha256 = run->sha;
  run->options.manifest_path = "";
  run->options.retry_delay_ms = FAST_RETRY;
  server_serve (run->source);
}

static void
run_clear (Run *run)
{
  remove_dir (run->dir);
  g_free (run->dir);
  g_free (run->dest);
  g_free (run->url);
  g_free (run->source);
  g_free (run->sha);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

typedef struct {
  guint64 last;
  guint64 total;
  guint calls;
  gboolean monotonic;
  guint64 cancel_after;
  GCancellable *cancellable;
  const char *partial;    /* watched: the most it ever held */
  guint64 max_partial;
} ProgressLog;

static void
on_progress (guint64  done,
             guint64  total,
             double   rate,
             gpointer user_data)
{
  ProgressLog *log = user_data;

  if (log->calls > 0 && total == log->total)
    log->monotonic &= done >= log->last;
  g_assert_cmpuint (done, <=, total);
  g_assert_cmpfloat (rate, >=, 0);
  log->last = done;
  log->total = total;
  log->calls++;
  if (log->partial != NULL)
    log->max_partial = MAX (log->max_partial, file_size (log->partial));
  if (log->cancel_after > 0 && done >= log->cancel_after)
    g_cancellable_cancel (log->cancellable);
}

static gboolean
download (Run          *run,
          ProgressLog  *log,
          GCancellable *cancellable,
          GError      **error)
{
  return bw_weights_download_with_options (&run->options, run->dest, log != NULL ? on_progress : NULL,
                                           log, &run->result, cancellable, error);
}

/* One sentence for the user: one line, ending with a full stop. */
static void
assert_sentence (const GError *error,
                 const char   *says)
{
  g_test_message ("%s", error->message);
  g_assert_null (strchr (error->message, '\n'));
  g_assert_true (g_str_has_suffix (error->message, "."));
  if (strstr (error->message, says) == NULL)
    g_error ("“%s” does not say “%s”", error->message, says);
}

static gsize
peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (p = strstr (status, "VmHWM:")) == NULL)
    return 0;
  return g_ascii_strtoull (p + strlen ("VmHWM:"), NULL, 10);
}

/* Tests. */

/* bw-sha256 equals GChecksum, whatever the pieces, and resumes from its saved state; with
 * the CPU's SHA instructions and without. */
static void
test_sha256 (gconstpointer accelerate)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (31337);
  gsize big = 3 * 1024 * 1024 + 17;
  g_autofree guint8 *data = g_malloc (big);
  BwSha256 s;

  if (bw_sha256_accelerate (GPOINTER_TO_INT (accelerate)) != GPOINTER_TO_INT (accelerate))
    {
      bw_sha256_accelerate (TRUE);
      g_test_skip ("this CPU has no SHA instructions");
      return;
    }
  for (gsize i = 0; i < big; i++)
    data[i] = g_rand_int (rand);
  /* every length up to three blocks, then a few long ones */
  for (int round = 0; round < 220; round++)
    {
      gsize len = round < 200 ? (gsize) round : (gsize) g_rand_int_range (rand, 0, big + 1);
      g_autofree char *want = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
      g_autofree char *got = NULL;
      gsize at = 0;

      bw_sha256_init (&s);
      while (at < len)
        {
          gsize piece = g_rand_int_range (rand, 0, 200);   /* not inside MIN(): evaluated twice */
          gsize n = MIN (len - at, piece);

          bw_sha256_update (&s, data + at, n);
          at += n;
          if (g_rand_int_range (rand, 0, 4) == 0)
            {
              g_autofree char *saved = bw_sha256_save (&s);
              BwSha256 restored;

              memset (&restored, 0xa5, sizeof restored);
              g_assert_true (bw_sha256_restore (&restored, saved));
              s = restored;
            }
          if (n == 0 && at < len)
            {
              piece = g_rand_int_range (rand, 1, 100000);
              n = MIN (len - at, piece);
              bw_sha256_update (&s, data + at, n);
              at += n;
            }
        }
      got = bw_sha256_finish_hex (&s);
      g_assert_cmpstr (got, ==, want);
    }

  g_assert_false (bw_sha256_restore (&s, NULL));
  g_assert_false (bw_sha256_restore (&s, "sha256:3:"));
  g_assert_false (bw_sha256_restore (&s, "sha256:3:6A09E667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19:616263"));
  g_assert_false (bw_sha256_restore (&s, "sha256:3:6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19:6162"));
  g_assert_true (bw_sha256_restore (&s, "sha256:3:6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19:616263"));
  {
    g_autofree char *abc = bw_sha256_finish_hex (&s);

    g_assert_cmpstr (abc, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
  bw_sha256_accelerate (TRUE);
}

static void
test_default_path (void)
{
  g_autofree char *path = bw_weights_default_path ();
  g_autofree char *want = g_build_filename (g_get_user_cache_dir (), "brushwork",
                                            "vgg19-conv.safetensors", NULL);

  g_assert_cmpstr (path, ==, want);
}

/* The official file's format at its full size: one pass, only the convs on disk. */
static void
test_whole_legacy (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = NULL;
  g_autofree char *left = NULL;
  g_autofree char *want_left = NULL;
  ProgressLog log = { .monotonic = TRUE };
  gsize rss_before, rss_after;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-full-legacy.pth");
  partial = g_strconcat (run.dest, ".download", NULL);
  log.partial = partial;
  rss_before = peak_rss_kb ();

  g_assert_true (download (&run, &log, NULL, &error));
  g_assert_no_error (error);
  rss_after = peak_rss_kb ();
  assert_downloaded (run.dest, run.source);
  g_test_message ("whole file: served %" G_GUINT64_FORMAT " bytes; at most %" G_GUINT64_FORMAT
                  " kept on disk; peak RSS %" G_GSIZE_FORMAT " -> %" G_GSIZE_FORMAT " kB",
                  served (), log.max_partial, rss_before, rss_after);
  g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_WHOLE_FILE);
  g_assert_cmpuint (served (), ==, server.size);
  g_assert_cmpuint (run.result.bytes_received, ==, server.size);
  g_assert_cmpuint (run.result.resumed_at, ==, 0);
  g_assert_cmpuint (n_requests (), ==, 1);
  g_assert_cmpstr (request (0)->range, ==, "");
  g_assert_true (log.monotonic);
  g_assert_cmpuint (log.last, ==, server.size);
  g_assert_cmpuint (log.total, ==, server.size);
  /* the classifier (480 MB) never reached the disk */
  g_assert_cmpuint (log.max_partial, >, 0);
  g_assert_cmpuint (log.max_partial, <, CONV_BYTES + 64 * 1024 * 1024 / 16);
#ifndef __SANITIZE_ADDRESS__
  /* nor memory: the convs (52 MB) a few times over, not the file */
  if (rss_before > 0)
    g_assert_cmpuint (rss_after, <, rss_before + 300 * 1024);
#endif

  left = listing (run.dir);
  want_left = g_strdup ("vgg19-conv.safetensors vgg19-conv.safetensors.sha256");
  g_assert_cmpstr (left, ==, want_left);
}

static char *
write_manifest (Run        *run,
                const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = bw_weights_make_manifest (run->source, &error);
  char *path = g_build_filename (run->dir, name, NULL);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, json, -1, &error));
  g_assert_no_error (error);
  return path;
}

/* Only the convs' ranges, each verified. */
static void
test_manifest (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest = NULL;
  ProgressLog log = { .monotonic = TRUE };

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-full-legacy.pth");
  manifest = write_manifest (&run, "manifest.json");
  run.options.manifest_path = manifest;
  g_assert_true (download (&run, &log, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_test_message ("ranges: served %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes in %u requests",
                  served (), server.size, n_requests ());
  g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_RANGES);
  g_assert_cmpuint (served (), >=, CONV_BYTES);
  g_assert_cmpuint (served (), <=, CONV_BYTES + RANGES_SLACK);
  g_assert_cmpuint (run.result.bytes_received, ==, served ());
  for (guint i = 0; i < n_requests (); i++)
    {
      g_assert_true (g_str_has_prefix (request (i)->range, "bytes="));
      g_assert_cmpstr (request (i)->if_range, ==, "");   /* nothing to resume */
    }
  g_assert_true (log.monotonic);
  g_assert_cmpuint (log.total, ==, CONV_BYTES);
  g_assert_cmpuint (log.last, ==, CONV_BYTES);
}

/* A server that answers Range with the whole file: the whole-file way, still verified. */
static void
test_manifest_ignored (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest = NULL;
  ProgressLog log = { .monotonic = TRUE };

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  manifest = write_manifest (&run, "manifest.json");
  run.options.manifest_path = manifest;
  server.ignore_range = TRUE;
  g_assert_true (download (&run, &log, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_WHOLE_FILE);
  g_assert_cmpuint (n_requests (), ==, 2);
  g_assert_true (g_str_has_prefix (request (0)->range, "bytes="));
  g_assert_cmpstr (request (1)->range, ==, "");
  g_assert_cmpuint (log.last, ==, server.size);
  g_assert_cmpuint (log.total, ==, server.size);
}

/* Cut at 40% with no retry: the run fails, keeping what it had; the next run asks for the
 * rest only, from exactly where the first stopped. */
static void
test_interrupted (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = NULL;
  g_autofree char *want_range = NULL;
  guint64 cut;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  partial = g_strconcat (run.dest, ".download", NULL);
  cut = server.size * 2 / 5 + 12345;
  server.cut_at = cut;
  run.options.max_attempts = 1;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  assert_sentence (error, "Could not download VGG19's weights from 127.0.0.1: ");
  assert_sentence (error, "Check your internet connection");
  g_clear_error (&error);
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (file_size (partial), >, 0);

  server_forget ();
  run.options.max_attempts = 0;
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_test_message ("cut at %" G_GUINT64_FORMAT "; the rerun fetched %" G_GUINT64_FORMAT " of %"
                  G_GUINT64_FORMAT, cut, served (), server.size);
  g_assert_cmpuint (run.result.resumed_at, ==, cut);
  g_assert_cmpuint (served (), ==, server.size - cut);
  g_assert_cmpuint (n_requests (), ==, 1);
  want_range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", cut);
  g_assert_cmpstr (request (0)->range, ==, want_range);
  g_assert_cmpstr (request (0)->if_range, ==, server.etag);
}

/* A cut within a run is retried from where it stopped. */
static void
test_cut_retried (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  ProgressLog log = { .monotonic = TRUE };

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  server.cut_at = server.size / 3;
  g_assert_true (download (&run, &log, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_assert_cmpuint (n_requests (), ==, 2);
  g_assert_true (g_str_has_prefix (request (1)->range, "bytes="));
  g_assert_cmpuint (served (), ==, server.size);
  g_assert_true (log.monotonic);
  g_assert_cmpuint (log.last, ==, server.size);
}

/* 500 three times, then success; 500 for ever, then a sentence. */
static void
test_retry_500 (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  server.fail_next = 3;
  run.options.max_attempts = 5;
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_assert_cmpuint (n_requests (), ==, 4);

  g_unlink (run.dest);
  server_forget ();
  server.fail_next = 1000;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  assert_sentence (error, "from 127.0.0.1: the server answered 500 Internal Server Error");
  g_assert_cmpuint (n_requests (), ==, 5);
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
}

/* Cancelled from the progress callback: no file, and the next run takes up exactly there.
 * The body is paced (~1.5 s in all): the callback comes at most every 100 ms, and on loopback
 * the whole file can arrive between two calls, when the cancel would come too late. */
static void
test_cancel (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ProgressLog log = { .monotonic = TRUE, .cancellable = cancellable };

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  server.pace_us = 5000;
  log.cancel_after = server.size * 3 / 10;
  g_assert_false (download (&run, &log, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_sentence (error, "stopped");
  g_clear_error (&error);
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (log.last, >=, log.cancel_after);
  g_assert_cmpuint (log.last, <, server.size);

  server_forget ();
  server.pace_us = 0;
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_assert_cmpuint (run.result.resumed_at, ==, log.last);
  g_assert_cmpuint (served (), ==, server.size - log.last);
}

/* A download on a thread of its own, to be cancelled from this one. */
typedef struct {
  Run *run;
  GCancellable *cancellable;
  GMutex lock;
  GCond finished;
  gboolean done;
  gboolean ok;
  GError *error;
} Background;

static gpointer
background_thread (gpointer data)
{
  Background *b = data;
  GError *error = NULL;
  gboolean ok = download (b->run, NULL, b->cancellable, &error);

  g_mutex_lock (&b->lock);
  b->ok = ok;
  b->error = error;
  b->done = TRUE;
  g_cond_signal (&b->finished);
  g_mutex_unlock (&b->lock);
  return NULL;
}

/* Until the server holds @n connections silent or stalled; 60 s is only a bound for "this
 * test hangs" (the client's start under a sanitizer can be slow). */
static void
server_wait_holding (guint n)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&server.lock);
  while (server.holding < n)
    if (!g_cond_wait_until (&server.held, &server.lock, deadline))
      g_error ("the download never reached the server");
  g_mutex_unlock (&server.lock);
}

/* Cancels the download on @thread, which must then end: within 5 s, a bound for "it did not
 * hang" only (each wait tried here lasts 60 s or more when nothing stops it). */
static void
cancel_and_join (Background *b,
                 GThread    *thread)
{
  gint64 cancelled = g_get_monotonic_time ();
  gint64 deadline = cancelled + 5 * G_TIME_SPAN_SECOND;

  g_cancellable_cancel (b->cancellable);
  g_mutex_lock (&b->lock);
  while (!b->done)
    if (!g_cond_wait_until (&b->finished, &b->lock, deadline))
      g_error ("the download went on for 5 s after it was cancelled");
  g_mutex_unlock (&b->lock);
  g_thread_join (thread);
  g_test_message ("ended %.3f s after the cancel", (g_get_monotonic_time () - cancelled) / 1e6);
  g_assert_false (b->ok);
  g_assert_error (b->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_sentence (b->error, "stopped");
  g_clear_error (&b->error);
}

/* Cancelling ends every wait at once, not only the reading of data: a server that never
 * answers, one that stops sending midway, the back-off between retries, and another run's
 * lock. */
static void
test_cancel_waits (gconstpointer data)
{
  const char *which = data;
  g_auto(Run) run = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Background b = { .run = &run, .cancellable = cancellable };
  GThread *thread;
  int lock_fd = -1;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  if (g_str_equal (which, "silent"))
    server.silent = TRUE;
  else if (g_str_equal (which, "stalled"))
    server.stall_at = server.size / 3;
  else if (g_str_equal (which, "back-off"))
    {
      server.fail_next = 1000;
      run.options.retry_delay_ms = 60 * 1000;
    }
  else
    {
      g_autofree char *lock = g_strconcat (run.dest, ".lock", NULL);

      /* another run's lock: flock() locks conflict between two open()s, in one process too */
      lock_fd = g_open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      g_assert_cmpint (lock_fd, >=, 0);
      g_assert_cmpint (flock (lock_fd, LOCK_EX), ==, 0);
    }

  g_mutex_init (&b.lock);
  g_cond_init (&b.finished);
  thread = g_thread_new ("download", background_thread, &b);
  if (server.silent || server.stall_at > 0)
    server_wait_holding (1);
  else if (server.fail_next > 0)
    {
      gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

      while (n_requests () == 0 && g_get_monotonic_time () < deadline)
        g_usleep (10 * 1000);
      g_assert_cmpuint (n_requests (), ==, 1);
    }
  else
    g_usleep (500 * 1000);   /* no sign of waiting for a lock; cancelled any earlier, it ends too */
  g_usleep (100 * 1000);     /* into the wait */
  cancel_and_join (&b, thread);
  g_mutex_clear (&b.lock);
  g_cond_clear (&b.finished);
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
  if (lock_fd >= 0)
    close (lock_fd);

  /* after a stall, the next run takes up from the byte the cancelled one reached */
  if (g_str_equal (which, "stalled"))
    {
      guint64 first = run.result.bytes_received;

      g_assert_cmpuint (first, >, 0);
      server_forget ();
      g_assert_true (download (&run, NULL, NULL, &error));
      g_assert_no_error (error);
      assert_downloaded (run.dest, run.source);
      g_assert_cmpuint (run.result.resumed_at, ==, first);
      g_assert_cmpuint (served (), ==, server.size - first);
    }
}

/* Mounts a tmpfs of @size on @dir, or changes its size when @remount. */
static void
mount_tmpfs (const char *dir,
             const char *size,
             gboolean    remount)
{
  g_autofree char *options = g_strdup_printf ("size=%s,mode=0700", size);

  if (mount ("tmpfs", dir, "tmpfs", remount ? MS_REMOUNT : 0, options) != 0)
    g_error ("mount tmpfs on %s: %s", dir, g_strerror (errno));
}

/* The cache folder fills up (a 24 MB tmpfs; ~52 MB are kept): the sentence says to free
 * space, and what was written stays, so that the next run, once there is room, goes on from
 * where the download stopped rather than from byte 0. The whole file, or by ranges. */
static void
test_disk_full (gconstpointer ranges)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = NULL;
  g_autofree char *state = NULL;
  g_autofree char *manifest = NULL;

  if (!need_fixtures ())
    return;
  if (no_mounts != NULL)
    {
      g_test_skip (no_mounts);
      return;
    }
  run_init (&run, "vgg19-features-legacy.pth");
  partial = g_strconcat (run.dest, ".download", NULL);
  state = g_strconcat (run.dest, ".download.state", NULL);
  if (ranges)
    {
      /* outside the small file system, as the user's would be */
      g_autofree char *written = write_manifest (&run, "manifest.json");

      manifest = g_strconcat (run.dir, ".json", NULL);
      g_assert_cmpint (g_rename (written, manifest), ==, 0);
      run.options.manifest_path = manifest;
    }
  mount_tmpfs (run.dir, "24m", FALSE);
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  assert_sentence (error, "Free some space there and run again (the download resumes)");
  g_clear_error (&error);
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (file_size (partial), >, 0);
  g_assert_true (g_file_test (state, G_FILE_TEST_IS_REGULAR));

  /* room for the kept bytes and the result beside them */
  mount_tmpfs (run.dir, "256m", TRUE);
  server_forget ();
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_test_message ("disk full: the rerun resumed at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
                  run.result.resumed_at, server.size);
  g_assert_cmpuint (run.result.resumed_at, >, 0);
  if (ranges)
    {
      g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_RANGES);
      g_assert_cmpuint (served (), <=, CONV_BYTES - run.result.resumed_at + RANGES_SLACK);
      g_unlink (manifest);
    }
  else
    g_assert_cmpuint (served (), ==, server.size - run.result.resumed_at);
  g_assert_cmpint (umount2 (run.dir, MNT_DETACH), ==, 0);
}

/* A wrong checksum, given or from a wrong byte sent: nothing is used, nothing is kept. */
static void
test_wrong_checksum (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *left = NULL;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  run.options.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_sentence (error, "is not VGG19's published weights");
  g_clear_error (&error);
  left = listing (run.dir);
  g_assert_cmpstr (left, ==, "");

  /* the right checksum, a byte changed on the way in a storage we keep */
  run.options.sha256 = run.sha;
  server.corrupt_at = server.size / 2;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_clear_pointer (&left, g_free);
  left = listing (run.dir);
  g_assert_cmpstr (left, ==, "");
}

/* Ranges: cut in the middle with no retry; the rerun fetches only what is missing. */
/* The offset halfway through the bytes a manifest run asks for, found by one run without a
 * cut: the ranges follow the tensors' places in the file, which torch's writer chooses (2.6
 * leaves a gap around the file's half where 1.13 did not), and a cut only happens inside a
 * range asked for. */
static guint64
middle_of_requested (Run *run)
{
  g_autoptr(GError) error = NULL;
  guint64 total = 0, half, middle = 0;

  g_assert_true (download (run, NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint pass = 0; pass < 2 && middle == 0; pass++)
    {
      guint64 sum = 0;

      half = total / 2;
      for (guint i = 0; i < n_requests (); i++)
        {
          guint64 start, end;

          g_assert_true (parse_range (request (i)->range, server.size, &start, &end));
          if (pass == 1 && half >= sum && half < sum + (end - start))
            {
              middle = start + (half - sum);
              break;
            }
          sum += end - start;
        }
      total = sum;
    }
  g_assert_cmpuint (middle, >, 0);
  g_assert_cmpuint (g_unlink (run->dest), ==, 0);
  server_forget ();
  return middle;
}

static void
test_manifest_resume (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest = NULL;
  guint64 first;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  manifest = write_manifest (&run, "manifest.json");
  run.options.manifest_path = manifest;
  run.options.max_attempts = 1;
  server.cut_at = middle_of_requested (&run);
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  g_clear_error (&error);
  first = served ();

  server_forget ();
  run.options.max_attempts = 0;
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_test_message ("ranges: the first run got %" G_GUINT64_FORMAT " bytes, the rerun %" G_GUINT64_FORMAT
                  " (resumed at %" G_GUINT64_FORMAT ")", first, served (), run.result.resumed_at);
  g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_RANGES);
  g_assert_cmpuint (run.result.resumed_at, >, 0);
  g_assert_cmpuint (first + served (), <=, CONV_BYTES + RANGES_SLACK);
  g_assert_cmpuint (first + served (), >=, CONV_BYTES);
}

/* Ranges: a byte wrong in one tensor names it, and nothing is installed. */
static void
test_manifest_corrupt (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *json = NULL;
  const char *p;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  manifest = write_manifest (&run, "manifest.json");
  run.options.manifest_path = manifest;
  g_assert_true (g_file_get_contents (manifest, &json, NULL, NULL));
  p = strstr (json, "\"features.5.weight\"");
  g_assert_nonnull (p);
  p = strstr (p, "\"offset\": ");
  server.corrupt_at = g_ascii_strtoll (p + strlen ("\"offset\": "), NULL, 10) + 1000;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_sentence (error, "Tensor features.5.weight downloaded from 127.0.0.1 does not match");
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
}

/* PyTorch's zip format: kept whole until verified, then reduced. */
static void
test_zip (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  ProgressLog log = { .monotonic = TRUE };

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features.pth");
  g_assert_true (download (&run, &log, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_assert_cmpuint (served (), ==, server.size);
  g_assert_cmpuint (log.last, ==, server.size);
}

/* Interrupted on one file, resumed when the server has another (and we expect it): the
 * partial state is for another file, so the rerun starts afresh. */
static void
test_changed_file (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *other = NULL;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  server.cut_at = server.size / 2;
  run.options.max_attempts = 1;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_clear_error (&error);

  other = fixture ("vgg19-old-legacy.pth");
  server_serve (other);
  g_free (run.sha);
  run.sha = sha256_of (other, TRUE);
  run.options.sha256 = run.sha;
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_downloaded (run.dest, other);
  g_assert_cmpuint (run.result.resumed_at, ==, 0);
  g_assert_cmpuint (served (), ==, server.size);
  g_assert_cmpstr (request (0)->range, ==, "");
}

/* What the user reads when things go wrong. */
static void
test_errors (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *html = NULL;
  g_autofree char *bad_manifest = NULL;
  g_autofree char *closed = NULL;
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  BwDownloadOptions options;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  options = run.options;

  /* nothing listening */
  probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (probe, address, TRUE, &error));
  bound = g_socket_get_local_address (probe, &error);
  g_assert_no_error (error);
  closed = g_strdup_printf ("http://127.0.0.1:%u/vgg19.pth",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (probe, NULL);
  run.options.url = closed;
  run.options.max_attempts = 2;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  assert_sentence (error, "Could not download VGG19's weights from 127.0.0.1: ");
  assert_sentence (error, "Check your internet connection and run again (the download resumes), "
                   "or pass a local copy with --weights FILE.");
  g_clear_error (&error);

  /* 404: no retry */
  run.options = options;
  server.status = 404;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_sentence (error, "the server answered 404 Not Found");
  g_assert_cmpuint (n_requests (), ==, 1);
  g_clear_error (&error);

  /* a captive portal's page */
  html = g_build_filename (run.dir, "portal.html", NULL);
  g_assert_true (g_file_set_contents (html, "<!DOCTYPE html><html><body>Log in</body></html>", -1, NULL));
  server_serve (html);
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_sentence (error, "the server sent something other than a weights file");
  g_clear_error (&error);
  g_unlink (html);

  /* settings */
  run.options.sha256 = "not-a-checksum";
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_sentence (error, "is not a SHA-256 checksum");
  g_clear_error (&error);
  run.options = options;
  run.options.url = "ftp://example.org/vgg19.pth";
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_sentence (error, "is not an http or https address");
  g_clear_error (&error);

  /* manifests */
  run.options = options;
  bad_manifest = g_build_filename (run.dir, "bad.json", NULL);
  g_assert_true (g_file_set_contents (bad_manifest, "{\"size\": 5, \"tensors\": [", -1, NULL));
  run.options.manifest_path = bad_manifest;
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_sentence (error, "The weights manifest “bad.json” is not valid: it is not JSON (");
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (bad_manifest,
                                      "{\"size\": 100, \"tensors\": [{\"name\": \"features.0.weight\", "
                                      "\"dtype\": \"F32\", \"shape\": [64, 3, 3, 3], \"offset\": 0, "
                                      "\"length\": 6912, \"sha256\": \"00\"}]}", -1, NULL));
  g_assert_false (download (&run, NULL, NULL, &error));
  assert_sentence (error, "is not valid: the sha256 of tensor features.0.weight");
  g_clear_error (&error);
  run.options.manifest_path = "/nonexistent/manifest.json";
  g_assert_false (download (&run, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_sentence (error, "Could not read the weights manifest “manifest.json”");
  g_clear_error (&error);

  /* a manifest for another file: its size is not the server's */
  {
    g_autofree char *other_source = fixture ("vgg19-full-legacy.pth");
    g_autofree char *json = bw_weights_make_manifest (other_source, &error);
    g_autofree char *other = g_build_filename (run.dir, "other.json", NULL);

    g_assert_no_error (error);
    g_assert_true (g_file_set_contents (other, json, -1, NULL));
    server_serve (run.source);
    run.options.manifest_path = other;
    g_assert_false (download (&run, NULL, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    assert_sentence (error, "Make the manifest again from the current file.");
    g_clear_error (&error);
  }
  g_assert_false (g_file_test (run.dest, G_FILE_TEST_EXISTS));
}

/* BRUSHWORK_WEIGHTS_URL, _SHA256 and _MANIFEST, through the plain call. */
static void
test_environment (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest = NULL;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  manifest = write_manifest (&run, "manifest.json");
  g_setenv ("BRUSHWORK_WEIGHTS_URL", run.url, TRUE);
  g_setenv ("BRUSHWORK_WEIGHTS_SHA256", run.sha, TRUE);
  g_setenv ("BRUSHWORK_WEIGHTS_MANIFEST", manifest, TRUE);
  g_assert_true (bw_weights_download (NULL, NULL, run.dest, NULL, NULL, NULL, &error));
  g_unsetenv ("BRUSHWORK_WEIGHTS_URL");
  g_unsetenv ("BRUSHWORK_WEIGHTS_SHA256");
  g_unsetenv ("BRUSHWORK_WEIGHTS_MANIFEST");
  g_assert_no_error (error);
  assert_downloaded (run.dest, run.source);
  g_assert_cmpuint (served (), <=, CONV_BYTES + RANGES_SLACK);
}

/* Two at once to one destination: one downloads, the other waits and finds it done. */
typedef struct {
  Run *run;
  BwDownloadResult result;
  gboolean ok;
  GMutex lock;
  GCond started;
  gboolean has_started;
} Concurrent;

static void
on_first_progress (guint64  done,
                   guint64  total,
                   double   rate,
                   gpointer user_data)
{
  Concurrent *c = user_data;
  gboolean first;

  g_mutex_lock (&c->lock);
  first = !c->has_started;
  c->has_started = TRUE;
  g_cond_signal (&c->started);
  g_mutex_unlock (&c->lock);
  /* hold on to the download, so that the other one surely finds it under way */
  if (first)
    g_usleep (300 * 1000);
}

static gpointer
concurrent_thread (gpointer data)
{
  Concurrent *c = data;
  g_autoptr(GError) error = NULL;

  c->ok = bw_weights_download_with_options (&c->run->options, c->run->dest, on_first_progress, c,
                                            &c->result, NULL, &error);
  g_assert_no_error (error);
  return NULL;
}

static void
test_concurrent (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  Concurrent c = { 0 };
  GThread *thread;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  c.run = &run;
  thread = g_thread_new ("first", concurrent_thread, &c);
  g_mutex_lock (&c.lock);
  while (!c.has_started)
    g_cond_wait (&c.started, &c.lock);
  g_mutex_unlock (&c.lock);

  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_true (c.ok);
  g_assert_cmpint (c.result.method, ==, BW_DOWNLOAD_WHOLE_FILE);
  g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_DONE_ELSEWHERE);
  g_assert_cmpuint (served (), ==, server.size);
  assert_downloaded (run.dest, run.source);
}

/* Another run installed the weights just before this one took the lock, so this one never
 * waited (it had looked in the cache a moment earlier, and found nothing): it finds them
 * there once it holds the lock, and fetches nothing. */
static void
test_done_before_lock (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  g_assert_true (download (&run, NULL, NULL, &error));   /* the other run */
  g_assert_no_error (error);
  server_forget ();
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (run.result.method, ==, BW_DOWNLOAD_DONE_ELSEWHERE);
  g_assert_cmpuint (n_requests (), ==, 0);
  g_assert_cmpuint (run.result.bytes_received, ==, 0);
  assert_downloaded (run.dest, run.source);
}

/* A file changed after its download no longer matches its sidecar. */
static void
test_verify (void)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sidecar = NULL;
  int fd;

  if (!need_fixtures ())
    return;
  run_init (&run, "vgg19-features-legacy.pth");
  g_assert_true (download (&run, NULL, NULL, &error));
  g_assert_no_error (error);
  fd = g_open (run.dest, O_WRONLY, 0);
  g_assert_cmpint (pwrite (fd, "x", 1, 1000), ==, 1);
  close (fd);
  g_assert_false (bw_weights_verify_download (run.dest, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_sentence (error, "has changed since it was downloaded");
  g_clear_error (&error);
  sidecar = g_strconcat (run.dest, ".sha256", NULL);
  g_unlink (sidecar);
  g_assert_false (bw_weights_verify_download (run.dest, &error));
  assert_sentence (error, "has no record of its checksum");
}

/* Fixtures, as test-weights.c makes them. */

static gint64
mtime (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_mtime : -1;
}

static void
make_fixtures (const char *dir)
{
  const char *python = g_getenv ("BW_WEIGHTS_PYTHON");
  const char *script = g_getenv ("BW_WEIGHTS_FIXTURE_SCRIPT");
  g_autofree char *stamp = g_strconcat (dir, ".stamp", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *args[5];
  int status = 0;

  if (python == NULL || script == NULL)
    return;
  if (mtime (stamp) >= 0 && mtime (stamp) >= mtime (script) && g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  g_unlink (stamp);
  args[0] = python;
  args[1] = script;
  args[2] = dir;
  args[3] = stamp;
  args[4] = NULL;
  g_test_message ("writing fixtures: %s %s %s", python, script, dir);
  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("make_fixtures.py failed:\n%s%s", out, err);
}

int
main (int    argc,
      char **argv)
{
  const char *dir;
  g_autofree char *stamp = NULL;
  int ret;

  /* loopback only, never through a proxy */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");
  g_unsetenv ("BRUSHWORK_WEIGHTS_URL");
  g_unsetenv ("BRUSHWORK_WEIGHTS_SHA256");
  g_unsetenv ("BRUSHWORK_WEIGHTS_MANIFEST");
  /* The full-disk test mounts a small tmpfs: in a mount namespace of this process alone, so
   * that no mount outlives it or shows outside; unshare() must come before any thread. */
  if (geteuid () != 0)
    no_mounts = g_strdup ("not root, so no small tmpfs can be mounted to fill up");
  else if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    no_mounts = g_strdup_printf ("no mount namespace of its own (%s), so no small tmpfs to fill up",
                                 g_strerror (errno));
  g_test_init (&argc, &argv, NULL);

  dir = g_getenv ("BW_WEIGHTS_FIXTURES");
  if (argc > 1)
    dir = argv[1];
  if (dir != NULL)
    make_fixtures (dir);
  if (dir != NULL && g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      fixtures = g_strdup (dir);
      reference = read_reference ();
    }
  server_start ();

  g_test_add_data_func ("/weights-download/sha256/portable", GINT_TO_POINTER (FALSE), test_sha256);
  g_test_add_data_func ("/weights-download/sha256/sha-ni", GINT_TO_POINTER (TRUE), test_sha256);
  g_test_add_func ("/weights-download/default-path", test_default_path);
  /* first, so that the peak memory it checks is its own */
  g_test_add_func ("/weights-download/whole-legacy", test_whole_legacy);
  g_test_add_func ("/weights-download/manifest", test_manifest);
  g_test_add_func ("/weights-download/manifest-range-ignored", test_manifest_ignored);
  g_test_add_func ("/weights-download/manifest-resume", test_manifest_resume);
  g_test_add_func ("/weights-download/manifest-corrupt", test_manifest_corrupt);
  g_test_add_func ("/weights-download/interrupted", test_interrupted);
  g_test_add_func ("/weights-download/cut-retried", test_cut_retried);
  g_test_add_func ("/weights-download/retry-500", test_retry_500);
  g_test_add_func ("/weights-download/cancel", test_cancel);
  g_test_add_data_func ("/weights-download/cancel-waits/silent", "silent", test_cancel_waits);
  g_test_add_data_func ("/weights-download/cancel-waits/stalled", "stalled", test_cancel_waits);
  g_test_add_data_func ("/weights-download/cancel-waits/back-off", "back-off", test_cancel_waits);
  g_test_add_data_func ("/weights-download/cancel-waits/lock", "lock", test_cancel_waits);
  g_test_add_data_func ("/weights-download/disk-full/whole", GINT_TO_POINTER (FALSE), test_disk_full);
  g_test_add_data_func ("/weights-download/disk-full/ranges", GINT_TO_POINTER (TRUE), test_disk_full);
  g_test_add_func ("/weights-download/wrong-checksum", test_wrong_checksum);
  g_test_add_func ("/weights-download/zip", test_zip);
  g_test_add_func ("/weights-download/changed-file", test_changed_file);
  g_test_add_func ("/weights-download/errors", test_errors);
  g_test_add_func ("/weights-download/environment", test_environment);
  g_test_add_func ("/weights-download/concurrent", test_concurrent);
  g_test_add_func ("/weights-download/done-before-lock", test_done_before_lock);
  g_test_add_func ("/weights-download/verify", test_verify);
  ret = g_test_run ();

  server_stop ();
  g_free (reference);
  g_free (fixtures);
  g_free (no_mounts);
  return ret;
}
