/* bw-ops-private.h: what the ops' files (bw-ops.c, bw-ops-conv.c) share. */
#pragma once

#include "bw-ops.h"

G_BEGIN_DECLS

/* Scratch buffers kept per device by the ops that need room between two passes. */
enum {
  SCRATCH_GRAM,
  SCRATCH_WINOGRAD_V,
  SCRATCH_WINOGRAD_M,
  N_SCRATCH
};

static inline guint
div_up (guint64 a,
        guint64 b)
{
  return (guint) ((a + b - 1) / b);
}

static inline int
packs (int channels)
{
  return (channels + 3) / 4;
}

double     _bw_ops_dispatch_flops (void);
gboolean   _bw_ops_note_work      (BwDevice          *dev,
                                   double             flops,
                                   GError           **error);
BwBuffer  *_bw_ops_get_scratch    (BwDevice          *dev,
                                   int                slot,
                                   guint64            size,
                                   GError           **error);
gboolean   _bw_ops_texel_readable (BwDevice          *dev,
                                   BwBuffer  * const *buffers,
                                   guint              n);
guint      _bw_ops_pack_range     (BwDevice          *dev,
                                   guint              c4,
                                   guint              unit,
                                   const guint64     *pack_bytes,
                                   guint              n);

G_END_DECLS
