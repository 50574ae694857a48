/* bw-weights.c: the named tensors, the VGG19 checks, reading located tensors, and saving.
 *
 * Loading is two steps: a format parser (bw-torch.c, bw-safetensors.c) says where each wanted
 * tensor lies without reading any tensor data; then this file checks names and shapes and
 * reads just those bytes. So a full torchvision file's 480 MB classifier is never read, and a
 * file for the wrong network is refused before anything large is allocated.
 */
#include "bw-weights-private.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "vgg19/bw-vgg19-layers.h"
#include "bw-i18n.h"

G_DEFINE_QUARK (bw-weights-error-quark, bw_weights_error)

typedef struct {
  char *name;
  gint64 shape[BW_MAX_DIMS];
  guint n_dims;
  gsize numel;
  float *data;
} Entry;

struct _BwWeights {
  GObject parent_instance;

  GPtrArray *entries;        /* Entry *, in insertion order (the order files are written in) */
  GHashTable *by_name;       /* name -> Entry * */
  BwWeightsConvention convention;
};

G_DEFINE_FINAL_TYPE (BwWeights, bw_weights, G_TYPE_OBJECT)

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_free (e->data);
  g_free (e);
}

static void
bw_weights_finalize (GObject *object)
{
  BwWeights *self = BW_WEIGHTS (object);

  g_hash_table_unref (self->by_name);
  g_ptr_array_unref (self->entries);
  G_OBJECT_CLASS (bw_weights_parent_class)->finalize (object);
}

static void
bw_weights_class_init (BwWeightsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_weights_finalize;
}

