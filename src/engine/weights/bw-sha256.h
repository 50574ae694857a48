/* bw-sha256.h: SHA-256 whose running state can be saved and restored.
 *
 * GChecksum cannot be serialised, and the published checksum of VGG19's weights covers the
 * whole 548 MB file: an interrupted download could only be verified by fetching it all again.
 * With this state written beside the partial download, a later run resumes hashing where the
 * last one stopped. The results equal GChecksum's (tests/weights/test-weights-download.c).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BW_SHA256_SIZE 32

typedef struct {
  guint32 h[8];
  guint64 length;       /* bytes hashed so far */
  guint8  block[64];    /* the first length % 64 bytes are pending */
} BwSha256;

void      bw_sha256_init        (BwSha256       *self);
void      bw_sha256_update      (BwSha256       *self,
                                 const void     *data,
                                 gsize           len);
/* Lower-case hex, as g_checksum_get_string(); @self is left finished (init it to reuse it). */
char     *bw_sha256_finish_hex  (BwSha256       *self);

/* Whether to use the CPU's SHA instructions where it has them (the default); returns whether
 * they are used now. For tests, which check both ways against GChecksum. */
gboolean  bw_sha256_accelerate  (gboolean        enable);

/* A single line of ASCII; restore accepts only what save wrote. */
char     *bw_sha256_save        (const BwSha256 *self);
gboolean  bw_sha256_restore     (BwSha256       *self,
                                 const char     *saved);

G_END_DECLS
