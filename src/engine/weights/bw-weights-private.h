/* bw-weights-private.h: what the weight loaders share, between bw-weights.c (the object, the
 * checks, reading tensors) and the format parsers (bw-pickle.c, bw-torch.c, bw-safetensors.c).
 *
 * A parser never reads tensor data: it only says where each wanted tensor lies in the file
 * (a BwTensorRef), so that everything unwanted (the classifier) is never touched.
 */
#pragma once

#include "bw-weights.h"

G_BEGIN_DECLS

/* No weights file needs more; bounds what a hostile header can make us store. */
#define BW_MAX_DIMS 8

typedef enum {
  BW_DTYPE_F32,
  BW_DTYPE_F16,
  BW_DTYPE_BF16,
  BW_DTYPE_F64,
  BW_DTYPE_I64,
  BW_DTYPE_I32,
  BW_DTYPE_I16,
  BW_DTYPE_I8,
  BW_DTYPE_U8,
  BW_DTYPE_BOOL,
} BwDtype;

guint        bw_dtype_size     (BwDtype dtype);
gboolean     bw_dtype_is_float (BwDtype dtype);
const char  *bw_dtype_name     (BwDtype dtype);   /* safetensors spelling: "F32" */

/* The bytes of a weights file, read on demand: from a seekable stream (so that only what is
 * asked for is ever read) or from memory. */
typedef struct {
  char         *display;   /* the file's name for messages, UTF-8 */
  guint64       size;
  GBytes       *bytes;     /* either this ... */
  GInputStream *stream;    /* ... or this, seekable */
} BwSource;

/* Fails with a FORMAT "truncated" error when the range is not inside the file. */
gboolean     bw_source_read    (BwSource     *src,
                                guint64       offset,
                                gsize         len,
                                void         *buf,
                                GError      **error);

/* Reads [offset, offset + len) into a new buffer; @len must already be bounded by the file
 * size (the check is repeated here). */
guint8      *bw_source_dup     (BwSource     *src,
                                guint64       offset,
                                guint64       len,
                                GError      **error);

/* Where a tensor's elements are: a (possibly strided) view of a run of @storage_numel
 * elements of @dtype that starts at byte @file_offset of the file. */
typedef struct {
  char    *name;            /* canonical: "features.0.weight" in VGG19 mode */
  BwDtype  dtype;
  guint64  file_offset;
  guint64  storage_numel;
  guint64  offset;          /* in elements, into the storage */
  guint    n_dims;
  gint64   shape[BW_MAX_DIMS];
  gint64   stride[BW_MAX_DIMS];
} BwTensorRef;

void         bw_tensor_ref_free (BwTensorRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BwTensorRef, bw_tensor_ref_free)

/* Fills contiguous row-major strides from the shape. */
void         bw_tensor_ref_set_contiguous (BwTensorRef *ref);

/* Which tensors a parser must locate. */
typedef enum {
  BW_SELECT_VGG19,  /* the 13 convs up to conv5_1, full state_dict or features only */
  BW_SELECT_ALL,    /* every floating-point tensor, under its own name */
} BwSelect;

/* The canonical name for a key found in a file, or NULL when it is not wanted. */
char        *bw_weights_wanted_name (BwSelect    select,
                                     const char *key);

/* Each parser appends a BwTensorRef per wanted tensor to @refs (which frees them). A key that
 * appears twice keeps its last value, as Python's dict would. A safetensors file may also say
 * which input its network expects (__metadata__ "convention"): @convention is set to it, and
 * left alone when the file does not say. */
gboolean     bw_safetensors_locate (BwSource            *src,
                                    BwSelect             select,
                                    GPtrArray           *refs,
                                    BwWeightsConvention *convention,
                                    GError             **error);
gboolean     bw_torch_zip_locate   (BwSource   *src,
                                    BwSelect    select,
                                    GPtrArray  *refs,
                                    GError    **error);
gboolean     bw_torch_legacy_locate (BwSource  *src,
                                     BwSelect   select,
                                     GPtrArray *refs,
                                     GError   **error);

/* The second half of loading, for a reader that located the tensors itself (the download's
 * streaming parser, bw-weights-download.c): as bw_weights_load() once the format parser has
 * run, reads each of @refs (the last one of a name wins) from @src, checking VGG19's names
 * and shapes first and the values after. */
BwWeights   *bw_weights_load_located  (BwSource   *src,
                                       GPtrArray  *refs,
                                       GError    **error);

/* Only the names and shapes of @refs, before any tensor data exists (for a download: before
 * it has arrived); @display names the file in the message. */
gboolean     bw_weights_check_located (GPtrArray  *refs,
                                       const char *display,
                                       GError    **error);

/* The common "truncated" message. */
void         bw_set_truncated_error (GError      **error,
                                     BwSource     *src,
                                     const char   *what,
                                     guint64       need,
                                     guint64       offset);

G_END_DECLS
