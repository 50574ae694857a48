/* bw-weights-download-whole.c: the whole file, streamed once.
 *
 * Every byte is hashed (bw-sha256: its state can be saved, which GChecksum's cannot, so an
 * interrupted run resumes without fetching the start again). The file's first bytes say its
 * format. Legacy PyTorch (the official file): its pickles are parsed as soon as they have
 * arrived, which gives the order and size of every storage that follows; the storages then
 * stream past, and only the 8-byte counts and the conv layers' storages are written to
 * DEST.download ("kept"), ~52 MB of 548. Zip or safetensors: every byte is written, and the
 * loader reads the verified file.
 *
 * The state is saved every 16 MB and when a run stops, after the kept bytes are synced: a
 * later run truncates DEST.download to what the state vouches for and asks for the rest.
 */
#include "bw-i18n.h"
#include "bw-weights-download-private.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bw-pickle.h"
#include "bw-sha256.h"

#define MAX_HEAD (16 * 1024 * 1024)       /* a legacy file's pickles; any state dict's fit */

static guint64
le64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 0; i < 8; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

typedef enum {
  PHASE_HEAD,       /* the first bytes, until the format is known and a legacy file's pickles parsed */
  PHASE_STORAGES,   /* a legacy file's storages: counts and conv layers kept, the rest hashed only */
  PHASE_ALL,        /* another format: every byte kept */
} Phase;

typedef struct {
  const char *key;  /* owned by the pickle */
  guint64 numel;
  guint64 bytes;
  guint64 at;       /* of its 8-byte count, in the file */
  guint64 kept_at;  /* of the same, in DEST.download */
  gboolean wanted;
} Storage;

typedef struct {
  Download *dl;
  Phase phase;
  BwSha256 sha;
  guint64 pos;            /* bytes of the file received and hashed */
  int fd;
  guint64 kept;           /* bytes in DEST.download */
  guint64 checkpointed;   /* pos at the last checkpoint */

  GByteArray *head;       /* PHASE_HEAD: the bytes so far (also in DEST.download) */
  gsize next_try;         /* parse the pickles again once head holds this much */
  gboolean legacy;

  guint64 pickles_len;    /* PHASE_STORAGES */
  BwPickle *pickle;
  GPtrArray *refs;        /* BwTensorRef *, the wanted tensors */
  GPtrArray *ref_keys;    /* char *, each one's storage key */
  GArray *storages;       /* Storage, in file order */
  guint cur;              /* the storage that pos is in */
  guint8 count[8];
} Whole;

static void
whole_reset_parse (Whole *w)
{
  g_clear_pointer (&w->head, g_byte_array_unref);
  g_clear_pointer (&w->refs, g_ptr_array_unref);
  g_clear_pointer (&w->ref_keys, g_ptr_array_unref);
  g_clear_pointer (&w->storages, g_array_unref);
  g_clear_pointer (&w->pickle, bw_pickle_free);
  w->next_try = 0;
  w->legacy = FALSE;
  w->pickles_len = 0;
  w->cur = 0;
}

static void
whole_clear (Whole *w)
{
  whole_reset_parse (w);
  if (w->fd >= 0)
    close (w->fd);
  w->fd = -1;
}

G_GNUC_PRINTF (3, 4)
static gboolean
damaged (Whole       *w,
         GError     **error,
         const char  *format,
         ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               _("“%s” is damaged: %s. Download it again."), w->dl->display, what);
  return FALSE;
}

static gboolean
keep (Whole         *w,
      const guint8  *data,
      gsize          len,
      GError       **error)
{
  if (!bw_dl_write_at (w->dl, w->fd, w->kept, data, len, error))
    return FALSE;
  w->kept += len;
  return TRUE;
}

/* Where a storage's bytes lie, from the list of keys that follows the state dict; checked
 * as bw_torch_legacy_locate() checks it. */
