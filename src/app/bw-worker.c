/* bw-worker.c: the thread that owns the engine.
 *
 * The engine is not thread-safe and a step can take seconds, so one thread owns it for the
 * app's life: it creates the engine lazily (loading VGG19's weights is slow), runs
 * bw_session_step() in a loop and reads its message queue between steps. Everything it has
 * to say travels back as a Report, dispatched on the main context, where the signals are
 * emitted and the properties change. Nothing here ever blocks the main thread: not even
 * bw_worker_shutdown(), which lets the thread end on its own (after the step under way and,
 * during a video, once the file is ended) while the application is held.
 *
 * A whole video is in bw-worker-video.c, the autosave of a painting in progress in
 * bw-worker-autosave.c.
 */
#include <glib/gi18n.h>
#include <stdlib.h>

#include "bw-texture.h"
#include "bw-worker-private.h"
#include "motion/bw-video-reader.h"

/* The timelapse kept for Export Animation: small frames, a bounded number (~85 MB at most). */
#define RECORDING_SIDE 400
#define RECORDING_FRAMES 240

G_DEFINE_ENUM_TYPE (BwWorkerState, bw_worker_state,
  G_DEFINE_ENUM_VALUE (BW_WORKER_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (BW_WORKER_PREPARING, "preparing"),
  G_DEFINE_ENUM_VALUE (BW_WORKER_RUNNING, "running"),
  G_DEFINE_ENUM_VALUE (BW_WORKER_PAUSED, "paused"))


G_DEFINE_FINAL_TYPE (BwWorker, bw_worker, G_TYPE_OBJECT)

/* Threads not yet ended, for bw_worker_wait_all(). */
static GMutex running_lock;
static GCond running_cond;
static guint n_running;

static void hold_exit (void);

enum {
  PROP_0,
  PROP_STATE,
  PROP_STEP,
  PROP_N_STEPS,
  PROP_LOSS,
  PROP_CONTENT_LOSS,
  PROP_STYLE_LOSS,
  PROP_SECONDS_LEFT,
  PROP_FRAME,
  PROP_N_FRAMES,
  PROP_TEXTURE,
  PROP_RECORDING,
  PROP_DEVICE_NAME,
  N_PROPS
};

enum {
  SIGNAL_FINISHED,
  SIGNAL_FAILED,
  SIGNAL_WARNING,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

void
_bw_worker_message_free (Message *msg)
{
  g_free (msg->path);
  g_free (msg->output);
  g_clear_pointer (&msg->styles, g_ptr_array_unref);
  g_clear_pointer (&msg->blends, g_array_unref);
  g_clear_pointer (&msg->masks, g_ptr_array_unref);
  g_clear_pointer (&msg->autosave, bw_autosave_free);
  g_free (msg);
}

static void
report_free (Report *report)
{
  g_clear_object (&report->worker);
  g_clear_object (&report->image);
  g_clear_object (&report->texture);
  g_clear_object (&report->recording);
  g_clear_error (&report->error);
  g_free (report->text);
  g_free (report);
}

static void
send (BwWorker *self,
      Message  *msg)
{
  g_return_if_fail (self->thread != NULL);
  g_async_queue_push (self->queue, msg);
}

static Message *
message_new (MessageKind kind)
{
  Message *msg = g_new0 (Message, 1);

  msg->kind = kind;
  return msg;
}

/* Main thread: apply a report. */
static gboolean
dispatch_report (gpointer data)
{
  Report *report = data;
  BwWorker *self = report->worker;

  /* after shutdown only what is already decided matters: no more signals */
  if (self->shutting_down && report->kind != REPORT_FRAME && report->kind != REPORT_DONE)
    return G_SOURCE_REMOVE;

  switch (report->kind)
    {
    case REPORT_STATE:
      if (self->state != report->state)
        {
          self->state = report->state;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
        }
      break;

    case REPORT_PROGRESS:
      g_object_freeze_notify (G_OBJECT (self));
      self->step = report->step;
      self->n_steps = report->n_steps;
      self->losses = report->losses;
      self->seconds_left = report->seconds_left;
      self->frame = report->frame;
      self->n_frames = report->n_frames;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FRAMES]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STEPS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOSS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_LOSS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STYLE_LOSS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECONDS_LEFT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
      g_object_thaw_notify (G_OBJECT (self));
      break;

    case REPORT_FRAME:
      g_atomic_int_dec_and_test (&self->frames_pending);
      g_set_object (&self->image, report->image);
      if (g_set_object (&self->texture, report->texture))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
      break;

    case REPORT_FINISHED:
      g_signal_emit (self, signals[SIGNAL_FINISHED], 0, report->completed);
      break;

    case REPORT_FAILED:
      self->largest_size = report->largest_size;
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, report->error);
      break;

    case REPORT_DEVICE:
      g_free (self->device_name);
      self->device_name = g_strdup (report->text);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_NAME]);
      break;

    case REPORT_RECORDING:
      if (g_set_object (&self->recording, report->recording))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORDING]);
      break;

    case REPORT_WARNING:
      g_signal_emit (self, signals[SIGNAL_WARNING], 0, report->text);
      break;

    case REPORT_DONE:
      if (self->held)
        g_application_release (self->held);
      g_clear_object (&self->held);
      break;

    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_REMOVE;
}

