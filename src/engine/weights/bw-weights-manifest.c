/* bw-weights-manifest.c: reading a weights manifest, as bw_weights_make_manifest() writes it:
 *
 *   { "url": "...", "size": N, "tensors": [ { "name": "features.0.weight", "dtype": "F32",
 *     "shape": [64, 3, 3, 3], "offset": N, "length": N, "sha256": "..." }, ... ] }
 *
 * json-glib parses; this file checks what the download relies on: every tensor one of VGG19's
 * convs, once, its length that of its shape and dtype, inside the file, none overlapping.
 */
#include "bw-i18n.h"
#include "bw-weights-download-private.h"

#include <string.h>
#include <json-glib/json-glib.h>

#define MAX_MANIFEST (1024 * 1024)

static void
mtensor_free (MTensor *t)
{
  bw_tensor_ref_free (t->ref);
  g_free (t);
}

void
bw_weights_manifest_free (Manifest *m)
{
  g_free (m->display);
  g_free (m->digest);
  g_free (m->url);
  g_clear_pointer (&m->tensors, g_ptr_array_unref);
  g_free (m);
}

static int
by_offset (gconstpointer a,
           gconstpointer b)
{
  const MTensor *x = *(MTensor *const *) a, *y = *(MTensor *const *) b;

  return x->ref->file_offset < y->ref->file_offset ? -1 : x->ref->file_offset > y->ref->file_offset;
}

G_GNUC_PRINTF (3, 4)
static Manifest *
manifest_invalid (const char  *display,
                  GError     **error,
                  const char  *format,
                  ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The weights manifest “%s” is not valid: %s. Make it again with "
               "brushwork-cli --make-weights-manifest."), display, what);
  return NULL;
}

/* The member @key of @object when it is of @type (JSON_NODE_OBJECT, _ARRAY, or a value's
 * G_TYPE_STRING), else NULL: a missing member and a wrong one are the same mistake. */
static JsonNode *
member (JsonNode   *object,
        const char *key,
        GType       type)
{
  JsonNode *node;

  if (object == NULL || !JSON_NODE_HOLDS_OBJECT (object))
    return NULL;
  node = json_object_get_member (json_node_get_object (object), key);
  if (node == NULL)
    return NULL;
  if (type == JSON_TYPE_OBJECT)
    return JSON_NODE_HOLDS_OBJECT (node) ? node : NULL;
  if (type == JSON_TYPE_ARRAY)
    return JSON_NODE_HOLDS_ARRAY (node) ? node : NULL;
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type ? node : NULL;
}

static const char *
member_string (JsonNode   *object,
               const char *key)
{
  JsonNode *node = member (object, key, G_TYPE_STRING);

  return node != NULL ? json_node_get_string (node) : NULL;
}

/* A byte count or size: a JSON integer, not negative (json-glib reads integers as gint64, so
 * one past G_MAXINT64 comes back negative and is refused too); not 1.0 nor 1e3. */
static gboolean
node_uint (JsonNode *node,
           guint64  *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < 0)
    return FALSE;
  *out = (guint64) json_node_get_int (node);
  return TRUE;
}

static gboolean
member_uint (JsonNode   *object,
             const char *key,
             guint64    *out)
{
  return node_uint (member (object, key, G_TYPE_INT64), out);
}

/* json-glib's "<data>:1:24: Parse error: ..." without the name of a buffer we never named. */
static const char *
parse_error_text (const GError *error)
{
  const char *s = error->message;

  return g_str_has_prefix (s, "<data>:") ? s + strlen ("<data>:") : s;
}

