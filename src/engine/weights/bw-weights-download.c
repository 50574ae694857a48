/* bw-weights-download.c: see bw-weights-download.h for what it does, and
 * bw-weights-download-private.h for which file does which part.
 *
 * This file: the settings, one download per destination at a time, which way (ranges with a
 * manifest, else the whole file, also when a server ignores Range), installing the result.
 */
#include "bw-i18n.h"
#include "bw-weights-download-private.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#define DEFAULT_ATTEMPTS 4
#define DEFAULT_DELAY_MS 1000

static const char *
env_or (const char *name,
        const char *fallback)
{
  const char *v = g_getenv (name);

  return v != NULL && *v != '\0' ? v : fallback;
}

gboolean
bw_dl_is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

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
  gboolean ok;
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
      manifest = bw_weights_manifest_load (manifest_path, error);
      if (manifest == NULL)
        return FALSE;
    }
  dl.url = g_strdup (options->url != NULL ? options->url :
                     env_or ("BRUSHWORK_WEIGHTS_URL",
                             manifest != NULL && manifest->url != NULL ? manifest->url : BW_WEIGHTS_URL));
  sha = g_strdup (options->sha256 != NULL ? options->sha256 :
                  env_or ("BRUSHWORK_WEIGHTS_SHA256", BW_WEIGHTS_SHA256));
  if (!bw_dl_is_sha256_hex (sha))
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
    return bw_dl_errno_error (&dl, error, errno);
  lock_fd = bw_dl_lock_dest (&dl, error);
  if (lock_fd < 0)
    return FALSE;
  /* Looked for again under the lock, waited for or not: the caller looked before calling,
   * and another run may have installed the weights since (DEST and its sidecar are renamed
   * into place under this lock, so a DEST here is complete) */
  if (g_file_test (dl.dest, G_FILE_TEST_IS_REGULAR))
    {
      bw_dl_unlock_dest (&dl, lock_fd);
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
      ok = bw_dl_ranges_run (&dl, manifest, &weights, &local);
      if (!ok && g_error_matches (local, BW_DL_FETCH_ERROR, BW_DL_FETCH_RANGE_IGNORED))
        {
          g_debug ("%s ignores Range: fetching the whole file", dl.host);
          g_clear_error (&local);
          bw_dl_forget_partial (&dl);
          dl.size = 0;
          g_clear_pointer (&dl.validator, g_free);
          dl.resumed_at = 0;
          g_clear_pointer (&manifest, bw_weights_manifest_free);
        }
      else if (!ok && !dl.transfer_failed && !dl.cache_failed)
        bw_dl_forget_partial (&dl);
    }
  if (manifest == NULL)
    {
      if (result != NULL)
        result->method = BW_DOWNLOAD_WHOLE_FILE;
      ok = bw_dl_whole_run (&dl, &weights, &local);
    }
  if (ok)
    {
      ok = bw_dl_install (&dl, weights, &local);
      if (ok)
        bw_dl_forget_partial (&dl);
    }
  bw_dl_unlock_dest (&dl, lock_fd);

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
