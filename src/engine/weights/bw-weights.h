/* bw-weights.h: named float tensors, and safe loaders for the files that carry VGG19's weights.
 *
 * Files are parsed, never executed: PyTorch pickles go through an allow-list interpreter.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BW_WEIGHTS_ERROR (bw_weights_error_quark ())

typedef enum {
  BW_WEIGHTS_ERROR_FORMAT,    /* not a file we can read, or corrupt/truncated */
  BW_WEIGHTS_ERROR_NETWORK,   /* readable, but not VGG19's convs (missing name, wrong shape, NaN) */
} BwWeightsError;

GQuark bw_weights_error_quark (void);

/* What input the network was trained on, and so expects. */
typedef enum {
  BW_WEIGHTS_CONVENTION_TORCHVISION,  /* RGB in [0, 1], minus ImageNet's mean, over its std */
  BW_WEIGHTS_CONVENTION_CAFFE,        /* BGR in [0, 255] minus the mean pixel (103.939, 116.779,
                                       * 123.68), as Simonyan & Zisserman's original VGG19 */
} BwWeightsConvention;

/* "torchvision" or "caffe", as a safetensors file's __metadata__ "convention" and
 * brushwork-cli's --weights-convention spell them. */
const char  *bw_weights_convention_to_string   (BwWeightsConvention  convention);
gboolean     bw_weights_convention_from_string (const char          *name,
                                                BwWeightsConvention *convention);

#define BW_TYPE_WEIGHTS (bw_weights_get_type ())
G_DECLARE_FINAL_TYPE (BwWeights, bw_weights, BW, WEIGHTS, GObject)

typedef enum {
  BW_WEIGHTS_LOAD_DEFAULT     = 0,       /* VGG19's 13 convs, checked, as bw_weights_load() */
  BW_WEIGHTS_LOAD_ALL_TENSORS = 1 << 0,  /* every floating-point tensor, unchecked (tools, tests) */
} BwWeightsLoadFlags;

BwWeights   *bw_weights_new              (void);

/* Takes ownership of @data (g_malloc'd, n = product of @shape floats; @n_dims <= 8). Names as
 * torchvision writes them: "features.0.weight", "features.0.bias", ... Inserting a name again
 * replaces its tensor. */
void         bw_weights_insert           (BwWeights     *self,
                                          const char    *name,
                                          const gint64  *shape,
                                          guint          n_dims,
                                          float         *data);

/* A loaded file's convention: a safetensors file's __metadata__ "convention" when it has one,
 * else torchvision's (as every .pth). Set it to override what the file says. */
BwWeightsConvention bw_weights_get_convention (BwWeights           *self);
void         bw_weights_set_convention   (BwWeights           *self,
                                          BwWeightsConvention  convention);

/* Returns NULL if absent. @shape and @n_dims may be NULL. */
const float *bw_weights_lookup           (BwWeights     *self,
                                          const char    *name,
                                          const gint64 **shape,
                                          guint         *n_dims);

/* Loads the 13 conv layers of VGG19 up to conv5_1 from a .safetensors file (F32 or F16; BF16
 * and F64 too) or a PyTorch .pth (zip or legacy format), a full state_dict, features only or a
 * checkpoint holding one under "state_dict"; everything else in the file is never read. Checks
 * names, shapes and finiteness. Errors: BW_WEIGHTS_ERROR_FORMAT or _NETWORK, each one sentence
 * naming the file, or G_IO_ERROR when the file cannot be read at all. */
BwWeights   *bw_weights_load             (const char    *path,
                                          GError       **error);

/* As bw_weights_load(), from a file's contents in memory; @name_for_messages names it in
 * errors. With BW_WEIGHTS_LOAD_ALL_TENSORS it reads every floating-point tensor, under its own
 * name, and checks nothing about the network. */
BwWeights   *bw_weights_load_bytes       (GBytes             *bytes,
                                          const char         *name_for_messages,
                                          BwWeightsLoadFlags  flags,
                                          GError            **error);

/* The tensors in insertion order (a loaded file's order). */
guint        bw_weights_get_n_tensors    (BwWeights     *self);
const char  *bw_weights_get_name         (BwWeights     *self,
                                          guint          index);

/* For a local weights file that bw_weights_load() accepts: a JSON manifest of where each of
 * the 26 tensors it uses lies in the file and the SHA-256 of those bytes, so that they can
 * later be fetched by byte range and verified:
 *   {"file": "vgg19-dcbb9e9d.pth", "size": N, "format": "pytorch-legacy",
 *    "tensors": [{"name": "features.0.weight", "dtype": "F32", "shape": [64, 3, 3, 3],
 *                 "offset": O, "length": L, "sha256": "..."}, ...]}
 * Fails for tensors stored non-contiguously, whose bytes are not one range. */
char        *bw_weights_make_manifest    (const char    *path,
                                          GError       **error);

/* Writes all tensors as F32 safetensors, atomically (temporary file, then rename), with the
 * convention in its __metadata__ when it is not torchvision's. */
gboolean     bw_weights_save_safetensors (BwWeights     *self,
                                          const char    *path,
                                          GError       **error);

/* Checks that the 13 convs up to conv5_1 are present with VGG19's shapes and finite values. */
gboolean     bw_weights_check_vgg19      (BwWeights     *self,
                                          const char    *path_for_messages,
                                          GError       **error);

G_END_DECLS
