/* bw-torch.c: locating tensors in the two formats torch.save has written.
 *
 * Zip (torch >= 1.6): <prefix>/data.pkl holds the state dict's pickle; each storage is the
 * entry <prefix>/data/<key>, stored uncompressed. Only the central directory, data.pkl and
 * the local headers of wanted storages are read.
 *
 * Legacy (what torchvision's vgg19-dcbb9e9d.pth uses): five pickles one after another (magic
 * number, protocol version, sys info, the state dict, the list of storage keys), then each
 * storage as an 8-byte little-endian element count and its raw data. The storages are
 * stepped over by their counts, reading 8 bytes each; only wanted ones are read later.
 */
#include "bw-pickle.h"

#include <string.h>
#include "bw-i18n.h"

/* No state dict's pickle comes near this; bounds what the legacy reader buffers */
#define MAX_PICKLE (256u * 1024 * 1024)

static guint64
le (const guint8 *p,
    guint         n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

G_GNUC_PRINTF (3, 4)
static gboolean
damaged (GError     **error,
         BwSource    *src,
         const char  *format,
         ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               _("“%s” is damaged: %s. Download it again."), src->display, what);
  return FALSE;
}

/* Zip. */

typedef struct {
  guint16 flags;
  guint16 method;
  guint64 compressed;
  guint64 size;
  guint64 local_offset;
} ZipEntry;

/* The end of central directory record, and its zip64 version when fields overflow. */
static gboolean
zip_find_directory (BwSource  *src,
                    guint64   *cd_offset,
                    guint64   *cd_size,
                    guint64   *n_entries,
                    GError   **error)
{
  guint64 tail_len = MIN (src->size, 22 + 65535);
  guint64 tail_start = src->size - tail_len;
  g_autofree guint8 *tail = NULL;
  gint64 eocd = -1;
  const guint8 *e;

  tail = bw_source_dup (src, tail_start, tail_len, error);
  if (tail == NULL)
    return FALSE;
  for (gint64 i = (gint64) tail_len - 22; i >= 0; i--)
    if (memcmp (tail + i, "PK\5\6", 4) == 0 && (guint64) i + 22 + le (tail + i + 20, 2) <= tail_len)
      {
        eocd = i;
        break;
      }
  if (eocd < 0)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is truncated or damaged: its zip directory is missing. Download it again."),
                   src->display);
      return FALSE;
    }
  e = tail + eocd;
  *n_entries = le (e + 10, 2);
  *cd_size = le (e + 12, 4);
  *cd_offset = le (e + 16, 4);
  if (le (e + 4, 2) != 0 || le (e + 6, 2) != 0)
    return damaged (error, src, "it is a multi-part zip archive");

  if (*n_entries == 0xffff || *cd_size == 0xffffffff || *cd_offset == 0xffffffff)
    {
      guint8 loc[20], rec[56];
      guint64 at = tail_start + eocd, rec_offset;

      if (at < 20 || !bw_source_read (src, at - 20, 20, loc, NULL) || memcmp (loc, "PK\6\7", 4) != 0)
        return damaged (error, src, "its zip64 directory locator is missing");
      rec_offset = le (loc + 8, 8);
      if (rec_offset > at || at - rec_offset < 56 || !bw_source_read (src, rec_offset, 56, rec, NULL))
        return damaged (error, src, "its zip64 directory record is out of place");
      if (memcmp (rec, "PK\6\6", 4) != 0)
        return damaged (error, src, "its zip64 directory record is missing");
      *n_entries = le (rec + 32, 8);
      *cd_size = le (rec + 40, 8);
      *cd_offset = le (rec + 48, 8);
    }
  if (*cd_offset > src->size || *cd_size > src->size - *cd_offset)
    {
      bw_set_truncated_error (error, src, "its zip directory", *cd_size, *cd_offset);
      return FALSE;
    }
  return TRUE;
}

