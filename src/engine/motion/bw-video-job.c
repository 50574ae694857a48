/* bw-video-job.c: reader -> one session per frame -> writer. */
#include "bw-video-job.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <math.h>

#include "motion/bw-motion-error.h"
#include "motion/bw-video-reader.h"
#include "motion/bw-video-writer.h"
#include "bw-i18n.h"

struct _BwVideoJob {
  GObject parent_instance;

  BwEngine *engine;
  BwParams params;
  char *input;
  char *output;
  GPtrArray *styles;
  GArray *blends;
  gboolean from_content;
  int frame_steps;            /* of the frames after the first; 0: params.steps */
  int fail_after;             /* tests: frames before an injected error; -1: none */

  BwVideoReader *reader;
  BwImage *first;             /* read by new(), so a file that is not a video fails there */
  BwVideoWriter *writer;
  BwSession *session;         /* of the frame under way, while it runs */
  char *warning;
  int n_expected;             /* from the length and a constant rate; -1: see below */
  double duration;            /* of the video, s; -1 when the container does not say */
  gint64 first_start;         /* of the first frame, ns */
  gint64 first_duration;
  gint64 read_end;            /* where the last frame read ends, ns */
  int n_read;

  int n_frames;
  int step;                   /* of the frame under way */
  gint64 started;
  double flicker_in, flicker_out;
};

G_DEFINE_FINAL_TYPE (BwVideoJob, bw_video_job, G_TYPE_OBJECT)

enum {
  SIGNAL_STEP,
  SIGNAL_FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
bw_video_job_finalize (GObject *object)
{
  BwVideoJob *self = BW_VIDEO_JOB (object);

  g_clear_object (&self->engine);
  g_free (self->input);
  g_free (self->output);
  g_ptr_array_unref (self->styles);
  g_array_unref (self->blends);
  g_clear_object (&self->reader);
  g_clear_object (&self->first);
  g_clear_object (&self->writer);
  g_free (self->warning);
  G_OBJECT_CLASS (bw_video_job_parent_class)->finalize (object);
}

static void
bw_video_job_class_init (BwVideoJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_video_job_finalize;

  /* ::step (session, step, values): after each optimisation step of the frame under way,
   * which is frame bw_video_job_get_n_frames() (from 0); values is a BwLossValues * */
  signals[SIGNAL_STEP] = g_signal_new ("step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                                       G_TYPE_OBJECT, G_TYPE_INT, G_TYPE_POINTER);
  /* ::frame (index, image): a frame was written */
  signals[SIGNAL_FRAME] = g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                        G_TYPE_INT, G_TYPE_OBJECT);
}

static void
bw_video_job_init (BwVideoJob *self)
{
  self->styles = g_ptr_array_new_with_free_func (g_object_unref);
  self->blends = g_array_new (FALSE, FALSE, sizeof (double));
  self->n_expected = -1;
  self->fail_after = -1;
}

BwVideoJob *
bw_video_job_new (const BwParams  *params,
                  const char      *input,
                  const char      *output,
                  GError         **error)
{
  g_autoptr(BwVideoJob) self = NULL;
  int fps_n, fps_d;
  double duration;

  if (!bw_video_writer_check_format (output, error))
    return NULL;
  self = g_object_new (BW_TYPE_VIDEO_JOB, NULL);
  self->params = *params;
  self->input = g_strdup (input);
  self->output = g_strdup (output);
  self->reader = bw_video_reader_new (input, params->size, error);
  if (self->reader == NULL)
    return NULL;
  self->first = bw_video_reader_next (self->reader, error);
  if (self->first == NULL)
    {
      if (error && *error == NULL)
        {
          g_autofree char *display = g_filename_display_name (input);
          g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                       _("“%s” has no video frames."), display);
        }
      return NULL;
    }
  bw_video_reader_get_frame_time (self->reader, &self->first_start, &self->first_duration);
  self->read_end = self->first_start + self->first_duration;
  self->n_read = 1;
  bw_video_reader_get_rate (self->reader, &fps_n, &fps_d);
  duration = bw_video_reader_get_duration (self->reader);
  self->duration = duration;
  /* a variable rate (0/1) is counted as the frames come: bw_video_job_get_n_frames_expected() */
  if (duration > 0 && fps_n > 0)
    self->n_expected = MAX (1, (int) lround (duration * fps_n / fps_d));
  return g_steal_pointer (&self);
}

