/* bw-weights-download-ranges.c: with a manifest, only the conv tensors' byte ranges.
 *
 * Ranges a few bytes apart (the 8-byte counts between storages) are fetched as one request;
 * each tensor is hashed as it arrives and checked against the manifest's SHA-256, and the
 * tensors are kept back to back in DEST.download, in offset order.
 */
#include "bw-i18n.h"
#include "bw-weights-download-private.h"

#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bw-sha256.h"

#define MERGE_GAP (256 * 1024)            /* ranges closer than this are fetched as one */

typedef struct {
  Download *dl;
  Manifest *m;
  int fd;
  guint64 kept;           /* bytes in DEST.download: the tensors so far, back to back */
  guint done;             /* tensors verified, in offset order */
  guint64 done_bytes;
  BwSha256 sha;           /* of tensor `done`, as it arrives */
  guint64 got;            /* of tensor `done` */
  guint group_end;
  guint64 total;
  guint64 checkpointed;
} Ranges;

static MTensor *
range_tensor (Ranges *r,
              guint   i)
{
  return g_ptr_array_index (r->m->tensors, i);
}

static void
ranges_checkpoint (Ranges *r)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *hash = NULL;

  if (fdatasync (r->fd) != 0)
    return;
  hash = bw_sha256_save (&r->sha);
  g_key_file_set_string (kf, "download", "method", "ranges");
  g_key_file_set_string (kf, "download", "manifest", r->m->digest);
  bw_dl_state_set_uint (kf, "tensors", r->done);
  bw_dl_state_set_uint (kf, "tensor-bytes", r->got);
  bw_dl_state_set_uint (kf, "kept", r->kept);
  g_key_file_set_string (kf, "download", "hash", hash);
  bw_dl_save_state (r->dl, kf);
  r->checkpointed = r->done_bytes + r->got;
}

static gboolean
ranges_body (gpointer       user,
             guint64        offset,
             const guint8  *data,
             gsize          len,
             GError       **error)
{
  Ranges *r = user;

  while (len > 0 && r->done < r->group_end)
    {
      MTensor *t = range_tensor (r, r->done);
      guint64 start = t->ref->file_offset;
      gsize n;

      if (offset < start)
        {
          /* between two tensors of one request: an 8-byte count, say */
          n = (gsize) MIN ((guint64) len, start - offset);
        }
      else
        {
          n = (gsize) MIN ((guint64) len, start + t->length - offset);
          bw_sha256_update (&r->sha, data, n);
          if (!bw_dl_write_at (r->dl, r->fd, r->kept, data, n, error))
            return FALSE;
          r->kept += n;
          r->got += n;
          if (r->got == t->length)
            {
              g_autofree char *hex = bw_sha256_finish_hex (&r->sha);

              if (!g_str_equal (hex, t->sha256))
                {
                  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("Tensor %s downloaded from %s does not match its SHA-256 in the "
                               "weights manifest “%s”, so it was not used. Run again, or make "
                               "the manifest again from the current file."),
                               t->ref->name, r->dl->host, r->m->display);
                  return FALSE;
                }
              r->done++;
              r->done_bytes += t->length;
              r->got = 0;
              bw_sha256_init (&r->sha);
              ranges_checkpoint (r);
            }
        }
      data += n;
      len -= n;
      offset += n;
    }
  bw_dl_report (r->dl, r->done_bytes + r->got, r->total, FALSE);
  if (r->done_bytes + r->got - r->checkpointed >= BW_DL_CHECKPOINT_EVERY)
    ranges_checkpoint (r);
  return TRUE;
}