/* name -> ZipEntry */
static GHashTable *
zip_read_directory (BwSource  *src,
                    GError   **error)
{
  g_autoptr(GHashTable) entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree guint8 *cd = NULL;
  guint64 cd_offset, cd_size, n_entries, pos = 0;

  if (!zip_find_directory (src, &cd_offset, &cd_size, &n_entries, error))
    return NULL;
  if (n_entries > cd_size / 46)
    {
      damaged (error, src, "its zip directory claims more entries than it has room for");
      return NULL;
    }
  cd = bw_source_dup (src, cd_offset, cd_size, error);
  if (cd == NULL)
    return NULL;

  for (guint64 i = 0; i < n_entries; i++)
    {
      const guint8 *h = cd + pos;
      guint64 name_len, extra_len, comment_len;
      ZipEntry entry;
      char *name;

      if (cd_size - pos < 46 || memcmp (h, "PK\1\2", 4) != 0)
        {
          damaged (error, src, "its zip directory is corrupt");
          return NULL;
        }
      entry.flags = le (h + 8, 2);
      entry.method = le (h + 10, 2);
      entry.compressed = le (h + 20, 4);
      entry.size = le (h + 24, 4);
      entry.local_offset = le (h + 42, 4);
      name_len = le (h + 28, 2);
      extra_len = le (h + 30, 2);
      comment_len = le (h + 32, 2);
      if (cd_size - pos - 46 < name_len + extra_len + comment_len)
        {
          damaged (error, src, "its zip directory is corrupt");
          return NULL;
        }

      /* zip64: the fields that overflowed follow in the extra field, in this order */
      for (guint64 x = 0; x + 4 <= extra_len;)
        {
          const guint8 *f = h + 46 + name_len + x;
          guint64 id = le (f, 2), len = le (f + 2, 2), k = 4;

          if (x + 4 + len > extra_len)
            break;
          if (id == 0x0001)
            {
              if (entry.size == 0xffffffff && k + 8 <= 4 + len)
                entry.size = le (f + k, 8), k += 8;
              if (entry.compressed == 0xffffffff && k + 8 <= 4 + len)
                entry.compressed = le (f + k, 8), k += 8;
              if (entry.local_offset == 0xffffffff && k + 8 <= 4 + len)
                entry.local_offset = le (f + k, 8), k += 8;
            }
          x += 4 + len;
        }

      name = g_strndup ((const char *) h + 46, name_len);
      if (g_hash_table_contains (entries, name))
        g_free (name);   /* the first one is the one torch reads */
      else
        g_hash_table_insert (entries, name, g_memdup2 (&entry, sizeof entry));
      pos += 46 + name_len + extra_len + comment_len;
    }
  return g_steal_pointer (&entries);
}

/* Where an entry's bytes start; refuses what is compressed or encrypted. */
static gboolean
zip_entry_data (BwSource        *src,
                const ZipEntry  *entry,
                const char      *what,
                guint64         *offset,
                GError         **error)
{
  guint8 local[30];
  guint64 start;

  if (entry->flags & 1)
    return damaged (error, src, "%s is encrypted", what);
  if (entry->method != 0)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” stores %s compressed (zip method %u), which is not supported: torch.save "
                     "never compresses; save it again with torch.save."),
                   src->display, what, entry->method);
      return FALSE;
    }
  if (entry->compressed != entry->size)
    return damaged (error, src, "%s has two different sizes", what);
  if (entry->local_offset > src->size || src->size - entry->local_offset < sizeof local)
    {
      bw_set_truncated_error (error, src, what, sizeof local, entry->local_offset);
      return FALSE;
    }
  if (!bw_source_read (src, entry->local_offset, sizeof local, local, error))
    return FALSE;
  if (memcmp (local, "PK\3\4", 4) != 0)
    return damaged (error, src, "the zip header of %s is missing", what);
  start = entry->local_offset + 30 + le (local + 26, 2) + le (local + 28, 2);
  if (start > src->size || entry->size > src->size - start)
    {
      bw_set_truncated_error (error, src, what, entry->size, start);
      return FALSE;
    }
  *offset = start;
  return TRUE;
}