static gboolean
layout_storages (Whole                *w,
                 const BwPickleValue  *keys,
                 GError              **error)
{
  g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  guint64 at = w->pickles_len, kept_at = w->pickles_len;

  for (guint i = 0; i < w->ref_keys->len; i++)
    g_hash_table_add (wanted, g_ptr_array_index (w->ref_keys, i));
  w->storages = g_array_new (FALSE, TRUE, sizeof (Storage));
  for (guint i = 0; i < keys->items->len; i++)
    {
      const BwPickleValue *key = g_ptr_array_index (keys->items, i);
      const BwPickleValue *storage;
      Storage st = { 0 };

      if (key->kind != BW_PV_STR)
        return damaged (w, error, "its list of storages holds something other than a key");
      storage = bw_pickle_lookup_storage (w->pickle, key->str.data);
      if (storage == NULL)
        return damaged (w, error, "it lists a storage (“%s”) that its pickle never uses", key->str.data);
      if (!g_hash_table_add (listed, (char *) key->str.data))
        return damaged (w, error, "it lists storage “%s” twice", key->str.data);
      st.key = key->str.data;
      st.numel = storage->storage.numel;
      st.wanted = g_hash_table_contains (wanted, st.key);
      st.at = at;
      st.kept_at = kept_at;
      if (!g_uint64_checked_mul (&st.bytes, st.numel, bw_dtype_size (storage->storage.dtype)) ||
          !g_uint64_checked_add (&at, at, 8) || !g_uint64_checked_add (&at, at, st.bytes))
        return damaged (w, error, "storage “%s” is larger than any file", st.key);
      kept_at += 8 + (st.wanted ? st.bytes : 0);
      g_array_append_val (w->storages, st);
    }
  for (guint i = 0; i < w->ref_keys->len; i++)
    if (!g_hash_table_contains (listed, g_ptr_array_index (w->ref_keys, i)))
      return damaged (w, error, "the storage of tensor %s is missing",
                      ((BwTensorRef *) g_ptr_array_index (w->refs, i))->name);
  return TRUE;
}

/* Runs the pickles over the first @len bytes; FALSE with *@short_input when they go on. */
static gboolean
parse_pickles (Whole         *w,
               const guint8  *data,
               gsize          len,
               gboolean      *short_input,
               GError       **error)
{
  const BwPickleValue *state = NULL, *keys = NULL;
  gsize used = 0;

  g_clear_pointer (&w->refs, g_ptr_array_unref);
  g_clear_pointer (&w->ref_keys, g_ptr_array_unref);
  g_clear_pointer (&w->storages, g_array_unref);
  g_clear_pointer (&w->pickle, bw_pickle_free);
  w->pickle = bw_pickle_new (w->dl->display);
  *short_input = FALSE;
  if (!bw_torch_legacy_read_pickles (w->dl->display, w->pickle, data, len, &state, &keys, &used,
                                     short_input, error))
    return FALSE;
  w->pickles_len = used;
  w->refs = g_ptr_array_new_with_free_func ((GDestroyNotify) bw_tensor_ref_free);
  w->ref_keys = g_ptr_array_new_with_free_func (g_free);
  /* Not VGG19: say so now, not after 548 MB */
  return bw_pickle_collect_tensors (w->pickle, state, BW_SELECT_VGG19, w->refs, w->ref_keys, error) &&
         bw_weights_check_located (w->refs, w->dl->display, error) &&
         layout_storages (w, keys, error);
}

/* Bytes of the storages, starting at file offset @offset. */
static gboolean
storages_feed (Whole         *w,
               guint64        offset,
               const guint8  *data,
               gsize          len,
               GError       **error)
{
  while (len > 0 && w->cur < w->storages->len)
    {
      Storage *st = &g_array_index (w->storages, Storage, w->cur);
      guint64 rel = offset - st->at;
      gsize n;

      if (rel < 8)
        {
          n = MIN (len, 8 - rel);
          memcpy (w->count + rel, data, n);
          if (!keep (w, data, n, error))
            return FALSE;
          if (rel + n == 8 && le64 (w->count) != st->numel)
            return damaged (w, error, "storage “%s” holds %" G_GUINT64_FORMAT " elements where "
                            "its pickle says %" G_GUINT64_FORMAT, st->key, le64 (w->count), st->numel);
        }
      else
        {
          n = (gsize) MIN ((guint64) len, 8 + st->bytes - rel);
          if (st->wanted && !keep (w, data, n, error))
            return FALSE;
        }
      data += n;
      len -= n;
      offset += n;
      if (offset == st->at + 8 + st->bytes)
        w->cur++;
    }
  /* what follows the last storage is hashed, and otherwise ignored, as torch.load does */
  return TRUE;
}