static void
bw_weights_init (BwWeights *self)
{
  self->entries = g_ptr_array_new_with_free_func (entry_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
}

BwWeights *
bw_weights_new (void)
{
  return g_object_new (BW_TYPE_WEIGHTS, NULL);
}

void
bw_weights_insert (BwWeights    *self,
                   const char   *name,
                   const gint64 *shape,
                   guint         n_dims,
                   float        *data)
{
  Entry *e;
  gsize numel = 1;

  g_return_if_fail (BW_IS_WEIGHTS (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (n_dims <= BW_MAX_DIMS);
  g_return_if_fail (n_dims == 0 || shape != NULL);

  for (guint i = 0; i < n_dims; i++)
    numel *= (gsize) shape[i];

  e = g_hash_table_lookup (self->by_name, name);
  if (e != NULL)
    g_free (e->data);   /* replaced in place, keeping its position */
  else
    {
      e = g_new0 (Entry, 1);
      e->name = g_strdup (name);
      g_ptr_array_add (self->entries, e);
      g_hash_table_insert (self->by_name, e->name, e);
    }
  e->n_dims = n_dims;
  if (n_dims > 0)
    memcpy (e->shape, shape, n_dims * sizeof (gint64));
  e->numel = numel;
  e->data = data;
}

BwWeightsConvention
bw_weights_get_convention (BwWeights *self)
{
  g_return_val_if_fail (BW_IS_WEIGHTS (self), BW_WEIGHTS_CONVENTION_TORCHVISION);

  return self->convention;
}

void
bw_weights_set_convention (BwWeights           *self,
                           BwWeightsConvention  convention)
{
  g_return_if_fail (BW_IS_WEIGHTS (self));
  g_return_if_fail (convention == BW_WEIGHTS_CONVENTION_TORCHVISION ||
                    convention == BW_WEIGHTS_CONVENTION_CAFFE);

  self->convention = convention;
}

const char *
bw_weights_convention_to_string (BwWeightsConvention convention)
{
  return convention == BW_WEIGHTS_CONVENTION_CAFFE ? "caffe" : "torchvision";
}

gboolean
bw_weights_convention_from_string (const char          *name,
                                   BwWeightsConvention *convention)
{
  if (g_strcmp0 (name, "torchvision") == 0)
    *convention = BW_WEIGHTS_CONVENTION_TORCHVISION;
  else if (g_strcmp0 (name, "caffe") == 0)
    *convention = BW_WEIGHTS_CONVENTION_CAFFE;
  else
    return FALSE;
  return TRUE;
}

const float *
bw_weights_lookup (BwWeights     *self,
                   const char    *name,
                   const gint64 **shape,
                   guint         *n_dims)
{
  Entry *e;

  g_return_val_if_fail (BW_IS_WEIGHTS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  e = g_hash_table_lookup (self->by_name, name);
  if (e == NULL)
    return NULL;
  if (shape != NULL)
    *shape = e->shape;
  if (n_dims != NULL)
    *n_dims = e->n_dims;
  return e->data;
}

guint
bw_weights_get_n_tensors (BwWeights *self)
{
  g_return_val_if_fail (BW_IS_WEIGHTS (self), 0);

  return self->entries->len;
}

const char *
bw_weights_get_name (BwWeights *self,
                     guint      index)
{
  g_return_val_if_fail (BW_IS_WEIGHTS (self), NULL);
  g_return_val_if_fail (index < self->entries->len, NULL);

  return ((Entry *) g_ptr_array_index (self->entries, index))->name;
}

/* Dtypes. */

guint
bw_dtype_size (BwDtype dtype)
{
  switch (dtype)
    {
    case BW_DTYPE_F64:
    case BW_DTYPE_I64:
      return 8;
    case BW_DTYPE_F32:
    case BW_DTYPE_I32:
      return 4;
    case BW_DTYPE_F16:
    case BW_DTYPE_BF16:
    case BW_DTYPE_I16:
      return 2;
    case BW_DTYPE_I8:
    case BW_DTYPE_U8:
    case BW_DTYPE_BOOL:
    default:
      return 1;
    }
}

gboolean
bw_dtype_is_float (BwDtype dtype)
{
  return dtype == BW_DTYPE_F32 || dtype == BW_DTYPE_F16 || dtype == BW_DTYPE_BF16 ||
         dtype == BW_DTYPE_F64;
}

const char *
bw_dtype_name (BwDtype dtype)
{
  static const char *const names[] = {
    [BW_DTYPE_F32] = "F32", [BW_DTYPE_F16] = "F16", [BW_DTYPE_BF16] = "BF16",
    [BW_DTYPE_F64] = "F64", [BW_DTYPE_I64] = "I64", [BW_DTYPE_I32] = "I32",
    [BW_DTYPE_I16] = "I16", [BW_DTYPE_I8] = "I8", [BW_DTYPE_U8] = "U8",
    [BW_DTYPE_BOOL] = "BOOL",
  };

  return (guint) dtype < G_N_ELEMENTS (names) ? names[dtype] : "?";
}

/* Tensor refs. */

void
bw_tensor_ref_free (BwTensorRef *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->name);
  g_free (ref);
}

void
bw_tensor_ref_set_contiguous (BwTensorRef *ref)
{
  gint64 stride = 1;

  for (guint i = ref->n_dims; i-- > 0;)
    {
      ref->stride[i] = stride;
      stride *= MAX (ref->shape[i], 1);
    }
}

/* Stride of a size-1 dimension never matters: torch writes all sorts there. */
static gboolean
ref_is_contiguous (const BwTensorRef *ref)
{
  gint64 stride = 1;

  for (guint i = ref->n_dims; i-- > 0;)
    {
      if (ref->shape[i] != 1 && ref->stride[i] != stride)
        return FALSE;
      stride *= ref->shape[i];
    }
  return TRUE;
}

char *
bw_weights_wanted_name (BwSelect    select,
                        const char *key)
{
  const char *rest = key;
  const char *dot;
  guint64 module;
  char *end = NULL;

  if (select == BW_SELECT_ALL)
    return g_strdup (key);

  /* "features.0.weight" in a full state_dict, "0.weight" in features.state_dict() */
  if (g_str_has_prefix (rest, "features."))
    rest += strlen ("features.");
  if (!g_ascii_isdigit (rest[0]))
    return NULL;
  dot = strchr (rest, '.');
  if (dot == NULL || (dot - rest > 1 && rest[0] == '0') || dot - rest > 3)
    return NULL;
  module = g_ascii_strtoull (rest, &end, 10);
  if (end != dot || (!g_str_equal (dot, ".weight") && !g_str_equal (dot, ".bias")))
    return NULL;
  for (guint i = 0; i < BW_VGG19_N_CONVS; i++)
    if ((guint64) bw_vgg19_convs[i].module == module)
      return g_strdup_printf ("features.%d%s", bw_vgg19_convs[i].module, dot);
  return NULL;
}

/* Sources. */

void
bw_set_truncated_error (GError     **error,
                        BwSource    *src,
                        const char  *what,
                        guint64      need,
                        guint64      offset)
{
  g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               "“%s” is truncated: %s needs %" G_GUINT64_FORMAT " bytes at offset %"
               G_GUINT64_FORMAT " but the file ends at %" G_GUINT64_FORMAT ". Download it again.",
               src->display, what, need, offset, src->size);
}

gboolean
bw_source_read (BwSource  *src,
                guint64    offset,
                gsize      len,
                void      *buf,
                GError   **error)
{
  gsize got = 0;

  if (offset > src->size || len > src->size - offset)
    {
      bw_set_truncated_error (error, src, "a read", len, offset);
      return FALSE;
    }
  if (len == 0)
    return TRUE;
  if (src->bytes != NULL)
    {
      memcpy (buf, (const guint8 *) g_bytes_get_data (src->bytes, NULL) + offset, len);
      return TRUE;
    }
  if (!g_seekable_seek (G_SEEKABLE (src->stream), offset, G_SEEK_SET, NULL, error) ||
      !g_input_stream_read_all (src->stream, buf, len, &got, NULL, error))
    {
      g_prefix_error (error, _("Could not read “%s”: "), src->display);
      return FALSE;
    }
  if (got != len)   /* it shrank while we read it */
    {
      bw_set_truncated_error (error, src, "a read", len, offset);
      return FALSE;
    }
  return TRUE;
}

guint8 *
bw_source_dup (BwSource  *src,
               guint64    offset,
               guint64    len,
               GError   **error)
{
  g_autofree guint8 *buf = NULL;

  if (offset > src->size || len > src->size - offset)
    {
      bw_set_truncated_error (error, src, "a read", len, offset);
      return NULL;
    }
  buf = g_malloc (MAX (len, 1));
  if (!bw_source_read (src, offset, len, buf, error))
    return NULL;
  return g_steal_pointer (&buf);
}

static void
source_clear (BwSource *src)
{
  g_clear_pointer (&src->display, g_free);
  g_clear_pointer (&src->bytes, g_bytes_unref);
  g_clear_object (&src->stream);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BwSource, source_clear)

static gboolean
source_open (BwSource    *src,
             const char  *path,
             GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GFileInfo) info = NULL;

  src->display = g_filename_display_basename (path);
  stream = g_file_read (file, NULL, error);
  if (stream != NULL)
    info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, error);
  if (info == NULL)
    {
      g_prefix_error (error, _("Could not open “%s”: "), src->display);
      return FALSE;
    }
  src->size = g_file_info_get_size (info);
  src->stream = G_INPUT_STREAM (g_steal_pointer (&stream));
  return TRUE;
}

