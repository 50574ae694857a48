/* bw-worker-autosave.c: the worker's side of bw-autosave.h: the painting in progress
 * written on the worker's thread, and a restored one shown. */
#include "bw-worker-private.h"

/* A painting in progress is written to its autosave after its first step, then at most this
 * often, and whenever it pauses, stops or ends (bw-autosave.h). */
#define AUTOSAVE_SECONDS 30

/* Writes the painting in progress to its autosave now, on this thread. */
void
_bw_worker_autosave_now (ThreadState *ts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = NULL;

  if (ts->autosave == NULL || ts->session == NULL)
    return;
  image = bw_session_get_output_image (ts->session, &error);
  if (image == NULL ||
      !bw_autosave_write (ts->autosave, image, ts->step_offset + bw_session_get_step (ts->session),
                          &error))
    {
      /* painting goes on; the last autosave, if any, stays */
      g_warning ("The painting in progress could not be kept for after a crash: %s", error->message);
      return;
    }
  ts->autosaved_at = g_get_monotonic_time ();
  if (ts->autosave_old)
    {
      bw_autosave_remove (ts->autosave_old);
      g_clear_pointer (&ts->autosave_old, bw_autosave_free);
    }
}

void
_bw_worker_autosave_maybe (ThreadState *ts,
                           gboolean     always)
{
  if (always || ts->autosaved_at == 0 ||
      g_get_monotonic_time () - ts->autosaved_at >= AUTOSAVE_SECONDS * G_USEC_PER_SEC)
    _bw_worker_autosave_now (ts);
}

/* Saved or discarded: nothing to keep (until the painting changes again). */
void
_bw_worker_autosave_forget (ThreadState *ts)
{
  if (ts->autosave)
    bw_autosave_remove (ts->autosave);
  if (ts->autosave_old)
    bw_autosave_remove (ts->autosave_old);
  g_clear_pointer (&ts->autosave_old, bw_autosave_free);
}

gboolean
_bw_worker_same_painting (const BwAutosave *restored,
                          const Message    *msg)
{
  if (g_strcmp0 (restored->content, msg->path) != 0 || restored->styles->len != msg->styles->len)
    return FALSE;
  for (guint i = 0; i < msg->styles->len; i++)
    if (g_strcmp0 (g_ptr_array_index (restored->styles, i), g_ptr_array_index (msg->styles, i)) != 0)
      return FALSE;
  return TRUE;
}

/* MSG_RESTORE: the painting of an earlier run is shown, and becomes this worker's (its
 * autosave is written again as this process's, so that no other start offers it). */
void
_bw_worker_restore (BwWorker    *self,
                    ThreadState *ts,
                    Message     *msg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = bw_image_load (msg->autosave->image, 0, &error);
  Report *report;

  if (image == NULL)
    {
      _bw_worker_post_failure (self, ts, g_steal_pointer (&error));
      return;
    }
  g_clear_object (&ts->session);
  ts->paused = FALSE;
  if (!bw_autosave_write (msg->autosave, image, msg->autosave->step, &error))
    g_warning ("The restored painting could not be kept for after a crash: %s", error->message);
  _bw_worker_autosave_forget (ts);
  g_clear_pointer (&ts->autosave, bw_autosave_free);
  g_clear_pointer (&ts->restored, bw_autosave_free);
  ts->restored = bw_autosave_copy (msg->autosave);
  ts->autosave = g_steal_pointer (&msg->autosave);
  g_set_object (&ts->restored_image, image);

  _bw_worker_post_frame (self, NULL, image, TRUE);
  report = g_new0 (Report, 1);
  report->kind = REPORT_PROGRESS;
  report->step = ts->restored->step;
  report->n_steps = ts->restored->params.steps;
  report->seconds_left = -1;
  _bw_worker_post (self, report);
}