/* "<prefix>/data.pkl", the prefix being the archive's single top-level folder. */
static char *
zip_find_prefix (GHashTable *entries)
{
  GHashTableIter iter;
  const char *name;
  char *best = NULL;

  g_hash_table_iter_init (&iter, entries);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      const char *slash = strchr (name, '/');

      if (slash != NULL && g_str_equal (slash, "/data.pkl") &&
          (best == NULL || strcmp (name, best) < 0))   /* deterministic if several */
        {
          g_free (best);
          best = g_strndup (name, slash - name);
        }
    }
  return best;
}

gboolean
bw_torch_zip_locate (BwSource   *src,
                     BwSelect    select,
                     GPtrArray  *refs,
                     GError    **error)
{
  g_autoptr(GHashTable) entries = NULL;
  g_autoptr(BwPickle) pickle = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) bw_tensor_ref_free);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = NULL;
  g_autofree char *pkl_name = NULL;
  g_autofree char *order_name = NULL;
  g_autofree guint8 *pkl = NULL;
  const ZipEntry *entry;
  const BwPickleValue *root;
  guint64 offset;

  entries = zip_read_directory (src, error);
  if (entries == NULL)
    return FALSE;
  prefix = zip_find_prefix (entries);
  if (prefix == NULL)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is a zip file but not one that torch.save wrote: it has no data.pkl."),
                   src->display);
      return FALSE;
    }

  /* Written since torch 2.1; older files are always little-endian */
  order_name = g_strdup_printf ("%s/byteorder", prefix);
  entry = g_hash_table_lookup (entries, order_name);
  if (entry != NULL)
    {
      char order[7] = { 0 };

      if (!zip_entry_data (src, entry, "its byte order", &offset, error))
        return FALSE;
      if (entry->size != 6 || !bw_source_read (src, offset, 6, order, error) ||
          strcmp (order, "little") != 0)
        {
          g_clear_error (error);
          g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                       _("“%s” was saved on a big-endian machine, which is not supported."),
                       src->display);
          return FALSE;
        }
    }

  pkl_name = g_strdup_printf ("%s/data.pkl", prefix);
  entry = g_hash_table_lookup (entries, pkl_name);
  if (!zip_entry_data (src, entry, "its pickle", &offset, error))
    return FALSE;
  if (entry->size > MAX_PICKLE)
    return damaged (error, src, "its pickle is larger than any state dict's");
  pkl = bw_source_dup (src, offset, entry->size, error);
  if (pkl == NULL)
    return FALSE;

  pickle = bw_pickle_new (src->display);
  root = bw_pickle_run (pickle, pkl, entry->size, NULL, NULL, error);
  if (root == NULL || !bw_pickle_collect_tensors (pickle, root, select, found, keys, error))
    return FALSE;

  for (guint i = 0; i < found->len; i++)
    {
      BwTensorRef *ref = g_ptr_array_index (found, i);
      g_autofree char *data_name = g_strdup_printf ("%s/data/%s", prefix, (char *) keys->pdata[i]);
      g_autofree char *what = g_strdup_printf ("tensor %s", ref->name);
      guint64 have;

      entry = g_hash_table_lookup (entries, data_name);
      if (entry == NULL)
        return damaged (error, src, "the storage of tensor %s is missing", ref->name);
      if (!zip_entry_data (src, entry, what, &ref->file_offset, error))
        return FALSE;
      have = entry->size / bw_dtype_size (ref->dtype);
      if (have < ref->storage_numel)
        return damaged (error, src, "the storage of tensor %s is shorter than its pickle says",
                        ref->name);
    }
  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add (refs, g_steal_pointer (&found->pdata[i]));
  return TRUE;
}