void
bw_video_job_add_style (BwVideoJob *self,
                        BwImage    *style,
                        double      blend)
{
  g_return_if_fail (BW_IS_VIDEO_JOB (self));

  g_ptr_array_add (self->styles, g_object_ref (style));
  g_array_append_val (self->blends, blend);
}

void
bw_video_job_set_weights (BwVideoJob *self,
                          double      content_weight,
                          double      style_weight,
                          double      tv_weight)
{
  g_return_if_fail (BW_IS_VIDEO_JOB (self));

  self->params.content_weight = content_weight;
  self->params.style_weight = style_weight;
  self->params.tv_weight = tv_weight;
  if (self->session)
    bw_session_set_weights (self->session, content_weight, style_weight, tv_weight);
}

void
bw_video_job_set_frame_steps (BwVideoJob *self,
                              int         steps)
{
  g_return_if_fail (BW_IS_VIDEO_JOB (self));
  g_return_if_fail (steps >= 0);

  self->frame_steps = steps;
}

/* The steps frame @index takes. */
static int
steps_of_frame (BwVideoJob *self,
                int         index)
{
  /* only a frame that starts from the previous result can do with fewer */
  if (index == 0 || self->from_content || self->frame_steps == 0)
    return self->params.steps;
  return self->frame_steps;
}

void
bw_video_job_set_from_content (BwVideoJob *self,
                               gboolean    from_content)
{
  g_return_if_fail (BW_IS_VIDEO_JOB (self));

  self->from_content = from_content;
}

/* The writer, made for the first frame's size and the source's rate and sound. */
static gboolean
open_writer (BwVideoJob  *self,
             BwImage     *frame,
             GError     **error)
{
  g_autoptr(GError) local = NULL;
  int w = bw_image_get_width (frame), h = bw_image_get_height (frame);
  int fps_n, fps_d;

  bw_video_reader_get_rate (self->reader, &fps_n, &fps_d);
  if (bw_video_reader_has_audio (self->reader, &local))
    self->writer = bw_video_writer_new_with_audio (self->output, w, h, fps_n, fps_d,
                                                   self->input, &local);
  /* sound that cannot be carried over is no reason to lose the video */
  if (g_error_matches (local, BW_MOTION_ERROR, BW_MOTION_ERROR_AUDIO))
    {
      self->warning = g_strdup (local->message);
      g_clear_error (&local);
    }
  if (local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (self->writer == NULL)
    self->writer = bw_video_writer_new (self->output, w, h, fps_n, fps_d, error);
  return self->writer != NULL;
}

static double
mean_abs_diff (BwImage *a,
               BwImage *b)
{
  int w = bw_image_get_width (a), h = bw_image_get_height (a);
  gsize n = (gsize) 3 * w * h;
  g_autoptr(BwImage) same = NULL;
  const float *x = bw_image_get_data (a), *y;
  double acc = 0;

  /* the reader gives every frame the first one's size; should one differ all the same, it
   * is compared at this one's size rather than read past */
  if (bw_image_get_width (b) != w || bw_image_get_height (b) != h)
    b = same = bw_image_scale (b, w, h);
  y = bw_image_get_data (b);

  for (gsize i = 0; i < n; i++)
    acc += fabsf (x[i] - y[i]);
  return acc / n;
}

static void
on_session_step (BwSession  *session,
                 int         step,
                 gpointer    values,
                 BwVideoJob *self)
{
  self->step = step;
  g_signal_emit (self, signals[SIGNAL_STEP], 0, session, step, values);
}

/* One frame; after a cancel, the image so far and @cancelled set. */
static BwImage *
stylise (BwVideoJob    *self,
         BwImage       *frame,
         BwImage       *init,
         GCancellable  *cancellable,
         gboolean      *cancelled,
         GError       **error)
{
  BwParams params = self->params;
  g_autoptr(BwSession) session = NULL;
  g_autoptr(GError) run_error = NULL;

  if (init)
    {
      params.init = BW_INIT_IMAGE;
      /* the previous result is painted at full size already: coarse-to-fine passes would
       * shrink it to the coarsest pass, paint over the blur and split the frame's few steps */
      params.scales = 1;
    }
  params.steps = steps_of_frame (self, self->n_frames);
  session = bw_engine_new_session (self->engine, &params);
  bw_session_set_content (session, frame);
  for (guint i = 0; i < self->styles->len; i++)
    bw_session_add_style (session, g_ptr_array_index (self->styles, i),
                          g_array_index (self->blends, double, i));
  if (init)
    bw_session_set_init_image (session, init);
  if (!bw_session_start (session, error))
    return NULL;
  self->step = 0;
  g_signal_connect (session, "step", G_CALLBACK (on_session_step), self);
  self->session = session;
  bw_session_run (session, cancellable, &run_error);
  self->session = NULL;
  if (run_error)
    {
      if (!g_error_matches (run_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&run_error));
          return NULL;
        }
      *cancelled = TRUE;
    }
  return bw_session_get_image (session, error);
}