Manifest *
bw_weights_manifest_load (const char  *path,
                          GError     **error)
{
  g_autoptr(Manifest) m = g_new0 (Manifest, 1);
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GPtrArray) refs = g_ptr_array_new ();
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *text = NULL;
  JsonNode *root, *list;
  JsonArray *items;
  const char *url;
  gsize len = 0;

  m->display = g_filename_display_basename (path);
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, G_IO_ERROR, g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                   G_IO_ERROR_NOT_FOUND : G_IO_ERROR_FAILED,
                   _("Could not read the weights manifest “%s”: %s. Check BRUSHWORK_WEIGHTS_MANIFEST."),
                   m->display, local->message);
      return NULL;
    }
  if (len > MAX_MANIFEST)
    return manifest_invalid (m->display, error, "it is far larger than any manifest");
  m->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text, len);
  /* so that every name we may quote in a message is UTF-8, and no NUL cuts the text short */
  if (!g_utf8_validate (text, len, NULL))
    return manifest_invalid (m->display, error, "it is not UTF-8");
  if (len == 0)
    return manifest_invalid (m->display, error, "it is empty");
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, len, &local))
    return manifest_invalid (m->display, error, "it is not JSON (%s)", parse_error_text (local));
  root = json_parser_get_root (parser);

  list = member (root, "tensors", JSON_TYPE_ARRAY);
  if (!member_uint (root, "size", &m->size) || list == NULL)
    return manifest_invalid (m->display, error, "it lacks the file's size or its list of tensors");
  url = member_string (root, "url");
  m->url = g_strdup (url);
  m->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) mtensor_free);

  items = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);
      const char *name = member_string (item, "name");
      const char *dtype = member_string (item, "dtype");
      JsonNode *shape = member (item, "shape", JSON_TYPE_ARRAY);
      const char *sha = member_string (item, "sha256");
      g_autofree char *canonical = NULL;
      JsonArray *extents;
      MTensor *t;
      guint64 offset, length, numel = 1, bytes, stop;
      BwDtype dt;

      if (name == NULL || dtype == NULL || shape == NULL || !member_uint (item, "offset", &offset) ||
          !member_uint (item, "length", &length) || sha == NULL)
        return manifest_invalid (m->display, error, "tensor %u lacks a name, dtype, shape, offset, "
                                 "length or sha256", i);
      canonical = bw_weights_wanted_name (BW_SELECT_VGG19, name);
      if (canonical == NULL)
        return manifest_invalid (m->display, error, "it lists “%s”, which is not one of VGG19's "
                                 "convs up to conv5_1", name);
      if (!g_hash_table_add (names, g_strdup (canonical)))
        return manifest_invalid (m->display, error, "it lists %s twice", canonical);
      if (g_str_equal (dtype, "F32"))
        dt = BW_DTYPE_F32;
      else if (g_str_equal (dtype, "F16"))
        dt = BW_DTYPE_F16;
      else if (g_str_equal (dtype, "BF16"))
        dt = BW_DTYPE_BF16;
      else if (g_str_equal (dtype, "F64"))
        dt = BW_DTYPE_F64;
      else
        return manifest_invalid (m->display, error, "tensor %s has dtype “%s”", canonical, dtype);
      if (!bw_dl_is_sha256_hex (sha))
        return manifest_invalid (m->display, error, "the sha256 of tensor %s is not 64 hexadecimal "
                                 "digits", canonical);
      extents = json_node_get_array (shape);
      if (json_array_get_length (extents) > BW_MAX_DIMS)
        return manifest_invalid (m->display, error, "tensor %s has too many dimensions", canonical);

      t = g_new0 (MTensor, 1);
      t->ref = g_new0 (BwTensorRef, 1);
      t->ref->name = g_steal_pointer (&canonical);
      t->ref->dtype = dt;
      t->ref->n_dims = json_array_get_length (extents);
      t->ref->file_offset = offset;
      g_ptr_array_add (m->tensors, t);
      for (guint d = 0; d < t->ref->n_dims; d++)
        {
          guint64 extent;

          if (!node_uint (json_array_get_element (extents, d), &extent) ||
              !g_uint64_checked_mul (&numel, numel, extent))
            return manifest_invalid (m->display, error, "the shape of tensor %s is not a list of "
                                     "sizes", t->ref->name);
          t->ref->shape[d] = (gint64) extent;
        }
      bw_tensor_ref_set_contiguous (t->ref);
      t->ref->storage_numel = numel;
      t->length = length;
      g_strlcpy (t->sha256, sha, sizeof t->sha256);
      for (char *c = t->sha256; *c != '\0'; c++)
        *c = g_ascii_tolower (*c);
      if (!g_uint64_checked_mul (&bytes, numel, bw_dtype_size (dt)) || bytes != t->length)
        return manifest_invalid (m->display, error, "the length of tensor %s does not fit its "
                                 "shape and dtype", t->ref->name);
      if (!g_uint64_checked_add (&stop, t->ref->file_offset, t->length) || stop > m->size)
        return manifest_invalid (m->display, error, "tensor %s lies past the end of the file",
                                 t->ref->name);
      g_ptr_array_add (refs, t->ref);
    }

  g_ptr_array_sort (m->tensors, by_offset);
  for (guint i = 1; i < m->tensors->len; i++)
    {
      MTensor *a = g_ptr_array_index (m->tensors, i - 1), *b = g_ptr_array_index (m->tensors, i);

      if (b->ref->file_offset < a->ref->file_offset + a->length)
        return manifest_invalid (m->display, error, "tensors %s and %s overlap", a->ref->name,
                                 b->ref->name);
    }
  /* names and shapes: VGG19's, or the loader's sentence naming what is wrong */
  if (!bw_weights_check_located (refs, m->display, error))
    return NULL;
  return g_steal_pointer (&m);
}