/* With what PHASE_HEAD holds: decide the format; for a legacy file, parse the pickles once
 * they are all there. @final: nothing more will come. */
static gboolean
head_try (Whole     *w,
          gboolean   final,
          GError   **error)
{
  const guint8 *h = w->head->data;
  gsize len = w->head->len;
  gboolean short_input = FALSE;
  g_autoptr(GError) local = NULL;
  g_autoptr(GByteArray) head = NULL;

  if (!w->legacy)
    {
      if (len < 9 && !final)
        return TRUE;
      /* as load_source() tells them apart; an HTML error page is none of them */
      if (len >= 4 && memcmp (h, "PK\3\4", 4) == 0)
        w->phase = PHASE_ALL;
      else if (len >= 9 && h[8] == '{')
        w->phase = PHASE_ALL;
      else if (len >= 1 && h[0] == 0x80)
        w->legacy = TRUE;
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Could not download VGG19's weights from %s: the server sent something "
                       "other than a weights file. Run again later, or pass a local copy with "
                       "--weights FILE."), w->dl->host);
          return FALSE;
        }
      if (w->phase == PHASE_ALL)
        {
          g_clear_pointer (&w->head, g_byte_array_unref);
          return TRUE;
        }
    }

  /* Parsing again from the start as bytes come is simplest; trying only each time the head
   * doubles keeps that linear */
  if (len < w->next_try && !final)
    return TRUE;
  if (!parse_pickles (w, h, len, &short_input, &local))
    {
      if (!short_input)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (final)
        {
          g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                       _("“%s” is truncated: it ends inside its pickles. Download it again."),
                       w->dl->display);
          return FALSE;
        }
      if (len >= MAX_HEAD)
        return damaged (w, error, "its pickles are larger than any state dict's");
      w->next_try = MAX (len * 2, 64 * 1024);
      return TRUE;
    }

  /* DEST.download holds the head; keep the pickles, and of what came after them only what
   * the storages' walk keeps */
  if (ftruncate (w->fd, (off_t) w->pickles_len) != 0)
    return bw_dl_errno_error (w->dl, error, errno);
  w->kept = w->pickles_len;
  w->phase = PHASE_STORAGES;
  w->cur = 0;
  head = g_steal_pointer (&w->head);
  return storages_feed (w, w->pickles_len, head->data + w->pickles_len, len - w->pickles_len, error);
}

static void
whole_checkpoint (Whole   *w,
                  guint64  pos)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *hash = NULL;
  static const char *const phases[] = { "head", "storages", "all" };

  if (fdatasync (w->fd) != 0)
    return;
  hash = bw_sha256_save (&w->sha);
  g_key_file_set_string (kf, "download", "method", "whole");
  g_key_file_set_string (kf, "download", "sha256", w->dl->sha256);
  g_key_file_set_string (kf, "download", "phase", phases[w->phase]);
  bw_dl_state_set_uint (kf, "pickles", w->pickles_len);
  bw_dl_state_set_uint (kf, "position", pos);
  bw_dl_state_set_uint (kf, "kept", w->kept);
  g_key_file_set_string (kf, "download", "hash", hash);
  bw_dl_save_state (w->dl, kf);
  w->checkpointed = pos;
}

static gboolean
whole_body (gpointer       user,
            guint64        offset,
            const guint8  *data,
            gsize          len,
            GError       **error)
{
  Whole *w = user;

  bw_sha256_update (&w->sha, data, len);
  switch (w->phase)
    {
    case PHASE_HEAD:
      g_byte_array_append (w->head, data, len);
      if (!keep (w, data, len, error) || !head_try (w, FALSE, error))
        return FALSE;
      break;
    case PHASE_STORAGES:
      if (!storages_feed (w, offset, data, len, error))
        return FALSE;
      break;
    case PHASE_ALL:
    default:
      if (!keep (w, data, len, error))
        return FALSE;
      break;
    }
  /* fetch() advances w->pos once this returns */
  bw_dl_report (w->dl, offset + len, w->dl->size, FALSE);
  if (offset + len - w->checkpointed >= BW_DL_CHECKPOINT_EVERY)
    whole_checkpoint (w, offset + len);
  return TRUE;
}