static gboolean
ranges_resume (Ranges *r)
{
  g_autoptr(GKeyFile) kf = bw_dl_load_state (r->dl, "ranges");
  g_autofree char *digest = NULL;
  g_autofree char *hash = NULL;
  gboolean ok = TRUE;
  guint64 done, got, kept, before = 0;
  struct stat st;

  if (kf == NULL)
    return FALSE;
  digest = g_key_file_get_string (kf, "download", "manifest", NULL);
  hash = g_key_file_get_string (kf, "download", "hash", NULL);
  done = bw_dl_state_uint (kf, "tensors", &ok);
  got = bw_dl_state_uint (kf, "tensor-bytes", &ok);
  kept = bw_dl_state_uint (kf, "kept", &ok);
  if (!ok || g_strcmp0 (digest, r->m->digest) != 0 || done > r->m->tensors->len ||
      !bw_sha256_restore (&r->sha, hash) || r->sha.length != got)
    return FALSE;
  for (guint i = 0; i < done; i++)
    before += range_tensor (r, i)->length;
  if ((done == r->m->tensors->len && got != 0) ||
      (done < r->m->tensors->len && got >= range_tensor (r, done)->length) ||
      kept != before + got || fstat (r->fd, &st) != 0 || (guint64) st.st_size < kept ||
      ftruncate (r->fd, (off_t) kept) != 0)
    return FALSE;
  bw_dl_restore_common (r->dl, kf);
  r->done = done;
  r->done_bytes = before;
  r->got = got;
  r->kept = kept;
  r->checkpointed = before + got;
  return TRUE;
}

gboolean
bw_dl_ranges_run (Download   *dl,
                  Manifest   *m,
                  BwWeights **out,
                  GError    **error)
{
  Ranges r = { .dl = dl, .m = m, .fd = -1 };
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GPtrArray) refs = g_ptr_array_new ();
  g_autoptr(GError) local = NULL;
  BwSource src = { 0 };
  guint64 at = 0;

  r.fd = bw_dl_open_partial (dl, error);
  if (r.fd < 0)
    return FALSE;
  for (guint i = 0; i < m->tensors->len; i++)
    r.total += range_tensor (&r, i)->length;
  if (ranges_resume (&r))
    dl->resumed_at = r.done_bytes + r.got;
  else
    {
      g_unlink (dl->state_path);
      bw_sha256_init (&r.sha);
      if (ftruncate (r.fd, 0) != 0)
        {
          bw_dl_errno_error (dl, error, errno);
          goto fail;
        }
    }
  dl->size = m->size;   /* a server that says otherwise serves another file */

  while (r.done < m->tensors->len)
    {
      MTensor *first = range_tensor (&r, r.done);
      MTensor *last = first;
      guint64 pos = first->ref->file_offset + r.got;

      /* ranges a few bytes apart (the 8-byte counts between storages) as one request */
      for (r.group_end = r.done + 1; r.group_end < m->tensors->len; r.group_end++)
        {
          MTensor *next = range_tensor (&r, r.group_end);

          if (next->ref->file_offset - (last->ref->file_offset + last->length) > MERGE_GAP)
            break;
          last = next;
        }
      if (!bw_dl_fetch (dl, &pos, last->ref->file_offset + last->length, NULL, ranges_body, &r, &local))
        {
          if (g_error_matches (local, BW_DL_FETCH_ERROR, BW_DL_FETCH_SIZE_CHANGED))
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "The weights manifest “%s” describes a file of %" G_GUINT64_FORMAT
                         " bytes, but the one at %s has %s bytes. Make the manifest again from "
                         "the current file.", m->display, m->size, dl->host, local->message);
          else
            g_propagate_error (error, g_steal_pointer (&local));
          goto fail;
        }
    }
  bw_dl_report (dl, r.total, r.total, TRUE);

  /* the tensors lie back to back in DEST.download, in offset order */
  for (guint i = 0; i < m->tensors->len; i++)
    {
      MTensor *t = range_tensor (&r, i);

      t->ref->file_offset = at;
      at += t->length;
      g_ptr_array_add (refs, t->ref);
    }
  mapped = g_mapped_file_new_from_fd (r.fd, FALSE, &local);
  if (mapped == NULL)
    {
      bw_dl_save_error (dl, error, local->domain, local->code, local->message);
      goto fail;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  src.display = dl->display;
  src.bytes = bytes;
  src.size = g_bytes_get_size (bytes);
  *out = bw_weights_load_located (&src, refs, error);
  close (r.fd);
  return *out != NULL;

fail:
  if (dl->transfer_failed && r.done_bytes + r.got > r.checkpointed)
    ranges_checkpoint (&r);
  close (r.fd);
  if (dl->transfer_failed && r.done_bytes + r.got == 0)
    bw_dl_forget_partial (dl);
  return FALSE;
}