/* Worker thread: hand a report to the main thread, always queued, so that reports arrive in
 * order and on the main thread. (g_main_context_invoke() would run one at once, on this
 * thread, whenever the main thread happens not to hold the context between iterations.) */
void
_bw_worker_post (BwWorker *self,
                 Report   *report)
{
  report->worker = g_object_ref (self);
  g_idle_add_full (G_PRIORITY_DEFAULT, dispatch_report, report, (GDestroyNotify) report_free);
}

void
_bw_worker_post_state (BwWorker      *self,
                       BwWorkerState  state)
{
  Report *report = g_new0 (Report, 1);

  report->kind = REPORT_STATE;
  report->state = state;
  _bw_worker_post (self, report);
}

void
_bw_worker_post_failure (BwWorker    *self,
                         ThreadState *ts,
                         GError      *error)
{
  Report *report = g_new0 (Report, 1);

  /* a device lost for good (the session opens one anew a few times first): the next Paint
   * opens it anew, and uploads the weights again */
  if (g_error_matches (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST))
    g_clear_object (&ts->engine);

  report->kind = REPORT_FAILED;
  report->error = error;
  report->largest_size = ts->largest_size;
  ts->largest_size = 0;
  _bw_worker_post (self, report);
}

/* @image: the current one; NULL to read it back here. Skipped while the main thread has
 * not shown the last frame, unless @always. */
void
_bw_worker_post_frame (BwWorker   *self,
                       BwSession  *session,
                       BwImage    *image,
                       gboolean    always)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) read = NULL;
  Report *report;

  if (!always && g_atomic_int_get (&self->frames_pending) > 0)
    return;
  if (image == NULL)
    {
      image = read = bw_session_get_image (session, &error);
      if (image == NULL)
        {
          g_warning ("Could not read the current image back: %s", error->message);
          return;
        }
    }
  report = g_new0 (Report, 1);
  report->kind = REPORT_FRAME;
  report->texture = bw_texture_new_for_image (image);
  report->image = g_object_ref (image);
  g_atomic_int_inc (&self->frames_pending);
  _bw_worker_post (self, report);
}

/* Every frame of a photo's painting goes into the timelapse, shown or not. */
static void
record_frame (BwWorker    *self,
              ThreadState *ts,
              gboolean     always)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = bw_session_get_image (ts->session, &error);

  if (image == NULL)
    {
      g_warning ("Could not read the current image back: %s", error->message);
      return;
    }
  bw_frame_recorder_add (ts->recording, image);
  _bw_worker_post_frame (self, ts->session, image, always);
}