/* Reading a located tensor. */

static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  guint32 bits;
  float f;

  if (exp == 0x1f)
    bits = sign | 0x7f800000 | (mant << 13);            /* inf, NaN */
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (mant << 13);   /* normal: rebias 15 -> 127 */
  else if (mant == 0)
    bits = sign;                                        /* zero */
  else
    {
      /* subnormal: exactly mant * 2^-24 */
      f = ldexpf ((float) mant, -24);
      return sign ? -f : f;
    }
  memcpy (&f, &bits, sizeof f);
  return f;
}

static float
element_to_float (BwDtype       dtype,
                  const guint8 *p)
{
  guint32 u32;
  guint64 u64;
  float f;
  double d;

  switch (dtype)
    {
    case BW_DTYPE_F16:
      return half_to_float ((guint16) (p[0] | p[1] << 8));
    case BW_DTYPE_BF16:
      u32 = (guint32) (p[0] | p[1] << 8) << 16;
      memcpy (&f, &u32, sizeof f);
      return f;
    case BW_DTYPE_F64:
      memcpy (&u64, p, sizeof u64);
      u64 = GUINT64_FROM_LE (u64);
      memcpy (&d, &u64, sizeof d);
      return (float) d;
    case BW_DTYPE_F32:
    default:
      memcpy (&u32, p, sizeof u32);
      u32 = GUINT32_FROM_LE (u32);
      memcpy (&f, &u32, sizeof f);
      return f;
    }
}

