/* bw-worker-video.c: a whole video painted on the worker's thread.
 *
 * bw_video_job_run() holds the thread; its step signal is where the messages are read
 * then, and those that end the video cancel it and are handled once it is over.
 */
#include "bw-worker-private.h"

typedef struct {
  BwWorker *worker;
  ThreadState *ts;
} VideoRun;

/* A message that arrives while a video is stylised. Those that end the video cancel it and
 * wait in ts->deferred for the main loop. */
static void
handle_video_message (VideoRun *run,
                      Message  *msg)
{
  ThreadState *ts = run->ts;

  switch (msg->kind)
    {
    case MSG_PAUSE:
      if (!ts->paused)
        {
          ts->paused = TRUE;
          _bw_worker_post_state (run->worker, BW_WORKER_PAUSED);
        }
      _bw_worker_message_free (msg);
      break;

    case MSG_RESUME:
      if (ts->paused)
        {
          ts->paused = FALSE;
          _bw_worker_post_state (run->worker, BW_WORKER_RUNNING);
        }
      _bw_worker_message_free (msg);
      break;

    case MSG_SET_WEIGHTS:
      bw_video_job_set_weights (ts->video, msg->weights[0], msg->weights[1], msg->weights[2]);
      _bw_worker_message_free (msg);
      break;

    case MSG_STOP:
      g_cancellable_cancel (ts->video_cancellable);
      ts->paused = FALSE;
      _bw_worker_message_free (msg);
      break;

    case MSG_WEIGHTS_PATH:
      /* the video keeps the network it has; the next run loads the new one */
      g_queue_push_tail (&ts->deferred, msg);
      break;

    case MSG_START:
    case MSG_VIDEO:
    case MSG_QUIT:
      g_cancellable_cancel (ts->video_cancellable);
      ts->paused = FALSE;
      g_queue_push_tail (&ts->deferred, msg);
      break;

    case MSG_SET_N_STEPS:
      /* the frames share one step count, set when the video started */
    default:
      _bw_worker_message_free (msg);
      break;
    }
}

static void
on_video_step (BwVideoJob         *job,
               BwSession          *session,
               int                 step,
               const BwLossValues *values,
               VideoRun           *run)
{
  Report *report = g_new0 (Report, 1);
  Message *msg;

  /* each frame is a session of its own (a loss before its first step goes unsaid) */
  if (!g_object_get_data (G_OBJECT (session), "bw-worker-watched"))
    {
      g_signal_connect (session, "device-lost", G_CALLBACK (_bw_worker_on_device_lost), run->worker);
      g_signal_connect (session, "replanned", G_CALLBACK (_bw_worker_on_replanned), run->worker);
      g_object_set_data (G_OBJECT (session), "bw-worker-watched", GINT_TO_POINTER (1));
    }
  report->kind = REPORT_PROGRESS;
  report->step = step;
  report->n_steps = bw_video_job_get_steps (job);
  report->frame = bw_video_job_get_n_frames (job) + 1;
  report->n_frames = MAX (0, bw_video_job_get_n_frames_expected (job));
  report->losses = *values;
  report->seconds_left = bw_video_job_get_seconds_left (job);
  _bw_worker_post (run->worker, report);
  _bw_worker_post_frame (run->worker, session, NULL, FALSE);

  /* between steps, as for a still image; a pause holds the thread here */
  while ((msg = run->ts->paused ? g_async_queue_pop (run->worker->queue)
                                : g_async_queue_try_pop (run->worker->queue)))
    handle_video_message (run, msg);
}

void
_bw_worker_run_video (BwWorker    *self,
                      ThreadState *ts,
                      Message     *msg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) styles = NULL;
  g_autoptr(BwVideoJob) job = NULL;
  VideoRun run = { self, ts };
  gboolean ok;

  _bw_worker_post_state (self, BW_WORKER_PREPARING);
  if (!(styles = _bw_worker_load_styles (msg, &error)) ||
      !(job = bw_video_job_new (&msg->params, msg->path, msg->output, &error)) ||
      _bw_worker_open_engine (self, ts, &error) == NULL)
    {
      _bw_worker_post_failure (self, ts, g_steal_pointer (&error));
      _bw_worker_post_state (self, BW_WORKER_IDLE);
      return;
    }
  for (guint i = 0; i < styles->len; i++)
    bw_video_job_add_style (job, g_ptr_array_index (styles, i), g_array_index (msg->blends, double, i));
  bw_video_job_set_frame_steps (job, msg->n_steps);
  g_signal_connect (job, "step", G_CALLBACK (on_video_step), &run);
  _bw_worker_post_state (self, BW_WORKER_RUNNING);

  ts->video = job;
  ts->video_cancellable = g_cancellable_new ();
  ok = bw_video_job_run (job, ts->engine, ts->video_cancellable, &error);
  ts->video = NULL;
  g_clear_object (&ts->video_cancellable);
  ts->paused = FALSE;

  if (bw_video_job_get_warning (job))
    _bw_worker_post_text (self, REPORT_WARNING, bw_video_job_get_warning (job));
  if (ok || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    _bw_worker_end_run (self, ts, ok);
  else
    {
      _bw_worker_post_failure (self, ts, g_steal_pointer (&error));
      _bw_worker_post_state (self, BW_WORKER_IDLE);
    }
}

