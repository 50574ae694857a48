/* bw-frame-recorder.c: the frames of a painting as it forms, kept small.
 *
 * The frames kept are those whose index (from 0, in the order added) is a multiple of
 * `stride`, in `frames`; the newest frame is in `latest` as well, and counts as one more when
 * its index is not such a multiple. When that would make more than max_frames, the frames at
 * odd positions go and the stride doubles, so the recording always spans the whole run at an
 * even spacing, and a frame is stored once at most.
 */
#include "bw-frame-recorder.h"

#include <gio/gio.h>
#include <math.h>

#include "motion/bw-motion-error.h"
#include "motion/bw-video-writer.h"
#include "bw-i18n.h"

struct _BwFrameRecorder {
  GObject parent_instance;

  int width, height;
  guint max_frames;

  GMutex lock;                /* everything below */
  GPtrArray *frames;          /* GBytes of 8-bit RGB: frames 0, stride, 2 * stride, ... */
  GBytes *latest;             /* the frame added last */
  guint64 n_added;
  guint64 stride;
};

G_DEFINE_FINAL_TYPE (BwFrameRecorder, bw_frame_recorder, G_TYPE_OBJECT)

static void
bw_frame_recorder_finalize (GObject *object)
{
  BwFrameRecorder *self = BW_FRAME_RECORDER (object);

  g_ptr_array_unref (self->frames);
  g_clear_pointer (&self->latest, g_bytes_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bw_frame_recorder_parent_class)->finalize (object);
}

static void
bw_frame_recorder_class_init (BwFrameRecorderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_frame_recorder_finalize;
}

static void
bw_frame_recorder_init (BwFrameRecorder *self)
{
  g_mutex_init (&self->lock);
  self->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->stride = 1;
}

BwFrameRecorder *
bw_frame_recorder_new (int   width,
                       int   height,
                       guint max_frames)
{
  BwFrameRecorder *self;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  self = g_object_new (BW_TYPE_FRAME_RECORDER, NULL);
  self->width = width;
  self->height = height;
  /* the first and the last frame at least */
  self->max_frames = MAX (max_frames, 2);
  return self;
}

/* With the lock held: TRUE when the latest frame is held apart from the regular ones. */
static gboolean
latest_is_extra (BwFrameRecorder *self)
{
  return self->latest != NULL && (self->n_added - 1) % self->stride != 0;
}

void
bw_frame_recorder_add (BwFrameRecorder *self,
                       BwImage         *frame)
{
  g_autoptr(BwImage) scaled = NULL;
  g_autoptr(GBytes) rgb = NULL;

  g_return_if_fail (BW_IS_FRAME_RECORDER (self));
  g_return_if_fail (BW_IS_IMAGE (frame));

  /* the slow part outside the lock: an export running meanwhile is not held up */
  scaled = bw_image_scale (frame, self->width, self->height);
  rgb = bw_image_to_rgb8 (scaled);

  g_mutex_lock (&self->lock);
  if (self->n_added % self->stride == 0)
    g_ptr_array_add (self->frames, g_bytes_ref (rgb));
  g_clear_pointer (&self->latest, g_bytes_unref);
  self->latest = g_steal_pointer (&rgb);
  self->n_added++;
  /* this ends: frames[0] is never dropped, and it and the latest fit in max_frames >= 2 */
  while (self->frames->len + (latest_is_extra (self) ? 1 : 0) > self->max_frames)
    {
      /* every other one: after k removals, the frame that was at 2k + 1 is at k + 1 */
      for (guint i = 1; i < self->frames->len; i++)
        g_ptr_array_remove_index (self->frames, i);
      self->stride *= 2;
    }
  g_mutex_unlock (&self->lock);
}

guint
bw_frame_recorder_get_n_frames (BwFrameRecorder *self)
{
  guint n;

  g_return_val_if_fail (BW_IS_FRAME_RECORDER (self), 0);

  g_mutex_lock (&self->lock);
  n = self->frames->len + (latest_is_extra (self) ? 1 : 0);
  g_mutex_unlock (&self->lock);
  return n;
}

int
bw_frame_recorder_get_width (BwFrameRecorder *self)
{
  g_return_val_if_fail (BW_IS_FRAME_RECORDER (self), 0);

  return self->width;
}

int
bw_frame_recorder_get_height (BwFrameRecorder *self)
{
  g_return_val_if_fail (BW_IS_FRAME_RECORDER (self), 0);

  return self->height;
}

/* A stored frame back as a BwImage, for the writer. */
static BwImage *
to_image (GBytes *rgb,
          int     width,
          int     height)
{
  gsize plane = (gsize) width * height;
  const guint8 *in = g_bytes_get_data (rgb, NULL);
  float *data = g_new (float, plane * 3);

  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      data[c * plane + i] = in[i * 3 + c] / 255.0f;
  return bw_image_new_take (width, height, data);
}

gboolean
bw_frame_recorder_export (BwFrameRecorder          *self,
                          const char               *path,
                          int                       fps,
                          double                    seconds,
                          GCancellable             *cancellable,
                          BwFrameRecorderProgress   progress,
                          gpointer                  user_data,
                          GError                  **error)
{
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(BwVideoWriter) writer = NULL;
  guint n, m;

  g_return_val_if_fail (BW_IS_FRAME_RECORDER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (fps > 0 && seconds > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* a snapshot: the worker may go on adding (and dropping) frames meanwhile */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->frames->len; i++)
    g_ptr_array_add (frames, g_bytes_ref (self->frames->pdata[i]));
  if (latest_is_extra (self))
    g_ptr_array_add (frames, g_bytes_ref (self->latest));
  g_mutex_unlock (&self->lock);

  m = frames->len;
  if (m == 0)
    {
      g_set_error_literal (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                           _("Nothing has been painted yet, so there is no animation to export. "
                             "Paint first, then export."));
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  n = (guint) MAX (1, lround (fps * seconds));
  writer = bw_video_writer_new (path, self->width, self->height, fps, 1, error);
  if (writer == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      /* one frame alone: the finished painting */
      guint index = n == 1 ? m - 1 : (guint) lround ((double) i * (m - 1) / (n - 1));
      g_autoptr(BwImage) image = NULL;

      /* dropping the unfinished writer removes its partial file */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      image = to_image (frames->pdata[index], self->width, self->height);
      if (!bw_video_writer_add (writer, image, error))
        return FALSE;
      if (progress)
        progress (i + 1, n, user_data);
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return bw_video_writer_finish (writer, error);
}