/* @budget: bytes the whole load may still read; views can share storage, but a hostile file
 * must not make us read its bytes over and over. */
static float *
read_tensor (BwSource           *src,
             const BwTensorRef  *ref,
             guint64            *budget,
             gsize              *numel_out,
             GError            **error)
{
  guint es = bw_dtype_size (ref->dtype);
  guint64 numel = 1, last = ref->offset, start, span, len;
  g_autofree guint8 *raw = NULL;
  g_autofree float *out = NULL;

  if (!bw_dtype_is_float (ref->dtype))
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                   _("In “%s”, tensor %s holds %s values, not floating point."),
                   src->display, ref->name, bw_dtype_name (ref->dtype));
      return NULL;
    }
  for (guint i = 0; i < ref->n_dims; i++)
    if (!g_uint64_checked_mul (&numel, numel, ref->shape[i]))
      goto too_big;
  if (numel == 0)
    {
      *numel_out = 0;
      return g_new0 (float, 1);
    }
  /* Output is bounded by the file, whatever the strides claim */
  if (numel > src->size / es)
    goto too_big;
  for (guint i = 0; i < ref->n_dims; i++)
    {
      guint64 reach;

      if (ref->stride[i] < 0 ||
          !g_uint64_checked_mul (&reach, ref->shape[i] - 1, ref->stride[i]) ||
          !g_uint64_checked_add (&last, last, reach))
        goto too_big;
    }
  if (last >= ref->storage_numel)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is damaged: tensor %s reaches past the end of its storage."),
                   src->display, ref->name);
      return NULL;
    }
  span = last - ref->offset + 1;
  if (!g_uint64_checked_mul (&start, ref->offset, es) ||
      !g_uint64_checked_add (&start, start, ref->file_offset) ||
      !g_uint64_checked_mul (&len, span, es))
    goto too_big;
  if (start > src->size || len > src->size - start)
    {
      g_autofree char *what = g_strdup_printf ("tensor %s", ref->name);

      bw_set_truncated_error (error, src, what, len, start);
      return NULL;
    }
  if (len > *budget)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is damaged: its tensors overlap far more than any weights file's."),
                   src->display);
      return NULL;
    }
  *budget -= len;

  raw = bw_source_dup (src, start, len, error);
  if (raw == NULL)
    return NULL;
  out = g_new (float, numel);
  if (ref_is_contiguous (ref))
    {
      if (ref->dtype == BW_DTYPE_F32 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
        memcpy (out, raw, numel * sizeof (float));
      else
        for (guint64 i = 0; i < numel; i++)
          out[i] = element_to_float (ref->dtype, raw + i * es);
    }
  else
    {
      /* Walk the index odometer; the element offset follows it */
      guint64 index[BW_MAX_DIMS] = { 0 };
      guint64 at = 0;

      for (guint64 i = 0; i < numel; i++)
        {
          out[i] = element_to_float (ref->dtype, raw + at * es);
          for (guint d = ref->n_dims; d-- > 0;)
            {
              if (++index[d] < (guint64) ref->shape[d])
                {
                  at += ref->stride[d];
                  break;
                }
              at -= (index[d] - 1) * ref->stride[d];
              index[d] = 0;
            }
        }
    }
  *numel_out = numel;
  return g_steal_pointer (&out);

too_big:
  g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               _("“%s” is damaged: tensor %s claims more values than the file holds."),
               src->display, ref->name);
  return NULL;
}

/* The VGG19 checks. */

static void
conv_shape (const BwVgg19Conv *conv,
            gboolean           weight,
            gint64            *shape,
            guint             *n_dims)
{
  shape[0] = conv->out_channels;
  if (weight)
    {
      shape[1] = conv->in_channels;
      shape[2] = shape[3] = 3;
    }
  *n_dims = weight ? 4 : 1;
}

