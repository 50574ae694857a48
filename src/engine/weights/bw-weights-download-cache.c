/* bw-weights-download-cache.c: the download's files in the cache.
 *
 *   DEST                  the conv layers, as safetensors; DEST.sha256 its checksum, in
 *                         sha256sum's format; both renamed into place when complete
 *   DEST.lock             one download per destination at a time (flock)
 *   DEST.download         the bytes kept so far; DEST.download.state, a key file, what they
 *                         are (which consumer, how far, the hash's running state), saved only
 *                         once the bytes it vouches for are synced
 */
#include "bw-i18n.h"
#include "bw-weights-download-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bw-sha256.h"


char *
bw_weights_default_path (void)
{
  return g_build_filename (g_get_user_cache_dir (), "brushwork", "vgg19-conv.safetensors", NULL);
}

gboolean
bw_dl_save_error (Download    *dl,
                  GError     **error,
                  GQuark       domain,
                  int          code,
                  const char  *reason)
{
  g_autofree char *dir = g_path_get_dirname (dl->dest);
  g_autofree char *dir_display = g_filename_display_name (dir);
  g_autofree char *why = bw_dl_reason_text (reason);

  dl->cache_failed = TRUE;
  g_set_error (error, domain, code,
               _("Could not save VGG19's weights in “%s”: %s. Free some space there and run "
                 "again (the download resumes), or pass a local copy with --weights FILE."),
               dir_display, why);
  return FALSE;
}

gboolean
bw_dl_errno_error (Download  *dl,
                   GError   **error,
                   int        saved_errno)
{
  return bw_dl_save_error (dl, error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                           g_strerror (saved_errno));
}

/* The partial file and its state. */

gboolean
bw_dl_write_at (Download      *dl,
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
        return bw_dl_errno_error (dl, error, n < 0 ? errno : ENOSPC);
      data += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

gboolean
bw_dl_read_at (int      fd,
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

int
bw_dl_open_partial (Download  *dl,
                    GError   **error)
{
  int fd = g_open (dl->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

  if (fd < 0)
    bw_dl_errno_error (dl, error, errno);
  return fd;
}

void
bw_dl_forget_partial (Download *dl)
{
  g_unlink (dl->partial);
  g_unlink (dl->state_path);
}

/* The state file, or NULL when there is none we can use. */
GKeyFile *
bw_dl_load_state (Download   *dl,
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

guint64
bw_dl_state_uint (GKeyFile   *kf,
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

void
bw_dl_state_set_uint (GKeyFile   *kf,
                      const char *key,
                      guint64     v)
{
  g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, v);

  g_key_file_set_string (kf, "download", key, s);
}

/* Called once the kept bytes it vouches for are on disk. A state that cannot be written only
 * costs the next run its head start, so that is not an error. */
void
bw_dl_save_state (Download *dl,
                  GKeyFile *kf)
{
  g_autoptr(GError) error = NULL;

  g_key_file_set_string (kf, "download", "url", dl->url);
  bw_dl_state_set_uint (kf, "size", dl->size);
  if (dl->validator != NULL)
    g_key_file_set_string (kf, "download", "validator", dl->validator);
  if (!g_key_file_save_to_file (kf, dl->state_path, &error))
    g_debug ("Could not save the download's state: %s", error->message);
}

void
bw_dl_restore_common (Download *dl,
                      GKeyFile *kf)
{
  g_autofree char *url = g_key_file_get_string (kf, "download", "url", NULL);
  gboolean ok = TRUE;

  dl->size = bw_dl_state_uint (kf, "size", &ok);
  if (!ok)
    dl->size = 0;
  /* a validator belongs to the server that gave it */
  if (g_strcmp0 (url, dl->url) == 0)
    dl->validator = g_key_file_get_string (kf, "download", "validator", NULL);
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
gboolean
bw_dl_install (Download   *dl,
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
    bw_dl_save_error (dl, error, local->domain, local->code, local->message);
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
int
bw_dl_lock_dest (Download  *dl,
                 GError   **error)
{
  g_autofree char *path = g_strconcat (dl->dest, ".lock", NULL);

  while (TRUE)
    {
      int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      struct stat held, now;

      if (fd < 0)
        {
          bw_dl_errno_error (dl, error, errno);
          return -1;
        }
      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          int saved = errno;

          if (saved != EWOULDBLOCK && saved != EINTR)
            return fd;   /* a file system without locks: go on unlocked */
          close (fd);
          if (!bw_dl_sleep_ms (dl, 200, error))
            return -1;
          continue;
        }
      if (fstat (fd, &held) == 0 && g_stat (path, &now) == 0 &&
          held.st_ino == now.st_ino && held.st_dev == now.st_dev)
        return fd;
      close (fd);
    }
}

void
bw_dl_unlock_dest (Download *dl,
                   int       fd)
{
  g_autofree char *path = g_strconcat (dl->dest, ".lock", NULL);

  g_unlink (path);
  close (fd);
}

