/* bw-weights-download.h: fetching torchvision's VGG19 weights on first use.
 *
 * The official file is downloaded once (resuming an interrupted transfer), checked against
 * its published SHA-256, reduced to the 13 conv layers Brushwork uses and stored as a small
 * .safetensors in the user's cache; nothing is used unless the checksum matched.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BW_WEIGHTS_URL "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
#define BW_WEIGHTS_SHA256 "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44"

/* @done and @total in bytes (@total 0 while unknown), @rate in bytes per second. Called on
 * the thread that runs the download. */
typedef void (*BwDownloadProgressFunc) (guint64  done,
                                        guint64  total,
                                        double   rate,
                                        gpointer user_data);

/* Where the reduced weights live: $XDG_CACHE_HOME/brushwork/vgg19-conv.safetensors. */
char     *bw_weights_default_path (void);

/* Downloads @url (NULL: BRUSHWORK_WEIGHTS_URL or the official URL), checks it against
 * @sha256 (NULL: BRUSHWORK_WEIGHTS_SHA256 or the official checksum) and writes the conv
 * layers to @dest as safetensors, atomically. Blocking: run it on a worker thread.
 * Transient network errors are retried with back-off; a rerun after an interruption resumes
 * where the last one stopped. */
gboolean  bw_weights_download     (const char              *url,
                                   const char              *sha256,
                                   const char              *dest,
                                   BwDownloadProgressFunc   progress,
                                   gpointer                 user_data,
                                   GCancellable            *cancellable,
                                   GError                 **error);

G_END_DECLS