static char *
shape_string (const gint64 *shape,
              guint         n_dims)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* @where: "“x.pth”" or "the weights". Looks a tensor up with @lookup (from a BwWeights or
 * from a parser's refs); checks presence and shape, and, given data, finiteness. */
typedef gboolean (*LookupFunc) (gpointer       source,
                                const char    *name,
                                const gint64 **shape,
                                guint         *n_dims,
                                const float  **data,
                                gsize         *numel);

static gboolean
check_vgg19 (gpointer     source,
             LookupFunc   lookup,
             const char  *where,
             GError     **error)
{
  for (guint i = 0; i < BW_VGG19_N_CONVS; i++)
    for (int weight = 1; weight >= 0; weight--)
      {
        const BwVgg19Conv *conv = &bw_vgg19_convs[i];
        g_autofree char *name = g_strdup_printf ("features.%d.%s", conv->module,
                                                 weight ? "weight" : "bias");
        gint64 want[4];
        guint want_dims;
        const gint64 *shape = NULL;
        guint n_dims = 0;
        const float *data = NULL;
        gsize numel = 0;

        conv_shape (conv, weight, want, &want_dims);
        if (!lookup (source, name, &shape, &n_dims, &data, &numel))
          {
            g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                         _("In %s, VGG19's tensor %s (%s) is missing: these are not VGG19's weights."),
                         where, name, conv->name);
            return FALSE;
          }
        if (n_dims != want_dims || memcmp (shape, want, n_dims * sizeof (gint64)) != 0)
          {
            g_autofree char *got_s = shape_string (shape, n_dims);
            g_autofree char *want_s = shape_string (want, want_dims);

            g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                         _("In %s, tensor %s (%s) has shape %s where VGG19 has %s: these are not "
                           "VGG19's weights."), where, name, conv->name, got_s, want_s);
            return FALSE;
          }
        for (gsize k = 0; data != NULL && k < numel; k++)
          if (!isfinite (data[k]))
            {
              g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                           "In %s, tensor %s (%s) holds a NaN or infinite value (element %"
                           G_GSIZE_FORMAT "), so they are damaged.",
                           where, name, conv->name, k);
              return FALSE;
            }
      }
  return TRUE;
}

static gboolean
lookup_weights (gpointer       source,
                const char    *name,
                const gint64 **shape,
                guint         *n_dims,
                const float  **data,
                gsize         *numel)
{
  BwWeights *self = source;
  Entry *e = g_hash_table_lookup (self->by_name, name);

  if (e == NULL || e->data == NULL)
    return FALSE;
  *shape = e->shape;
  *n_dims = e->n_dims;
  *data = e->data;
  *numel = e->numel;
  return TRUE;
}

static gboolean
lookup_refs (gpointer       source,
             const char    *name,
             const gint64 **shape,
             guint         *n_dims,
             const float  **data,
             gsize         *numel)
{
  BwTensorRef *ref = g_hash_table_lookup (source, name);

  if (ref == NULL)
    return FALSE;
  *shape = ref->shape;
  *n_dims = ref->n_dims;
  return TRUE;
}