void
bw_video_job_fail_after (BwVideoJob *self,
                         int         n_frames)
{
  g_return_if_fail (BW_IS_VIDEO_JOB (self));

  self->fail_after = n_frames;
}

/* After an error: ends the stream so that the frames so far are a playable file, as Stop
 * does, and says so in @run_error, which goes to @error. A writer that failed itself cannot
 * end its file; that is then removed with the writer (the .part), and only @run_error said. */
static gboolean
fail_keeping_frames (BwVideoJob  *self,
                     GError      *run_error,
                     GError     **error)
{
  g_autoptr(GError) finish_error = NULL;
  g_autofree char *display = g_filename_display_name (self->output);

  /* every caller has an error; should one not, the user still gets a sentence */
  if (run_error == NULL)
    g_set_error (&run_error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                 "Frame %d could not be painted. Try again, or with a smaller size.",
                 self->n_frames + 1);
  if (self->writer == NULL || bw_video_writer_get_n_frames (self->writer) == 0)
    {
      g_clear_object (&self->writer);
      g_propagate_error (error, run_error);
      return FALSE;
    }
  if (!bw_video_writer_finish (self->writer, &finish_error))
    {
      g_debug ("the frames so far could not be kept: %s", finish_error->message);
      g_clear_object (&self->writer);
      g_propagate_error (error, run_error);
      return FALSE;
    }
  /* the same domain and code, so that callers still tell errors apart */
  if (self->n_frames == 1)
    g_set_error (error, run_error->domain, run_error->code,
                 "%s The frame painted before it is in “%s”.", run_error->message, display);
  else
    g_set_error (error, run_error->domain, run_error->code,
                 "%s The %d frames painted before it are in “%s”.", run_error->message,
                 self->n_frames, display);
  g_error_free (run_error);
  return FALSE;
}