static gboolean
whole_restart (gpointer   user,
               GError   **error)
{
  Whole *w = user;

  g_debug ("The server sent the whole file: starting again from its beginning");
  whole_reset_parse (w);
  w->head = g_byte_array_new ();
  w->phase = PHASE_HEAD;
  w->pos = 0;
  w->kept = 0;
  w->checkpointed = 0;
  w->dl->resumed_at = 0;
  bw_sha256_init (&w->sha);
  g_unlink (w->dl->state_path);
  if (ftruncate (w->fd, 0) != 0)
    return bw_dl_errno_error (w->dl, error, errno);
  return TRUE;
}

/* Picks up what an earlier run saved; FALSE when there is nothing usable (start afresh). */
static gboolean
whole_resume (Whole *w)
{
  g_autoptr(GKeyFile) kf = bw_dl_load_state (w->dl, "whole");
  g_autofree char *sha = NULL;
  g_autofree char *phase = NULL;
  g_autofree char *hash = NULL;
  gboolean ok = TRUE;
  guint64 pos, kept, pickles;
  struct stat st;

  if (kf == NULL)
    return FALSE;
  sha = g_key_file_get_string (kf, "download", "sha256", NULL);
  phase = g_key_file_get_string (kf, "download", "phase", NULL);
  hash = g_key_file_get_string (kf, "download", "hash", NULL);
  pos = bw_dl_state_uint (kf, "position", &ok);
  kept = bw_dl_state_uint (kf, "kept", &ok);
  pickles = bw_dl_state_uint (kf, "pickles", &ok);
  /* the same file (by its checksum, from wherever) and the bytes the state vouches for */
  if (!ok || g_strcmp0 (sha, w->dl->sha256) != 0 || !bw_sha256_restore (&w->sha, hash) ||
      w->sha.length != pos || fstat (w->fd, &st) != 0 || (guint64) st.st_size < kept ||
      ftruncate (w->fd, (off_t) kept) != 0)
    return FALSE;
  bw_dl_restore_common (w->dl, kf);
  w->pos = pos;
  w->kept = kept;
  w->checkpointed = pos;

  if (g_strcmp0 (phase, "all") == 0)
    {
      w->phase = PHASE_ALL;
      return kept == pos;
    }
  if (g_strcmp0 (phase, "head") == 0)
    {
      g_autoptr(GError) error = NULL;

      if (kept != pos || kept > MAX_HEAD)
        return FALSE;
      w->phase = PHASE_HEAD;
      w->head = g_byte_array_sized_new (kept);
      g_byte_array_set_size (w->head, kept);
      return bw_dl_read_at (w->fd, 0, w->head->data, kept) && head_try (w, FALSE, &error);
    }
  if (g_strcmp0 (phase, "storages") == 0 && pickles > 0 && pickles <= MAX_HEAD && pickles <= pos)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *buf = g_malloc (pickles);
      gboolean short_input = FALSE;
      guint64 expect_kept;
      Storage *s;

      if (!bw_dl_read_at (w->fd, 0, buf, pickles) ||
          !parse_pickles (w, buf, pickles, &short_input, &error) || w->pickles_len != pickles)
        return FALSE;
      w->phase = PHASE_STORAGES;
      /* the storage pos is in, and what must be kept up to there */
      for (w->cur = 0; w->cur < w->storages->len; w->cur++)
        {
          s = &g_array_index (w->storages, Storage, w->cur);
          if (pos < s->at + 8 + s->bytes)
            break;
        }
      if (w->cur == w->storages->len)
        {
          Storage *last = w->storages->len > 0 ? &g_array_index (w->storages, Storage, w->storages->len - 1) : NULL;

          expect_kept = last != NULL ? last->kept_at + 8 + (last->wanted ? last->bytes : 0) : pickles;
          return kept == expect_kept;
        }
      s = &g_array_index (w->storages, Storage, w->cur);
      if (pos < s->at)
        return FALSE;
      expect_kept = s->kept_at + MIN (pos - s->at, 8) + (s->wanted && pos - s->at > 8 ? pos - s->at - 8 : 0);
      if (kept != expect_kept)
        return FALSE;
      /* a count cut in two: its first bytes are kept */
      if (pos - s->at < 8 && !bw_dl_read_at (w->fd, s->kept_at, w->count, pos - s->at))
        return FALSE;
      return TRUE;
    }
  return FALSE;
}