gboolean
bw_weights_check_vgg19 (BwWeights   *self,
                        const char  *path_for_messages,
                        GError     **error)
{
  g_autofree char *where = NULL;

  g_return_val_if_fail (BW_IS_WEIGHTS (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (path_for_messages != NULL)
    {
      g_autofree char *base = g_filename_display_basename (path_for_messages);

      where = g_strdup_printf ("“%s”", base);
    }
  else
    where = g_strdup ("the weights");
  return check_vgg19 (self, lookup_weights, where, error);
}

/* Loading. */

static BwWeights *
load_source (BwSource    *src,
             BwSelect     select,
             GPtrArray   *refs_out,
             const char **format_out,
             GError     **error)
{
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func ((GDestroyNotify) bw_tensor_ref_free);
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(BwWeights) self = NULL;
  g_autofree char *where = g_strdup_printf ("“%s”", src->display);
  guint8 head[512];
  gsize n_head = MIN (src->size, sizeof head);
  const char *format;
  guint64 budget;
  gboolean ok;
  /* a .pth cannot say, and torchvision's are the only ones there are */
  BwWeightsConvention convention = BW_WEIGHTS_CONVENTION_TORCHVISION;

  if (src->size == 0)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is empty. Download it again."), src->display);
      return NULL;
    }
  if (!bw_source_read (src, 0, n_head, head, error))
    return NULL;

  /* By content, not by name: downloads get renamed */
  if (n_head >= 4 && memcmp (head, "PK", 2) == 0 &&
      ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
    {
      format = "pytorch-zip";
      ok = bw_torch_zip_locate (src, select, refs, error);
    }
  else if (n_head >= 9 && head[8] == '{')
    {
      /* before the pickle test: a header length's first byte may well be 0x80, while a
       * legacy file's byte 8 is always part of its magic number */
      format = "safetensors";
      ok = bw_safetensors_locate (src, select, refs, &convention, error);
    }
  else if (head[0] == 0x80)
    {
      format = "pytorch-legacy";
      ok = bw_torch_legacy_locate (src, select, refs, error);
    }
  else if (n_head >= 262 && memcmp (head + 257, "ustar", 5) == 0)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” uses PyTorch's tar format from before version 0.4, which is not "
                     "supported: load it in PyTorch and save it again."), src->display);
      return NULL;
    }
  else
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is neither a PyTorch (.pth) nor a safetensors file."), src->display);
      return NULL;
    }
  if (!ok)
    return NULL;

  /* A key that appears twice keeps its last value */
  for (guint i = 0; i < refs->len; i++)
    {
      BwTensorRef *ref = g_ptr_array_index (refs, i);

      g_hash_table_insert (by_name, ref->name, ref);
    }

  /* Refuse the wrong network before reading anything large */
  if (select == BW_SELECT_VGG19 && !check_vgg19 (by_name, lookup_refs, where, error))
    return NULL;

  budget = src->size * 4 + 64 * 1024 * 1024;   /* src->size is a real file's: no overflow */
  self = bw_weights_new ();
  self->convention = convention;
  for (guint i = 0; i < refs->len; i++)
    {
      BwTensorRef *ref = g_ptr_array_index (refs, i);
      float *data;
      gsize numel;

      if (g_hash_table_lookup (by_name, ref->name) != ref)
        continue;
      data = read_tensor (src, ref, &budget, &numel, error);
      if (data == NULL)
        return NULL;
      bw_weights_insert (self, ref->name, ref->shape, ref->n_dims, data);
    }

  if (select == BW_SELECT_VGG19 && !check_vgg19 (self, lookup_weights, where, error))
    return NULL;

  if (refs_out != NULL)
    for (guint i = 0; i < refs->len; i++)
      if (g_hash_table_lookup (by_name, ((BwTensorRef *) g_ptr_array_index (refs, i))->name) ==
          g_ptr_array_index (refs, i))
        g_ptr_array_add (refs_out, g_steal_pointer (&refs->pdata[i]));
  if (format_out != NULL)
    *format_out = format;
  return g_steal_pointer (&self);
}

/* By name, the last of each name winning, as load_source() does. */
static GHashTable *
refs_by_name (GPtrArray *refs)
{
  GHashTable *by_name = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < refs->len; i++)
    {
      BwTensorRef *ref = g_ptr_array_index (refs, i);

      g_hash_table_insert (by_name, ref->name, ref);
    }
  return by_name;
}

gboolean
bw_weights_check_located (GPtrArray   *refs,
                          const char  *display,
                          GError     **error)
{
  g_autoptr(GHashTable) by_name = refs_by_name (refs);
  g_autofree char *where = g_strdup_printf ("“%s”", display);

  return check_vgg19 (by_name, lookup_refs, where, error);
}