/* Legacy. */

static const guint8 legacy_magic[] = { 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 };

/* Runs the five leading pickles over @buf; FALSE with *short_input when @buf ends inside. */
static gboolean
legacy_run_pickles (BwSource       *src,
                    BwPickle       *pickle,
                    const guint8   *buf,
                    gsize           len,
                    const BwPickleValue **state,
                    const BwPickleValue **keys,
                    gsize          *used,
                    gboolean       *short_input,
                    GError        **error)
{
  const BwPickleValue *v[5] = { NULL };
  gsize pos = 0;

  for (int i = 0; i < 5; i++)
    {
      gsize n = 0;

      v[i] = bw_pickle_run (pickle, buf + pos, len - pos, &n, short_input, error);
      if (v[i] == NULL)
        return FALSE;
      pos += n;

      /* Check each as soon as it is read: a pickle that is not torch's stops at the first */
      if (i == 0 && (v[0]->kind != BW_PV_BIGINT || v[0]->str.len != sizeof legacy_magic ||
                     memcmp (v[0]->str.data, legacy_magic, sizeof legacy_magic) != 0))
        {
          g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                       _("“%s” is a Python pickle but not a PyTorch file: it lacks PyTorch's magic "
                         "number."), src->display);
          return FALSE;
        }
      if (i == 1 && (v[1]->kind != BW_PV_INT || v[1]->i != 1001))
        {
          g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                       _("“%s” uses a version of PyTorch's file format that is not supported."),
                       src->display);
          return FALSE;
        }
      if (i == 2)
        {
          if (v[2]->kind != BW_PV_DICT)
            return damaged (error, src, "its system information is not a dict");
          for (guint k = 0; k + 1 < v[2]->items->len; k += 2)
            {
              const BwPickleValue *key = g_ptr_array_index (v[2]->items, k);
              const BwPickleValue *val = g_ptr_array_index (v[2]->items, k + 1);

              if (key->kind == BW_PV_STR && g_str_equal (key->str.data, "little_endian") &&
                  !(val->kind == BW_PV_BOOL && val->b))
                {
                  g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                               _("“%s” was saved on a big-endian machine, which is not supported."),
                               src->display);
                  return FALSE;
                }
            }
        }
    }
  if (v[4]->kind != BW_PV_LIST)
    return damaged (error, src, "its list of storages is not a list");
  *state = v[3];
  *keys = v[4];
  *used = pos;
  return TRUE;
}

gboolean
bw_torch_legacy_read_pickles (const char           *display,
                              BwPickle             *pickle,
                              const guint8         *buf,
                              gsize                 len,
                              const BwPickleValue **state,
                              const BwPickleValue **keys,
                              gsize                *used,
                              gboolean             *short_input,
                              GError              **error)
{
  BwSource src = { .display = (char *) display };   /* only named in messages */

  return legacy_run_pickles (&src, pickle, buf, len, state, keys, used, short_input, error);
}

typedef struct {
  guint64 offset;   /* of the data, after the count */
  guint64 numel;
} LegacyStorage;