static void
post_progress (BwWorker           *self,
               ThreadState        *ts,
               const BwLossValues *losses)
{
  Report *report = g_new0 (Report, 1);
  int step = ts->step_offset + bw_session_get_step (ts->session);

  report->kind = REPORT_PROGRESS;
  report->step = step;
  report->n_steps = ts->n_steps;
  report->losses = *losses;
  /* the session knows that later coarse-to-fine passes cost more per step */
  report->seconds_left = bw_session_get_step (ts->session) <= 0 ? -1
                         : bw_session_get_seconds_left (ts->session);
  _bw_worker_post (self, report);
}

void
_bw_worker_post_text (BwWorker    *self,
                      ReportKind   kind,
                      const char  *text)
{
  Report *report = g_new0 (Report, 1);

  report->kind = kind;
  report->text = g_strdup (text);
  _bw_worker_post (self, report);
}

void
_bw_worker_end_run (BwWorker    *self,
                    ThreadState *ts,
                    gboolean     completed)
{
  Report *report = g_new0 (Report, 1);

  g_clear_object (&ts->session);
  ts->paused = FALSE;
  report->kind = REPORT_FINISHED;
  report->completed = completed;
  _bw_worker_post (self, report);
  _bw_worker_post_state (self, BW_WORKER_IDLE);
}

BwEngine *
_bw_worker_open_engine (BwWorker     *self,
                        ThreadState  *ts,
                        GError      **error)
{
  g_autoptr(BwWeights) weights = NULL;

  if (ts->engine)
    return ts->engine;
  if (ts->weights_path == NULL || !g_file_test (ts->weights_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("VGG19's weights are missing. Download them, or choose a local copy of vgg19-dcbb9e9d.pth."));
      return NULL;
    }
  weights = bw_weights_load (ts->weights_path, error);
  if (weights == NULL)
    return NULL;
  ts->engine = bw_engine_new (NULL, weights, error);
  if (ts->engine == NULL)
    return NULL;
  hold_exit ();
  _bw_worker_post_text (self, REPORT_DEVICE, bw_engine_get_device_name (ts->engine));
  return ts->engine;
}

GPtrArray *
_bw_worker_load_styles (Message  *msg,
                        GError  **error)
{
  g_autoptr(GPtrArray) styles = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < msg->styles->len; i++)
    {
      BwImage *style = bw_image_load (g_ptr_array_index (msg->styles, i), 0, error);

      if (style == NULL)
        return NULL;
      g_ptr_array_add (styles, style);
    }
  return g_steal_pointer (&styles);
}

/* Worker thread: the session went on after a lost device, on one opened anew (the engine
 * keeps it for the next runs); the window shows the sentence in a toast. */
void
_bw_worker_on_device_lost (BwSession *session,
                           int        losses,
                           BwWorker  *self)
{
  g_autofree char *text =
    g_strdup_printf (_("The graphics device stopped working; painting goes on from step %d."),
                     bw_session_get_step (session));

  /* the session opened a device anew */
  hold_exit ();
  _bw_worker_post_text (self, REPORT_WARNING, text);
}

/* Worker thread: the device ran out of memory, and the session went on within less. */
void
_bw_worker_on_replanned (BwSession *session,
                         BwWorker  *self)
{
  g_autofree char *text =
    g_strdup_printf (_("The graphics device ran out of memory; painting goes on from step %d "
                       "using less of it."), bw_session_get_step (session));

  _bw_worker_post_text (self, REPORT_WARNING, text);
}