BwWeights *
bw_weights_load_located (BwSource   *src,
                         GPtrArray  *refs,
                         GError    **error)
{
  g_autoptr(GHashTable) by_name = refs_by_name (refs);
  g_autoptr(BwWeights) self = NULL;
  g_autofree char *where = g_strdup_printf ("“%s”", src->display);
  guint64 budget;

  if (!check_vgg19 (by_name, lookup_refs, where, error))
    return NULL;

  /* src->size is a real file's or buffer's: no overflow */
  budget = src->size * 4 + 64 * 1024 * 1024;
  self = bw_weights_new ();
  for (guint i = 0; i < refs->len; i++)
    {
      BwTensorRef *ref = g_ptr_array_index (refs, i);
      float *data;
      gsize numel;

      if (g_hash_table_lookup (by_name, ref->name) != ref)
        continue;
      data = read_tensor (src, ref, &budget, &numel, error);
      if (data == NULL)
        return NULL;
      bw_weights_insert (self, ref->name, ref->shape, ref->n_dims, data);
    }
  if (!check_vgg19 (self, lookup_weights, where, error))
    return NULL;
  return g_steal_pointer (&self);
}

BwWeights *
bw_weights_load (const char  *path,
                 GError     **error)
{
  g_auto(BwSource) src = { 0 };

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!source_open (&src, path, error))
    return NULL;
  return load_source (&src, BW_SELECT_VGG19, NULL, NULL, error);
}

BwWeights *
bw_weights_load_bytes (GBytes             *bytes,
                       const char         *name_for_messages,
                       BwWeightsLoadFlags  flags,
                       GError            **error)
{
  g_auto(BwSource) src = { 0 };

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  src.display = g_strdup (name_for_messages != NULL ? name_for_messages : "weights");
  src.bytes = g_bytes_ref (bytes);
  src.size = g_bytes_get_size (bytes);
  return load_source (&src, (flags & BW_WEIGHTS_LOAD_ALL_TENSORS) ? BW_SELECT_ALL : BW_SELECT_VGG19,
                      NULL, NULL, error);
}

/* Saving. */