gboolean
bw_torch_legacy_locate (BwSource   *src,
                        BwSelect    select,
                        GPtrArray  *refs,
                        GError    **error)
{
  g_autoptr(BwPickle) pickle = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) bw_tensor_ref_free);
  g_autoptr(GPtrArray) found_keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) located = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autofree guint8 *buf = NULL;
  const BwPickleValue *state = NULL, *keys = NULL;
  guint64 len = MIN (src->size, 1024 * 1024);
  guint64 pos = 0;
  const char *cut_key = NULL;
  guint64 cut_need = 0, cut_offset = 0;

  /* The pickles' total length is only known once they are run: read a prefix, and more if
   * they run past it */
  while (TRUE)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean short_input = FALSE;
      gsize used = 0;

      g_clear_pointer (&buf, g_free);
      g_clear_pointer (&pickle, bw_pickle_free);
      buf = bw_source_dup (src, 0, len, error);
      if (buf == NULL)
        return FALSE;
      pickle = bw_pickle_new (src->display);
      if (legacy_run_pickles (src, pickle, buf, len, &state, &keys, &used, &short_input,
                              &local_error))
        {
          pos = used;
          break;
        }
      if (!short_input || len == src->size || len >= MAX_PICKLE)
        {
          if (short_input && len >= MAX_PICKLE && len < src->size)
            return damaged (error, src, "its pickles are larger than any state dict's");
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      len = MIN (MIN (len * 4, src->size), MAX_PICKLE);
    }
  g_clear_pointer (&buf, g_free);

  if (!bw_pickle_collect_tensors (pickle, state, select, found, found_keys, error))
    return FALSE;

  /* Step over every storage by its count; remember where each starts */
  for (guint i = 0; i < keys->items->len; i++)
    {
      const BwPickleValue *key = g_ptr_array_index (keys->items, i);
      const BwPickleValue *storage;
      LegacyStorage *ls;
      guint64 bytes;

      if (key->kind != BW_PV_STR)
        return damaged (error, src, "its list of storages holds something other than a key");
      storage = bw_pickle_lookup_storage (pickle, key->str.data);
      if (storage == NULL)
        return damaged (error, src, "it lists a storage (“%s”) that its pickle never uses",
                        key->str.data);
      if (g_hash_table_contains (located, key->str.data))
        return damaged (error, src, "it lists storage “%s” twice", key->str.data);

      ls = g_new0 (LegacyStorage, 1);
      ls->numel = storage->storage.numel;
      g_hash_table_insert (located, (char *) key->str.data, ls);
      if (pos <= src->size && src->size - pos >= 8)
        {
          guint8 count[8];

          if (!bw_source_read (src, pos, 8, count, error))
            return FALSE;
          if (le (count, 8) != ls->numel)
            return damaged (error, src, "storage “%s” holds %" G_GUINT64_FORMAT " elements where "
                            "its pickle says %" G_GUINT64_FORMAT, key->str.data, le (count, 8),
                            ls->numel);
        }
      /* pos + 8 + numel * size, each step bounded: numel is checked against the file below */
      if (!g_uint64_checked_mul (&bytes, ls->numel, bw_dtype_size (storage->storage.dtype)) ||
          !g_uint64_checked_add (&ls->offset, pos, 8) ||
          !g_uint64_checked_add (&pos, ls->offset, bytes))
        return damaged (error, src, "storage “%s” is larger than any file", key->str.data);
      if (pos > src->size && cut_key == NULL)
        {
          cut_key = key->str.data;
          cut_need = bytes;
          cut_offset = ls->offset;
        }
    }

  for (guint i = 0; i < found->len; i++)
    {
      BwTensorRef *ref = g_ptr_array_index (found, i);
      LegacyStorage *ls = g_hash_table_lookup (located, found_keys->pdata[i]);

      if (ls == NULL)
        return damaged (error, src, "the storage of tensor %s is missing", ref->name);
      ref->file_offset = ls->offset;
      ref->storage_numel = ls->numel;
      /* Name the tensor when the cut is in one we need */
      if (ls->offset > src->size || ls->numel * bw_dtype_size (ref->dtype) > src->size - ls->offset)
        {
          g_autofree char *what = g_strdup_printf ("tensor %s", ref->name);

          bw_set_truncated_error (error, src, what, ls->numel * bw_dtype_size (ref->dtype),
                                  ls->offset);
          return FALSE;
        }
    }
  if (cut_key != NULL)
    {
      g_autofree char *what = g_strdup_printf ("storage “%s”", cut_key);

      bw_set_truncated_error (error, src, what, cut_need, cut_offset);
      return FALSE;
    }

  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add (refs, g_steal_pointer (&found->pdata[i]));
  return TRUE;
}