static gboolean
whole_finish (Whole       *w,
              BwWeights  **out,
              GError     **error)
{
  g_autofree char *got = bw_sha256_finish_hex (&w->sha);
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local = NULL;

  bw_dl_report (w->dl, w->pos, w->dl->size > 0 ? w->dl->size : w->pos, TRUE);

  /* Integrity first: a file that is not the published one is never used, however it parses */
  if (g_ascii_strcasecmp (got, w->dl->sha256) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The file downloaded from %s is not VGG19's published weights (its SHA-256 is "
                   "%.12s…, not %.12s…), so it was not used. Run again, or pass a local copy "
                   "with --weights FILE."), w->dl->host, got, w->dl->sha256);
      return FALSE;
    }
  if (w->phase == PHASE_HEAD && !head_try (w, TRUE, error))
    return FALSE;
  if (w->phase == PHASE_STORAGES && w->cur < w->storages->len)
    {
      Storage *s = &g_array_index (w->storages, Storage, w->cur);

      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   "“%s” is truncated: storage “%s” needs %" G_GUINT64_FORMAT " bytes at offset %"
                   G_GUINT64_FORMAT " but the file ends at %" G_GUINT64_FORMAT ". Download it again.",
                   w->dl->display, s->key, s->bytes, s->at + 8, w->pos);
      return FALSE;
    }

  mapped = g_mapped_file_new_from_fd (w->fd, FALSE, &local);
  if (mapped == NULL)
    return bw_dl_save_error (w->dl, error, local->domain, local->code, local->message);
  bytes = g_mapped_file_get_bytes (mapped);
  if (w->phase == PHASE_ALL)
    *out = bw_weights_load_bytes (bytes, w->dl->display, BW_WEIGHTS_LOAD_DEFAULT, error);
  else
    {
      g_autoptr(GHashTable) by_key = g_hash_table_new (g_str_hash, g_str_equal);
      BwSource src = { .display = w->dl->display, .bytes = bytes, .size = g_bytes_get_size (bytes) };

      for (guint i = 0; i < w->storages->len; i++)
        {
          Storage *s = &g_array_index (w->storages, Storage, i);

          g_hash_table_insert (by_key, (char *) s->key, s);
        }
      /* each wanted tensor now lies in DEST.download, right after its storage's count */
      for (guint i = 0; i < w->refs->len; i++)
        {
          BwTensorRef *ref = g_ptr_array_index (w->refs, i);
          Storage *s = g_hash_table_lookup (by_key, g_ptr_array_index (w->ref_keys, i));

          ref->file_offset = s->kept_at + 8;
          ref->storage_numel = s->numel;
        }
      *out = bw_weights_load_located (&src, w->refs, error);
    }
  return *out != NULL;
}

gboolean
bw_dl_whole_run (Download   *dl,
                 BwWeights **out,
                 GError    **error)
{
  Whole w = { .dl = dl, .fd = -1 };
  gboolean ok;

  w.fd = bw_dl_open_partial (dl, error);
  if (w.fd < 0)
    return FALSE;
  if (whole_resume (&w))
    {
      dl->resumed_at = w.pos;
      g_debug ("Resuming the download at byte %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " kept)",
               w.pos, w.kept);
    }
  else
    {
      /* what the state said of the remote file is no longer known either */
      dl->size = 0;
      g_clear_pointer (&dl->validator, g_free);
      if (!whole_restart (&w, error))
        {
          whole_clear (&w);
          return FALSE;
        }
    }

  ok = bw_dl_fetch (dl, &w.pos, G_MAXUINT64, whole_restart, whole_body, &w, error) &&
       whole_finish (&w, out, error);
  /* After a failed write the chunk is half in the hash and the kept bytes, so no state is
   * saved then: the last checkpoint's (at most 16 MB back) still vouches for the file */
  if (!ok && dl->transfer_failed && w.pos > w.checkpointed)
    whole_checkpoint (&w, w.pos);   /* the next run goes on from exactly here */
  whole_clear (&w);
  /* a wrong or unusable file: the next run starts afresh; nothing came: nothing to keep; a
   * full disk: keep it all, for the run after some space was freed */
  if (!ok && !dl->cache_failed && (!dl->transfer_failed || w.pos == 0))
    bw_dl_forget_partial (dl);
  return ok;
}