static void
append_json_string (GString    *s,
                    const char *str)
{
  g_string_append_c (s, '"');
  for (const char *p = str; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (s, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (s, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static gboolean
write_all (int           fd,
           const void   *buf,
           gsize         len,
           GError      **error)
{
  const guint8 *p = buf;

  while (len > 0)
    {
      gssize n = write (fd, p, MIN (len, (gsize) G_MAXSSIZE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;

          g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                               g_strerror (saved));
          return FALSE;
        }
      p += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
write_contents (BwWeights  *self,
                int         fd,
                GError    **error)
{
  g_autoptr(GString) header = g_string_new ("{\"__metadata__\":{\"format\":\"pt\"");
  guint64 offset = 0;
  guint8 len_le[8];
  guint64 header_len;

  /* so that the file, loaded again, feeds the network the input it was trained on */
  if (self->convention != BW_WEIGHTS_CONVENTION_TORCHVISION)
    g_string_append_printf (header, ",\"convention\":\"%s\"",
                            bw_weights_convention_to_string (self->convention));
  g_string_append_c (header, '}');
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (self->entries, i);
      guint64 bytes = (guint64) e->numel * sizeof (float);

      g_string_append_c (header, ',');
      append_json_string (header, e->name);
      g_string_append (header, ":{\"dtype\":\"F32\",\"shape\":[");
      for (guint d = 0; d < e->n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d > 0 ? "," : "", e->shape[d]);
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + bytes);
      offset += bytes;
    }
  g_string_append_c (header, '}');
  /* Pad so that the data (and so every F32 tensor) is 8-byte aligned, as the spec advises */
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');

  header_len = header->len;
  for (int i = 0; i < 8; i++)
    len_le[i] = header_len >> (8 * i);
  if (!write_all (fd, len_le, sizeof len_le, error) ||
      !write_all (fd, header->str, header->len, error))
    return FALSE;

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (self->entries, i);

      if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
        {
          if (!write_all (fd, e->data, e->numel * sizeof (float), error))
            return FALSE;
        }
      else
        {
          guint32 chunk[4096];

          for (gsize k = 0; k < e->numel; k += G_N_ELEMENTS (chunk))
            {
              gsize n = MIN (G_N_ELEMENTS (chunk), e->numel - k);

              for (gsize j = 0; j < n; j++)
                {
                  guint32 u;

                  memcpy (&u, &e->data[k + j], sizeof u);
                  chunk[j] = GUINT32_TO_LE (u);
                }
              if (!write_all (fd, chunk, n * sizeof (guint32), error))
                return FALSE;
            }
        }
    }
  if (fsync (fd) != 0)
    {
      int saved = errno;

      g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
bw_weights_save_safetensors (BwWeights   *self,
                             const char  *path,
                             GError     **error)
{
  g_autofree char *tmp = NULL;
  g_autofree char *display = NULL;
  gboolean ok;
  int fd;

  g_return_val_if_fail (BW_IS_WEIGHTS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display = g_filename_display_basename (path);

  /* Beside the target, so that the rename is atomic: readers see the old file or the new */
  tmp = g_strdup_printf ("%s.XXXXXX", path);
  fd = g_mkstemp_full (tmp, O_WRONLY, 0644);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not save “%s”: %s"), display, g_strerror (saved));
      return FALSE;
    }
  ok = write_contents (self, fd, error);
  if (!g_close (fd, ok ? error : NULL))
    ok = FALSE;
  if (ok && g_rename (tmp, path) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s", g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_prefix_error (error, _("Could not save “%s”: "), display);
    }
  return ok;
}

/* Manifest. */

char *
bw_weights_make_manifest (const char  *path,
                          GError     **error)
{
  g_auto(BwSource) src = { 0 };
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func ((GDestroyNotify) bw_tensor_ref_free);
  g_autoptr(BwWeights) weights = NULL;
  g_autoptr(GString) json = g_string_new (NULL);
  const char *format = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!source_open (&src, path, error))
    return NULL;
  /* Loading first verifies everything the manifest vouches for */
  weights = load_source (&src, BW_SELECT_VGG19, refs, &format, error);
  if (weights == NULL)
    return NULL;

  g_string_append (json, "{\"file\": ");
  append_json_string (json, src.display);
  g_string_append_printf (json, ", \"size\": %" G_GUINT64_FORMAT ", \"format\": \"%s\", \"tensors\": [",
                          src.size, format);
  /* In VGG19's order, whatever the file's */
  for (guint i = 0; i < BW_VGG19_N_CONVS * 2; i++)
    {
      const BwVgg19Conv *conv = &bw_vgg19_convs[i / 2];
      g_autofree char *name = g_strdup_printf ("features.%d.%s", conv->module,
                                               i % 2 == 0 ? "weight" : "bias");
      const BwTensorRef *ref = NULL;
      g_autoptr(GChecksum) sha = g_checksum_new (G_CHECKSUM_SHA256);
      g_autofree guint8 *bytes = NULL;
      guint64 numel = 1, start, len;
      guint es;

      for (guint k = 0; k < refs->len && ref == NULL; k++)
        if (g_str_equal (((BwTensorRef *) g_ptr_array_index (refs, k))->name, name))
          ref = g_ptr_array_index (refs, k);
      g_assert (ref != NULL);   /* load_source checked all 26 */

      if (!ref_is_contiguous (ref))
        {
          g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                       _("“%s” stores tensor %s non-contiguously, so its bytes are not one range."),
                       src.display, ref->name);
          return NULL;
        }
      es = bw_dtype_size (ref->dtype);
      for (guint d = 0; d < ref->n_dims; d++)
        numel *= ref->shape[d];   /* VGG19's shapes: no overflow */
      start = ref->file_offset + ref->offset * es;
      len = numel * es;
      bytes = bw_source_dup (&src, start, len, error);
      if (bytes == NULL)
        return NULL;
      g_checksum_update (sha, bytes, len);

      g_string_append_printf (json, "%s\n  {\"name\": ", i > 0 ? "," : "");
      append_json_string (json, ref->name);
      g_string_append_printf (json, ", \"dtype\": \"%s\", \"shape\": [", bw_dtype_name (ref->dtype));
      for (guint d = 0; d < ref->n_dims; d++)
        g_string_append_printf (json, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", ref->shape[d]);
      g_string_append_printf (json, "], \"offset\": %" G_GUINT64_FORMAT ", \"length\": %"
                              G_GUINT64_FORMAT ", \"sha256\": \"%s\"}",
                              start, len, g_checksum_get_string (sha));
    }
  g_string_append (json, "\n]}\n");
  return g_string_free (g_steal_pointer (&json), FALSE);
}