gboolean
bw_video_job_run (BwVideoJob    *self,
                  BwEngine      *engine,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(BwImage) previous_in = NULL;
  g_autoptr(BwImage) previous_out = NULL;
  g_autoptr(GError) run_error = NULL;
  gboolean cancelled = FALSE;

  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), FALSE);
  g_return_val_if_fail (BW_IS_ENGINE (engine), FALSE);
  g_return_val_if_fail (self->writer == NULL, FALSE);

  self->engine = g_object_ref (engine);
  self->started = g_get_monotonic_time ();
  /* every failure below goes through fail_keeping_frames(): an error must not lose the
   * frames painted so far, which may have taken hours */
  while (!cancelled)
    {
      g_autoptr(BwImage) frame = NULL;
      g_autoptr(BwImage) out = NULL;
      gint64 start = self->first_start, duration = self->first_duration;

      if (self->n_frames == self->fail_after)
        {
          g_set_error (&run_error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                       "Frame %d could not be decoded (a test's error).", self->n_frames + 1);
          return fail_keeping_frames (self, g_steal_pointer (&run_error), error);
        }
      frame = self->first ? g_steal_pointer (&self->first)
                          : bw_video_reader_next (self->reader, &run_error);
      if (frame == NULL)
        {
          if (run_error)
            return fail_keeping_frames (self, g_steal_pointer (&run_error), error);
          break;
        }
      /* each frame keeps its own time: a variable rate stays variable, and in step with
       * the sound */
      if (self->n_frames > 0)
        {
          bw_video_reader_get_frame_time (self->reader, &start, &duration);
          self->read_end = start + duration;
          self->n_read++;
        }
      if (self->writer == NULL && !open_writer (self, frame, &run_error))
        return fail_keeping_frames (self, g_steal_pointer (&run_error), error);
      /* a cancel between frames still ends the stream below */
      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          break;
        }
      out = stylise (self, frame, self->from_content ? NULL : previous_out, cancellable,
                     &cancelled, &run_error);
      if (out == NULL || !bw_video_writer_add_timed (self->writer, out, start, duration, &run_error))
        return fail_keeping_frames (self, g_steal_pointer (&run_error), error);
      if (previous_in)
        {
          self->flicker_in += mean_abs_diff (frame, previous_in);
          self->flicker_out += mean_abs_diff (out, previous_out);
        }
      self->n_frames++;
      self->step = 0;
      g_signal_emit (self, signals[SIGNAL_FRAME], 0, self->n_frames - 1, out);
      g_set_object (&previous_in, frame);
      g_set_object (&previous_out, out);
    }
  /* a stopped run still ends its stream, so the partial video plays */
  if (!bw_video_writer_finish (self->writer, error))
    return FALSE;
  if (cancelled)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                   _("Stopped after %d frames; they are in the video."), self->n_frames);
      return FALSE;
    }
  return TRUE;
}

int
bw_video_job_get_n_frames (BwVideoJob *self)
{
  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), 0);

  return self->n_frames;
}

int
bw_video_job_get_steps (BwVideoJob *self)
{
  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), 0);

  return steps_of_frame (self, self->n_frames);
}

int
bw_video_job_get_n_frames_expected (BwVideoJob *self)
{
  int expected;

  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), -1);

  expected = self->n_expected;
  /* a variable rate: the rest of the length at the mean length of the frames read so far */
  if (expected < 0 && self->duration > 0 && self->read_end > self->first_start)
    expected = MAX (1, (int) lround ((self->duration * GST_SECOND - self->first_start) *
                                     self->n_read / (self->read_end - self->first_start)));
  /* a container's length can be a little short; never expect fewer than are done */
  return expected < 0 ? -1 : MAX (expected, self->n_frames + (self->step > 0));
}

double
bw_video_job_get_seconds_left (BwVideoJob *self)
{
  int expected = bw_video_job_get_n_frames_expected (self);
  int first = steps_of_frame (self, 0), later = steps_of_frame (self, 1);
  double done, total, elapsed;

  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), -1);

  /* in steps, which cost the same in every frame: the first frame may take more of them */
  total = expected > 0 ? first + (double) (expected - 1) * later : 0;
  done = (self->n_frames > 0 ? first + (double) (self->n_frames - 1) * later : 0) + self->step;
  if (expected < 0 || done <= 0)
    return -1;
  elapsed = (g_get_monotonic_time () - self->started) / 1e6;
  return elapsed / done * MAX (0, total - done);
}

gboolean
bw_video_job_get_flicker (BwVideoJob *self,
                          double     *input,
                          double     *output)
{
  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), FALSE);

  if (self->n_frames < 2)
    return FALSE;
  *input = self->flicker_in / (self->n_frames - 1);
  *output = self->flicker_out / (self->n_frames - 1);
  return TRUE;
}

gboolean
bw_video_job_has_audio (BwVideoJob *self)
{
  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), FALSE);

  return self->writer && bw_video_writer_has_audio (self->writer);
}

const char *
bw_video_job_get_warning (BwVideoJob *self)
{
  g_return_val_if_fail (BW_IS_VIDEO_JOB (self), NULL);

  return self->warning;
}
