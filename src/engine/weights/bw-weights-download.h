/* bw-weights-download.h: fetching torchvision's VGG19 weights on first use.
 *
 * torchvision's vgg19-dcbb9e9d.pth is 548 MB; the 13 conv layers Brushwork uses are 52 MB of
 * it. They are stored, verified, as a .safetensors in the user's cache, which later starts
 * read at once. Two ways to get them, chosen automatically:
 *
 *   - The whole file, streamed once (the default): hashed as it arrives against its published
 *     SHA-256, which covers the whole file, and parsed as it arrives (PyTorch's legacy format,
 *     which the official file uses), so that only the conv layers' storages are ever written
 *     to disk. Nothing is used unless the hash matches. A file in PyTorch's zip format or in
 *     safetensors is kept whole on disk until verified, then reduced.
 *   - With a manifest (bw_weights_make_manifest(), BRUSHWORK_WEIGHTS_MANIFEST): only the conv
 *     tensors' byte ranges, by HTTP Range requests, each checked against the manifest's
 *     SHA-256. A server that ignores Range gets the first way instead.
 *
 * Either way, an interrupted or cancelled download resumes where it stopped on the next call
 * (the bytes kept so far and the hash's running state live beside the destination, in
 * DEST.download and DEST.download.state); transient failures are retried with back-off; the
 * result is renamed into place only when complete and verified, with its own SHA-256 in a
 * sha256sum-style sidecar, DEST.sha256.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BW_WEIGHTS_URL "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
#define BW_WEIGHTS_SHA256 "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44"

/* @done and @total in bytes (@total 0 while unknown), @rate in bytes per second. Called on
 * the thread that runs the download, at most ten times a second, and once at the end with
 * @done == @total. @done never decreases while @total stays the same; @total changes only
 * when a server refuses byte ranges and the whole file must be fetched instead. For the
 * whole file, @done is the file offset reached, counting what an earlier run kept. */
typedef void (*BwDownloadProgressFunc) (guint64  done,
                                        guint64  total,
                                        double   rate,
                                        gpointer user_data);

/* Where the reduced weights live: $XDG_CACHE_HOME/brushwork/vgg19-conv.safetensors. */
char     *bw_weights_default_path (void);

/* Downloads @url (NULL: BRUSHWORK_WEIGHTS_URL, else the manifest's "url", else the official
 * URL), checks it against @sha256 (NULL: BRUSHWORK_WEIGHTS_SHA256 or the official checksum,
 * so that a mirror of the official file needs only its URL) and writes the conv layers to
 * @dest (NULL: bw_weights_default_path()) as safetensors, atomically, creating its folder.
 * With BRUSHWORK_WEIGHTS_MANIFEST set, fetches only the ranges that manifest lists.
 * Blocking: run it on a worker thread. When another process is downloading to @dest, waits
 * for it; when @dest is there once this one holds the lock (another process installed it,
 * while this one waited or just before), returns TRUE at once: to download again, delete
 * @dest first.
 *
 * Errors, each one sentence for the user: G_IO_ERROR_CANCELLED; G_IO_ERROR_INVALID_DATA when
 * what arrived is not the expected file (checksum, size, an HTML page) or the manifest is
 * not valid; another G_IO_ERROR code (the network's, or NOT_FOUND/PERMISSION_DENIED/FAILED
 * for an HTTP status) when the download failed through its retries; BW_WEIGHTS_ERROR when a
 * verified file is still not usable; G_FILE_ERROR or G_IO_ERROR when the cache cannot be
 * written. */
gboolean  bw_weights_download     (const char              *url,
                                   const char              *sha256,
                                   const char              *dest,
                                   BwDownloadProgressFunc   progress,
                                   gpointer                 user_data,
                                   GCancellable            *cancellable,
                                   GError                 **error);

/* Every setting; zeroes and NULLs mean the defaults above. */
typedef struct {
  const char *url;
  const char *sha256;          /* of the whole file */
  const char *manifest_path;   /* NULL: BRUSHWORK_WEIGHTS_MANIFEST; "": none */
  guint       max_attempts;    /* tries of one request, counting the first; 0: 4. A try that
                                * brought 1 MiB or more starts the count again */
  guint       retry_delay_ms;  /* the first back-off, doubled each retry up to 30 s; 0: 1000 */
} BwDownloadOptions;

typedef enum {
  BW_DOWNLOAD_WHOLE_FILE,      /* streamed, checked against the whole file's SHA-256 */
  BW_DOWNLOAD_RANGES,          /* only the conv tensors' ranges, checked against a manifest */
  BW_DOWNLOAD_DONE_ELSEWHERE,  /* @dest was there once the lock was held: another process
                                * finished it, while this one waited or just before */
} BwDownloadMethod;

typedef struct {
  BwDownloadMethod method;
  guint64 bytes_received;      /* HTTP body bytes this call received */
  guint64 resumed_at;          /* what an earlier run had kept and this one reused: the file
                                * offset (whole file) or tensor bytes (ranges); 0: none */
} BwDownloadResult;

/* bw_weights_download() with every setting; @options and @result may be NULL. */
gboolean  bw_weights_download_with_options (const BwDownloadOptions  *options,
                                            const char               *dest,
                                            BwDownloadProgressFunc    progress,
                                            gpointer                  user_data,
                                            BwDownloadResult         *result,
                                            GCancellable             *cancellable,
                                            GError                  **error);

/* Hashes a downloaded file and compares it with its sidecar, PATH.sha256 (52 MB: about a
 * third of a second, so not for every start; for a "check my files" action, or after a load
 * failure). G_IO_ERROR_INVALID_DATA when they differ or the sidecar is missing. */
gboolean  bw_weights_verify_download (const char  *path,
                                      GError     **error);

G_END_DECLS