/* Loads the images, the engine if need be, and computes the targets. */
static gboolean
prepare (BwWorker     *self,
         ThreadState  *ts,
         Message      *msg,
         GError      **error)
{
  g_autoptr(BwImage) content = NULL;
  g_autoptr(GPtrArray) styles = NULL;
  g_autoptr(BwSession) session = NULL;
  Report *report;
  BwParams params = msg->params;
  gboolean resuming;
  double f;

  /* a video as content: its frame at the scrubber's position, as the video job will see it */
  if (bw_video_reader_is_video (msg->path))
    content = bw_video_reader_get_frame_at (msg->path, msg->params.size, msg->position, NULL, error);
  else
    content = bw_image_load (msg->path, msg->params.size, error);
  if (content == NULL || !(styles = _bw_worker_load_styles (msg, error)))
    return FALSE;
  if (_bw_worker_open_engine (self, ts, error) == NULL)
    return FALSE;

  /* a restored painting goes on from its image and step, at the output size */
  resuming = ts->restored != NULL && _bw_worker_same_painting (ts->restored, msg);
  ts->step_offset = 0;
  if (resuming)
    {
      ts->step_offset = MIN (ts->restored->step, msg->params.steps - 1);
      params.steps = msg->params.steps - ts->step_offset;
      params.init = BW_INIT_IMAGE;
      params.scales = 1;
    }
  session = bw_engine_new_session (ts->engine, &params);
  g_signal_connect (session, "device-lost", G_CALLBACK (_bw_worker_on_device_lost), self);
  g_signal_connect (session, "replanned", G_CALLBACK (_bw_worker_on_replanned), self);
  bw_session_set_content (session, content);
  for (guint i = 0; i < styles->len; i++)
    {
      bw_session_add_style (session, g_ptr_array_index (styles, i),
                            g_array_index (msg->blends, double, i));
      if (msg->masks && g_ptr_array_index (msg->masks, i))
        bw_session_set_style_masks (session, i, g_ptr_array_index (msg->masks, i), NULL);
    }
  if (resuming)
    bw_session_set_init_image (session, ts->restored_image);
  if (!bw_session_start (session, error))
    {
      ts->largest_size = bw_session_get_largest_size (session);
      return FALSE;
    }
  ts->session = g_steal_pointer (&session);
  ts->n_steps = msg->params.steps;
  g_clear_pointer (&ts->restored, bw_autosave_free);
  g_clear_object (&ts->restored_image);

  /* a new autosave; the last one goes once this one is written */
  if (ts->autosave_old)
    bw_autosave_remove (ts->autosave_old);
  g_clear_pointer (&ts->autosave_old, bw_autosave_free);
  ts->autosave_old = g_steal_pointer (&ts->autosave);
  ts->autosave = bw_autosave_new (msg->path, msg->position, msg->styles, msg->blends, &msg->params);
  ts->autosaved_at = 0;

  /* a new painting, a new timelapse */
  f = MIN (1.0, (double) RECORDING_SIDE / MAX (bw_image_get_width (content), bw_image_get_height (content)));
  g_clear_object (&ts->recording);
  ts->recording = bw_frame_recorder_new (MAX (2, (int) (bw_image_get_width (content) * f)),
                                         MAX (2, (int) (bw_image_get_height (content) * f)),
                                         RECORDING_FRAMES);
  report = g_new0 (Report, 1);
  report->kind = REPORT_RECORDING;
  report->recording = g_object_ref (ts->recording);
  _bw_worker_post (self, report);
  return TRUE;
}

