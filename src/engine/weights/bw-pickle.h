/* bw-pickle.h: an allow-list interpreter for the pickles that torch.save writes.
 *
 * It understands the opcodes a saved state dict uses and only the globals listed in
 * bw-pickle.c (OrderedDict, torch's tensor rebuilders, torch.*Storage); it never imports or
 * calls anything. Calls to the allowed globals are evaluated here, into plain values: a
 * persistent id becomes a STORAGE, _rebuild_tensor_v2 (...) a TENSOR. Any other global or
 * opcode is a FORMAT error that names it.
 */
#pragma once

#include "bw-weights-private.h"

G_BEGIN_DECLS

typedef enum {
  BW_PV_NONE,
  BW_PV_BOOL,
  BW_PV_INT,
  BW_PV_BIGINT,    /* an int too large for gint64: its little-endian two's complement bytes */
  BW_PV_FLOAT,
  BW_PV_STR,       /* valid UTF-8, NUL-terminated */
  BW_PV_BYTES,
  BW_PV_TUPLE,
  BW_PV_LIST,
  BW_PV_DICT,
  BW_PV_GLOBAL,
  BW_PV_STORAGE,
  BW_PV_TENSOR,
} BwPickleKind;

typedef enum {
  BW_PG_ORDERED_DICT,
  BW_PG_REBUILD_TENSOR,      /* torch < 0.4: (storage, offset, size, stride) */
  BW_PG_REBUILD_TENSOR_V2,   /* (storage, offset, size, stride, requires_grad, hooks[, meta]) */
  BW_PG_REBUILD_PARAMETER,   /* (tensor, requires_grad, hooks) */
  BW_PG_STORAGE,             /* torch.FloatStorage and friends: only as a persistent id's type */
} BwPickleGlobal;

typedef struct _BwPickleValue BwPickleValue;

struct _BwPickleValue {
  BwPickleKind kind;
  union {
    gboolean b;
    gint64 i;
    double f;
    struct {
      char *data;
      gsize len;
    } str;                              /* STR, BYTES, BIGINT */
    struct {
      BwPickleValue **items;
      gsize n;
    } tuple;
    GPtrArray *items;                   /* LIST; DICT as key, value, key, value, ... */
    struct {
      BwPickleGlobal which;
      BwDtype dtype;                    /* for BW_PG_STORAGE */
    } global;
    struct {
      const char *key;                  /* the root storage's key in the file */
      BwDtype dtype;
      guint64 numel;                    /* of the root storage */
      guint64 view_offset;              /* legacy storage views: where this view starts */
    } storage;
    struct {
      const BwPickleValue *storage;
      guint64 offset;                   /* into the root storage, view offset included */
      guint n_dims;
      gint64 shape[BW_MAX_DIMS];
      gint64 stride[BW_MAX_DIMS];
    } tensor;
  };
};

typedef struct _BwPickle BwPickle;

BwPickle            *bw_pickle_new            (const char     *display);
void                 bw_pickle_free           (BwPickle       *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BwPickle, bw_pickle_free)

/* Runs one pickle from the start of @data, up to its STOP; values live until @self is freed.
 * Sets *@used to the bytes it took. When @data ends before STOP, fails and sets
 * *@short_input (if given), so that a caller reading a stream can retry with more. */
const BwPickleValue *bw_pickle_run            (BwPickle       *self,
                                               const guint8   *data,
                                               gsize           len,
                                               gsize          *used,
                                               gboolean       *short_input,
                                               GError        **error);

/* Every storage a persistent id of any run so far named, by key (for the legacy format,
 * whose storages follow one another and must be stepped over). */
const BwPickleValue *bw_pickle_lookup_storage (BwPickle       *self,
                                               const char     *key);

/* A state dict's tensors: from a dict of name -> tensor (other values are skipped), or from
 * a checkpoint dict that holds one under "state_dict". Appends a BwTensorRef (file_offset
 * and storage_numel left 0 for the caller) per wanted tensor, and the storage key of each
 * to @storage_keys. */
gboolean             bw_pickle_collect_tensors (BwPickle            *self,
                                                const BwPickleValue *root,
                                                BwSelect             select,
                                                GPtrArray           *refs,
                                                GPtrArray           *storage_keys,
                                                GError             **error);

/* The legacy format's five leading pickles (magic number, protocol, system information, state
 * dict, storage keys) from the start of @buf, checked as bw_torch_legacy_locate() checks them;
 * for the download, which receives the file as a stream (defined in bw-torch.c). Returns the
 * state dict and the list of storage keys, and in *@used the pickles' length. When @buf ends
 * inside them, fails and sets *@short_input: retry with more. */
gboolean             bw_torch_legacy_read_pickles (const char           *display,
                                                   BwPickle             *pickle,
                                                   const guint8         *buf,
                                                   gsize                 len,
                                                   const BwPickleValue **state,
                                                   const BwPickleValue **keys,
                                                   gsize                *used,
                                                   gboolean             *short_input,
                                                   GError              **error);

G_END_DECLS