/* Returns FALSE on MSG_QUIT. */
static gboolean
handle_message (BwWorker    *self,
                ThreadState *ts,
                Message     *msg)
{
  g_autoptr(GError) error = NULL;

  switch (msg->kind)
    {
    case MSG_WEIGHTS_PATH:
      if (g_strcmp0 (ts->weights_path, msg->path) != 0)
        {
          g_free (ts->weights_path);
          ts->weights_path = g_strdup (msg->path);
          /* a running session keeps its own reference to the network */
          g_clear_object (&ts->engine);
        }
      break;

    case MSG_START:
      g_clear_object (&ts->session);
      ts->paused = FALSE;
      _bw_worker_post_state (self, BW_WORKER_PREPARING);
      if (!prepare (self, ts, msg, &error))
        {
          _bw_worker_post_failure (self, ts, g_steal_pointer (&error));
          _bw_worker_post_state (self, BW_WORKER_IDLE);
          break;
        }
      record_frame (self, ts, TRUE);
      _bw_worker_post_state (self, BW_WORKER_RUNNING);
      break;

    case MSG_VIDEO:
      g_clear_object (&ts->session);
      ts->paused = FALSE;
      _bw_worker_run_video (self, ts, msg);
      break;

    case MSG_PAUSE:
      if (ts->session && !ts->paused)
        {
          ts->paused = TRUE;
          _bw_worker_autosave_now (ts);
          /* the image kept is the one shown */
          _bw_worker_post_frame (self, ts->session, NULL, TRUE);
          _bw_worker_post_state (self, BW_WORKER_PAUSED);
        }
      break;

    case MSG_RESUME:
      if (ts->session && ts->paused)
        {
          ts->paused = FALSE;
          _bw_worker_post_state (self, BW_WORKER_RUNNING);
        }
      break;

    case MSG_STOP:
      if (ts->session)
        {
          _bw_worker_autosave_now (ts);
          _bw_worker_post_frame (self, ts->session, NULL, TRUE);
          _bw_worker_end_run (self, ts, FALSE);
        }
      break;

    case MSG_RESTORE:
      _bw_worker_restore (self, ts, msg);
      break;

    case MSG_FORGET_AUTOSAVE:
      _bw_worker_autosave_forget (ts);
      break;

    case MSG_SET_WEIGHTS:
      if (ts->session)
        bw_session_set_weights (ts->session, msg->weights[0], msg->weights[1], msg->weights[2]);
      break;

    case MSG_SET_N_STEPS:
      /* the session shares the new count among the passes still to come, so the run still
       * ends at the size asked for */
      ts->n_steps = ts->session ? ts->step_offset + bw_session_set_steps (ts->session, msg->n_steps - ts->step_offset)
                                : msg->n_steps;
      break;

    case MSG_QUIT:
      return FALSE;

    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

static void
run_step (BwWorker    *self,
          ThreadState *ts)
{
  g_autoptr(GError) error = NULL;
  BwLossValues values;
  gboolean done;

  if (!bw_session_step (ts->session, &values, &error))
    {
      /* the image of the last finished step is still there (for a lost device, on the host) */
      _bw_worker_autosave_now (ts);
      g_clear_object (&ts->session);
      _bw_worker_post_failure (self, ts, g_steal_pointer (&error));
      _bw_worker_post_state (self, BW_WORKER_IDLE);
      return;
    }
  done = ts->step_offset + bw_session_get_step (ts->session) >= ts->n_steps ||
         bw_session_is_converged (ts->session);
  post_progress (self, ts, &values);
  record_frame (self, ts, done);
  _bw_worker_autosave_maybe (ts, done);
  if (done)
    _bw_worker_end_run (self, ts, TRUE);
}

static gpointer
worker_thread (gpointer data)
{
  BwWorker *self = data;
  ThreadState ts = { 0 };
  Report *report;

  for (;;)
    {
      gboolean busy = ts.session != NULL && !ts.paused;
      Message *msg = g_queue_pop_head (&ts.deferred);

      if (msg == NULL)
        msg = busy ? g_async_queue_try_pop (self->queue) : g_async_queue_pop (self->queue);

      if (msg)
        {
          gboolean go_on = handle_message (self, &ts, msg);

          _bw_worker_message_free (msg);
          if (!go_on)
            break;
          /* read every waiting message before the next step */
          continue;
        }
      run_step (self, &ts);
    }

  g_queue_clear_full (&ts.deferred, (GDestroyNotify) _bw_worker_message_free);
  /* a clean quit: the window has asked about the painting already */
  _bw_worker_autosave_forget (&ts);
  g_clear_pointer (&ts.autosave, bw_autosave_free);
  g_clear_pointer (&ts.restored, bw_autosave_free);
  g_clear_object (&ts.restored_image);
  g_clear_object (&ts.session);
  g_clear_object (&ts.recording);
  g_clear_object (&ts.engine);
  g_free (ts.weights_path);

  /* the reference bw_worker_shutdown() took for this thread goes to the report, so that the
   * worker is let go of on the main thread */
  report = g_new0 (Report, 1);
  report->kind = REPORT_DONE;
  report->worker = self;
  g_idle_add_full (G_PRIORITY_DEFAULT, dispatch_report, report, (GDestroyNotify) report_free);
  g_mutex_lock (&running_lock);
  n_running--;
  g_cond_broadcast (&running_cond);
  g_mutex_unlock (&running_lock);
  return NULL;
}

void
bw_worker_shutdown (BwWorker *self)
{
  GApplication *app = g_application_get_default ();

  g_return_if_fail (BW_IS_WORKER (self));

  if (self->shutting_down)
    return;
  self->shutting_down = TRUE;
  /* the app runs on until the thread has ended (REPORT_DONE), which may take a step */
  if (app != NULL)
    {
      self->held = g_object_ref (app);
      g_application_hold (app);
    }
  /* the thread's own, dropped as it ends (from dispose too: this one outlives it) */
  g_object_ref (self);
  /* jump the queue: nothing waiting matters any more */
  g_async_queue_push_front (self->queue, message_new (MSG_QUIT));
  /* not joined: it ends on its own, and GLib frees it then */
  g_thread_unref (g_steal_pointer (&self->thread));
}

guint
bw_worker_get_n_running (void)
{
  guint n;

  g_mutex_lock (&running_lock);
  n = n_running;
  g_mutex_unlock (&running_lock);
  return n;
}

void
bw_worker_wait_all (void)
{
  g_mutex_lock (&running_lock);
  while (n_running > 0)
    g_cond_wait (&running_cond, &running_lock);
  g_mutex_unlock (&running_lock);
}

/* At exit, a thread still tearing its engine down (a window closed just before, and no
 * application shutdown since: a test, or a quit that never ran the main loop) would race
 * the drivers' own teardown: it is given a while to end. */
static void
wait_at_exit (void)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_mutex_lock (&running_lock);
  while (n_running > 0 && g_cond_wait_until (&running_cond, &running_lock, deadline))
    ;
  g_mutex_unlock (&running_lock);
}

/* Exit handlers run last registered first, and the Vulkan loader's layers and drivers
 * register their own (C++ static destructors) when a device is opened: so the wait is
 * registered after each device this thread opens, to run before theirs. */
static void
hold_exit (void)
{
  atexit (wait_at_exit);
}

static void
bw_worker_dispose (GObject *object)
{
  BwWorker *self = BW_WORKER (object);

  bw_worker_shutdown (self);
  g_clear_object (&self->image);
  g_clear_object (&self->texture);
  g_clear_object (&self->recording);
  g_clear_pointer (&self->sent_masks, g_ptr_array_unref);
  G_OBJECT_CLASS (bw_worker_parent_class)->dispose (object);
}

static void
bw_worker_finalize (GObject *object)
{
  BwWorker *self = BW_WORKER (object);

  g_async_queue_unref (self->queue);
  g_free (self->device_name);
  G_OBJECT_CLASS (bw_worker_parent_class)->finalize (object);
}

static void
bw_worker_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  BwWorker *self = BW_WORKER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STEP:
      g_value_set_int (value, self->step);
      break;
    case PROP_N_STEPS:
      g_value_set_int (value, self->n_steps);
      break;
    case PROP_LOSS:
      g_value_set_double (value, self->losses.total);
      break;
    case PROP_CONTENT_LOSS:
      g_value_set_double (value, self->losses.content);
      break;
    case PROP_STYLE_LOSS:
      g_value_set_double (value, self->losses.style);
      break;
    case PROP_SECONDS_LEFT:
      g_value_set_double (value, self->seconds_left);
      break;
    case PROP_FRAME:
      g_value_set_int (value, self->frame);
      break;
    case PROP_N_FRAMES:
      g_value_set_int (value, self->n_frames);
      break;
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_RECORDING:
      g_value_set_object (value, self->recording);
      break;
    case PROP_DEVICE_NAME:
      g_value_set_string (value, self->device_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_worker_class_init (BwWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bw_worker_dispose;
  object_class->finalize = bw_worker_finalize;
  object_class->get_property = bw_worker_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BW_TYPE_WORKER_STATE, BW_WORKER_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STEP] =
    g_param_spec_int ("step", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_STEPS] =
    g_param_spec_int ("n-steps", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOSS] =
    g_param_spec_double ("loss", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* the two weighted parts of the loss: a weight slider scales its part from the next step */
  properties[PROP_CONTENT_LOSS] =
    g_param_spec_double ("content-loss", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STYLE_LOSS] =
    g_param_spec_double ("style-loss", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SECONDS_LEFT] =
    g_param_spec_double ("seconds-left", NULL, NULL, -1, G_MAXDOUBLE, -1,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* while a video is stylised: the frame under way (from 1) and how many the video has
   * (0 when unknown); 0 and 0 otherwise */
  properties[PROP_FRAME] =
    g_param_spec_int ("frame", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_FRAMES] =
    g_param_spec_int ("n-frames", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RECORDING] =
    g_param_spec_object ("recording", NULL, NULL, BW_TYPE_FRAME_RECORDER,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DEVICE_NAME] =
    g_param_spec_string ("device-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BwWorker::finished:
   * @completed: TRUE when every step ran, FALSE when stopped
   */
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  /**
   * BwWorker::failed:
   * @error: what went wrong, a sentence for the user
   */
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  /**
   * BwWorker::warning:
   * @message: something the user should know that did not stop the run, a sentence
   */
  signals[SIGNAL_WARNING] =
    g_signal_new ("warning", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
bw_worker_init (BwWorker *self)
{
  self->queue = g_async_queue_new_full ((GDestroyNotify) _bw_worker_message_free);
  self->seconds_left = -1;
  g_mutex_lock (&running_lock);
  n_running++;
  g_mutex_unlock (&running_lock);
  self->thread = g_thread_new ("brushwork-engine", worker_thread, self);
}

BwWorker *
bw_worker_new (void)
{
  return g_object_new (BW_TYPE_WORKER, NULL);
}

void
bw_worker_set_weights_path (BwWorker   *self,
                            const char *path)
{
  Message *msg = message_new (MSG_WEIGHTS_PATH);

  g_return_if_fail (BW_IS_WORKER (self));

  msg->path = g_strdup (path);
  send (self, msg);
}

static Message *
message_new_run (MessageKind      kind,
                 const BwParams  *params,
                 GFile           *content,
                 GFile   *const  *styles,
                 const double    *blends,
                 guint            n_styles)
{
  Message *msg = message_new (kind);

  msg->params = *params;
  msg->path = g_file_get_path (content);
  msg->styles = g_ptr_array_new_with_free_func (g_free);
  msg->blends = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < n_styles; i++)
    {
      g_ptr_array_add (msg->styles, g_file_get_path (styles[i]));
      g_array_append_val (msg->blends, blends[i]);
    }
  return msg;
}

/* Main thread: show at once that the click was taken; the thread confirms. */
static void
send_run (BwWorker *self,
          Message  *msg)
{
  self->sent_params = msg->params;
  g_clear_pointer (&self->sent_masks, g_ptr_array_unref);
  if (msg->masks)
    self->sent_masks = g_ptr_array_ref (msg->masks);
  self->state = BW_WORKER_PREPARING;
  self->step = 0;
  self->n_steps = msg->params.steps;
  self->frame = self->n_frames = 0;
  self->seconds_left = -1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  send (self, msg);
}

void
bw_worker_start (BwWorker       *self,
                 const BwParams *params,
                 GFile          *content,
                 double          position,
                 GFile  *const  *styles,
                 const double   *blends,
                 guint           n_styles)
{
  bw_worker_start_with_masks (self, params, content, position, styles, blends, NULL, n_styles);
}

static void
unref_if_set (gpointer object)
{
  g_clear_object (&object);
}

void
bw_worker_start_with_masks (BwWorker       *self,
                            const BwParams *params,
                            GFile          *content,
                            double          position,
                            GFile  *const  *styles,
                            const double   *blends,
                            BwImage *const *masks,
                            guint           n_styles)
{
  Message *msg;

  g_return_if_fail (BW_IS_WORKER (self));
  g_return_if_fail (G_IS_FILE (content));

  msg = message_new_run (MSG_START, params, content, styles, blends, n_styles);
  msg->position = position;
  if (masks)
    {
      /* BwImages do not change once made: the thread may hold them too */
      msg->masks = g_ptr_array_new_with_free_func (unref_if_set);
      for (guint i = 0; i < n_styles; i++)
        g_ptr_array_add (msg->masks, masks[i] ? g_object_ref (masks[i]) : NULL);
    }
  send_run (self, msg);
}

void
bw_worker_start_video (BwWorker       *self,
                       const BwParams *params,
                       GFile          *content,
                       GFile          *output,
                       int             frame_steps,
                       GFile  *const  *styles,
                       const double   *blends,
                       guint           n_styles)
{
  Message *msg;

  g_return_if_fail (BW_IS_WORKER (self));
  g_return_if_fail (G_IS_FILE (content));
  g_return_if_fail (G_IS_FILE (output));

  msg = message_new_run (MSG_VIDEO, params, content, styles, blends, n_styles);
  msg->output = g_file_get_path (output);
  msg->n_steps = frame_steps;
  send_run (self, msg);
}

void
bw_worker_pause (BwWorker *self)
{
  g_return_if_fail (BW_IS_WORKER (self));
  send (self, message_new (MSG_PAUSE));
}

void
bw_worker_resume (BwWorker *self)
{
  g_return_if_fail (BW_IS_WORKER (self));
  send (self, message_new (MSG_RESUME));
}

void
bw_worker_restore (BwWorker         *self,
                   const BwAutosave *autosave)
{
  Message *msg = message_new (MSG_RESTORE);

  g_return_if_fail (BW_IS_WORKER (self));

  msg->autosave = bw_autosave_copy (autosave);
  send (self, msg);
}

void
bw_worker_forget_autosave (BwWorker *self)
{
  g_return_if_fail (BW_IS_WORKER (self));
  send (self, message_new (MSG_FORGET_AUTOSAVE));
}

void
bw_worker_stop (BwWorker *self)
{
  g_return_if_fail (BW_IS_WORKER (self));
  send (self, message_new (MSG_STOP));
}

void
bw_worker_set_weights (BwWorker *self,
                       double    content_weight,
                       double    style_weight,
                       double    tv_weight)
{
  Message *msg = message_new (MSG_SET_WEIGHTS);

  g_return_if_fail (BW_IS_WORKER (self));

  msg->weights[0] = content_weight;
  msg->weights[1] = style_weight;
  msg->weights[2] = tv_weight;
  send (self, msg);
}

void
bw_worker_set_n_steps (BwWorker *self,
                       int       n_steps)
{
  Message *msg = message_new (MSG_SET_N_STEPS);

  g_return_if_fail (BW_IS_WORKER (self));

  msg->n_steps = n_steps;
  send (self, msg);
}

BwWorkerState
bw_worker_get_state (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), BW_WORKER_IDLE);
  return self->state;
}

int
bw_worker_get_step (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), 0);
  return self->step;
}

int
bw_worker_get_n_steps (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), 0);
  return self->n_steps;
}

double
bw_worker_get_loss (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), 0);
  return self->losses.total;
}

BwImage *
bw_worker_get_image (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), NULL);
  return self->image;
}

GdkTexture *
bw_worker_get_texture (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), NULL);
  return self->texture;
}

int
bw_worker_get_frame (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), 0);
  return self->frame;
}

int
bw_worker_get_n_frames (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), 0);
  return self->n_frames;
}

BwImage *
bw_worker_get_mask (BwWorker *self,
                    guint     index)
{
  g_return_val_if_fail (BW_IS_WORKER (self), NULL);
  if (self->sent_masks == NULL || index >= self->sent_masks->len)
    return NULL;
  return g_ptr_array_index (self->sent_masks, index);
}

void
bw_worker_get_params (BwWorker *self,
                      BwParams *params)
{
  g_return_if_fail (BW_IS_WORKER (self));
  *params = self->sent_params;
}

BwFrameRecorder *
bw_worker_get_recording (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), NULL);
  return self->recording;
}

/* The engine's check of a size, for the window to say in a person's terms. */
int
bw_worker_get_largest_size (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), 0);
  return self->largest_size;
}

const char *
bw_worker_get_device_name (BwWorker *self)
{
  g_return_val_if_fail (BW_IS_WORKER (self), NULL);
  return self->device_name;
}
