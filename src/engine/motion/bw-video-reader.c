/* bw-video-reader.c: filesrc ! decodebin ! videoflip ! videoconvert ! appsink (RGB)
 *
 * videoflip turns the frames upright from the stream's image-orientation tag (a phone's
 * rotate-90); frames come out in square pixels, and every frame in the first frame's size
 * (a later one of another shape scaled into it, with black borders), so that what reads
 * them can compare consecutive frames and write them to one stream. Each frame's time is
 * the source's own: a variable frame rate stays variable.
 *
 * decodebin also tells whether there is sound, and whether it can be decoded: it exposes all
 * its pads, or reports a stream it has no decoder for, before the first frame comes out.
 */
#include "bw-video-reader.h"

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "motion/bw-motion-error.h"
#include "bw-i18n.h"

struct _BwVideoReader {
  GObject parent_instance;

  GstElement *pipeline;
  GstElement *sink;
  char *display;
  int longest_side;
  int fps_n, fps_d;           /* 0/1: variable or not known */
  int box_w, box_h;           /* the first frame's size, which every frame gets; 0 before */
  int first_w, first_h;       /* and its size as decoded, with its shown width */
  double first_dw;

  /* the frame after the one returned last, read ahead for its start time (the length of a
   * frame whose buffer does not say) */
  GstSample *ahead;
  GError *ahead_error;
  gint64 frame_start, frame_duration;   /* of the frame returned last, ns */
  gboolean have_frame;

  /* set by decodebin's streaming threads */
  GMutex audio_lock;
  gboolean has_audio;
  gboolean has_video;
  gboolean all_pads;          /* decodebin said no more streams come */
  char *audio_codec;          /* a sound stream without a decoder */
};

G_DEFINE_FINAL_TYPE (BwVideoReader, bw_video_reader, G_TYPE_OBJECT)

static void
bw_video_reader_finalize (GObject *object)
{
  BwVideoReader *self = BW_VIDEO_READER (object);

  if (self->pipeline)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      gst_object_unref (self->pipeline);
    }
  g_clear_object (&self->sink);
  g_clear_pointer (&self->ahead, gst_sample_unref);
  g_clear_error (&self->ahead_error);
  g_free (self->display);
  g_free (self->audio_codec);
  g_mutex_clear (&self->audio_lock);
  G_OBJECT_CLASS (bw_video_reader_parent_class)->finalize (object);
}

static void
bw_video_reader_class_init (BwVideoReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_video_reader_finalize;
}

static void
bw_video_reader_init (BwVideoReader *self)
{
  self->fps_n = 0;
  self->fps_d = 1;
  g_mutex_init (&self->audio_lock);
}

static gboolean
is_audio (GstCaps *caps)
{
  return caps && gst_caps_get_size (caps) > 0 &&
         g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/");
}

/* A decoded stream: video goes to the frames, sound is only noted (and left unlinked). */
static void
on_pad_added (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  BwVideoReader *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_query_caps (pad, NULL);

  g_mutex_lock (&self->audio_lock);
  if (is_audio (caps))
    self->has_audio = TRUE;
  else
    self->has_video = TRUE;
  g_mutex_unlock (&self->audio_lock);
}

/* Every stream is there: a file of sound alone is known to be one now, whether or not its
 * unlinked sound makes an error first (under load it may not, and then nothing else ends the
 * wait for a frame). */
static void
on_no_more_pads (GstElement *decodebin,
                 gpointer    user_data)
{
  BwVideoReader *self = user_data;

  g_mutex_lock (&self->audio_lock);
  self->all_pads = TRUE;
  g_mutex_unlock (&self->audio_lock);
}

/* A stream decodebin has no decoder for. */
static void
on_unknown_type (GstElement *decodebin,
                 GstPad     *pad,
                 GstCaps    *caps,
                 gpointer    user_data)
{
  BwVideoReader *self = user_data;

  if (!is_audio (caps))
    return;
  g_mutex_lock (&self->audio_lock);
  if (self->audio_codec == NULL)
    {
      gst_pb_utils_init ();
      self->audio_codec = gst_pb_utils_get_codec_description (caps);
      if (self->audio_codec == NULL)
        self->audio_codec = gst_caps_to_string (caps);
    }
  g_mutex_unlock (&self->audio_lock);
}

gboolean
bw_video_reader_is_video (const char *path)
{
  g_autofree char *type = g_content_type_guess (path, NULL, 0, NULL);
  g_autofree char *mime = g_content_type_get_mime_type (type);

  return mime != NULL && g_str_has_prefix (mime, "video/");
}

BwVideoReader *
bw_video_reader_new (const char  *path,
                     int          longest_side,
                     GError     **error)
{
  g_autoptr(BwVideoReader) self = g_object_new (BW_TYPE_VIDEO_READER, NULL);
  g_autoptr(GError) parse_error = NULL;
  GstElement *src, *decodebin;

  gst_init (NULL, NULL);
  self->display = g_filename_display_name (path);
  self->longest_side = longest_side;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                   _("“%s” does not exist. Check the file name."), self->display);
      return NULL;
    }
  self->pipeline = gst_parse_launch ("filesrc name=src ! decodebin name=dec ! "
                                     "videoflip video-direction=auto ! videoconvert ! "
                                     "video/x-raw,format=RGB ! appsink name=sink sync=false "
                                     "max-buffers=2", &parse_error);
  if (self->pipeline == NULL || parse_error != NULL)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   _("Could not set up the video decoder: %s. Install gstreamer1.0-plugins-base "
                     "and gstreamer1.0-plugins-good."), parse_error ? parse_error->message : "unknown error");
      return NULL;
    }
  gst_object_ref_sink (self->pipeline);
  src = gst_bin_get_by_name (GST_BIN (self->pipeline), "src");
  g_object_set (src, "location", path, NULL);
  gst_object_unref (src);
  decodebin = gst_bin_get_by_name (GST_BIN (self->pipeline), "dec");
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_pad_added), self);
  g_signal_connect (decodebin, "unknown-type", G_CALLBACK (on_unknown_type), self);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (on_no_more_pads), self);
  gst_object_unref (decodebin);
  self->sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "sink");
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                   _("“%s” could not be opened as a video."), self->display);
      return NULL;
    }
  return g_steal_pointer (&self);
}

/* The pipeline's error, if it has one, as a sentence. */
static gboolean
check_bus (BwVideoReader  *self,
           GError        **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (self->pipeline);
  g_autoptr(GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (msg)
    {
      g_autoptr(GError) gst_error = NULL;
      g_autofree char *reason = NULL;

      gst_message_parse_error (msg, &gst_error, NULL);
      /* GStreamer's messages are sentences already; this one goes inside ours */
      reason = g_strdup (gst_error->message);
      if (g_str_has_suffix (reason, "."))
        reason[strlen (reason) - 1] = '\0';
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                   _("“%s” could not be decoded: %s. Use a WebM, MP4 or Ogg video that your "
                     "GStreamer plugins can play."), self->display, reason);
      return FALSE;
    }
  return TRUE;
}

/* The next decoded frame; NULL at the end, or with @error set when the pipeline failed.
 * appsink's blocking pull would wait forever for a file that fails before its first frame
 * (no EOS comes after an error), so it is polled, with the bus checked in between. */
static GstSample *
pull_sample (BwVideoReader  *self,
             GError        **error)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (self->sink), 100 * GST_MSECOND);

      gboolean sound_only, failed;

      if (sample)
        return sample;
      failed = !check_bus (self, error);
      /* decodebin's own words for a file of sound alone are about its unlinked stream */
      g_mutex_lock (&self->audio_lock);
      sound_only = self->has_audio && !self->has_video;
      failed = failed || (sound_only && self->all_pads);
      g_mutex_unlock (&self->audio_lock);
      if (!failed)
        {
          if (gst_app_sink_is_eos (GST_APP_SINK (self->sink)))
            return NULL;
          continue;
        }
      if (sound_only)
        {
          g_clear_error (error);
          g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                       _("“%s” holds sound but no pictures. Choose a video with pictures."),
                       self->display);
        }
      return NULL;
    }
  g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
               _("“%s” gave no frame for a minute. Use a WebM, MP4 or Ogg video that your "
                 "GStreamer plugins can play."), self->display);
  return NULL;
}

/* The sample's start as running time, or -1 when it has none. */
static gint64
sample_start (GstSample *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return -1;
  if (segment && segment->format == GST_FORMAT_TIME)
    pts = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
  return GST_CLOCK_TIME_IS_VALID (pts) ? (gint64) pts : -1;
}

/* The frame's start and length: its own, or what the frames around it say. */
static void
set_frame_time (BwVideoReader *self,
                GstSample     *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  gint64 start = sample_start (sample);
  gint64 next = self->ahead ? sample_start (self->ahead) : -1;
  gint64 previous_end = self->have_frame ? self->frame_start + self->frame_duration : 0;
  gint64 duration;

  /* no time, or one that goes back: right after the frame before */
  if (start < 0 || (self->have_frame && start <= self->frame_start))
    start = previous_end;
  /* until the next frame when it says when it starts: no gap and no overlap, whatever the
   * container's rounding of durations */
  if (next > start)
    duration = next - start;
  else if (GST_BUFFER_DURATION_IS_VALID (buffer) && GST_BUFFER_DURATION (buffer) > 0)
    duration = GST_BUFFER_DURATION (buffer);
  else if (self->fps_n > 0)
    duration = gst_util_uint64_scale (GST_SECOND, self->fps_d, self->fps_n);
  else if (self->have_frame)
    duration = self->frame_duration;
  else
    duration = GST_SECOND / 25;   /* nothing says: the PAL rate most players assume */
  self->frame_start = start;
  self->frame_duration = duration;
  self->have_frame = TRUE;
}

/* @image (@w x @h, planar) at the size it is shown at: square pixels, scaled so that its
 * longer side is longest_side, and after the first frame in that frame's box. */
static BwImage *
fit_frame (BwVideoReader *self,
           BwImage       *image,
           int            par_n,
           int            par_d)
{
  int w = bw_image_get_width (image), h = bw_image_get_height (image);
  double dw = w, dh = h;
  int fw, fh;
  g_autoptr(BwImage) scaled = NULL;
  float *data;
  const float *src;

  /* square pixels: a 2:1 pixel is two pixels wide */
  if (par_n > 0 && par_d > 0 && par_n != par_d)
    dw = w * (double) par_n / par_d;
  if (self->box_w == 0)
    {
      double f = self->longest_side > 0 ? self->longest_side / MAX (dw, dh) : 1;
      self->box_w = MAX (1, (int) lround (dw * f));
      self->box_h = MAX (1, (int) lround (dh * f));
      self->first_w = w;
      self->first_h = h;
      self->first_dw = dw;
    }
  if (w == self->box_w && h == self->box_h)
    return g_object_ref (image);
  /* the first frame's shape: straight to the box, with no border from rounding */
  if (w == self->first_w && h == self->first_h && dw == self->first_dw)
    return bw_image_scale (image, self->box_w, self->box_h);
  /* a frame of another shape than the first: whole, centred, with black borders */
  {
    double f = MIN (self->box_w / dw, self->box_h / dh);
    fw = CLAMP ((int) lround (dw * f), 1, self->box_w);
    fh = CLAMP ((int) lround (dh * f), 1, self->box_h);
  }
  scaled = bw_image_scale (image, fw, fh);
  if (fw == self->box_w && fh == self->box_h)
    return g_steal_pointer (&scaled);
  data = g_new0 (float, (gsize) 3 * self->box_w * self->box_h);
  src = bw_image_get_data (scaled);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < fh; y++)
      memcpy (data + (gsize) c * self->box_w * self->box_h +
                     (gsize) (y + (self->box_h - fh) / 2) * self->box_w + (self->box_w - fw) / 2,
              src + (gsize) c * fw * fh + (gsize) y * fw, sizeof (float) * fw);
  return bw_image_new_take (self->box_w, self->box_h, data);
}

BwImage *
bw_video_reader_next (BwVideoReader  *self,
                      GError        **error)
{
  g_autoptr(GstSample) sample = NULL;
  GstVideoInfo info;
  GstVideoFrame frame;
  g_autoptr(BwImage) image = NULL;
  float *data;
  int w, h;

  if (self->ahead_error)
    {
      g_propagate_error (error, g_steal_pointer (&self->ahead_error));
      return NULL;
    }
  sample = self->ahead ? g_steal_pointer (&self->ahead) : pull_sample (self, error);
  if (sample == NULL)
    return NULL;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                   _("“%s” gave a frame Brushwork cannot read."), self->display);
      return NULL;
    }
  /* 0/1 is GStreamer's word for a variable rate */
  self->fps_n = MAX (0, GST_VIDEO_INFO_FPS_N (&info));
  self->fps_d = self->fps_n > 0 ? GST_VIDEO_INFO_FPS_D (&info) : 1;
  w = GST_VIDEO_INFO_WIDTH (&info);
  h = GST_VIDEO_INFO_HEIGHT (&info);
  data = g_new (float, (gsize) 3 * w * h);
  for (int y = 0; y < h; y++)
    {
      const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
                          (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
      for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++)
          data[(gsize) c * w * h + (gsize) y * w + x] = row[x * 3 + c] / 255.0f;
    }
  gst_video_frame_unmap (&frame);
  image = bw_image_new_take (w, h, data);
  /* the next frame's start is this one's end; an error there is the next call's */
  self->ahead = pull_sample (self, &self->ahead_error);
  set_frame_time (self, sample);
  return fit_frame (self, image, GST_VIDEO_INFO_PAR_N (&info), GST_VIDEO_INFO_PAR_D (&info));
}

void
bw_video_reader_get_frame_time (BwVideoReader *self,
                                gint64        *start,
                                gint64        *duration)
{
  *start = self->frame_start;
  *duration = self->frame_duration;
}

/* Waits for the pipeline to preroll, so that queries and seeks have a stream to act on. */
static gboolean
wait_prerolled (BwVideoReader  *self,
                GError        **error)
{
  if (gst_element_get_state (self->pipeline, NULL, NULL, 10 * GST_SECOND) == GST_STATE_CHANGE_FAILURE)
    {
      if (check_bus (self, error))
        g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                     _("“%s” could not be opened as a video."), self->display);
      return FALSE;
    }
  return TRUE;
}

double
bw_video_reader_get_duration (BwVideoReader *self)
{
  gint64 duration;

  if (!wait_prerolled (self, NULL) ||
      !gst_element_query_duration (self->pipeline, GST_FORMAT_TIME, &duration) || duration <= 0)
    return -1;
  return duration / (double) GST_SECOND;
}

gboolean
bw_video_reader_seek (BwVideoReader  *self,
                      double          seconds,
                      GError        **error)
{
  if (!wait_prerolled (self, error))
    return FALSE;
  /* the frame read ahead is from before the seek */
  g_clear_pointer (&self->ahead, gst_sample_unref);
  g_clear_error (&self->ahead_error);
  self->have_frame = FALSE;
  /* ACCURATE: a scrubber shows the frame at the position asked for, not the keyframe before */
  if (!gst_element_seek_simple (self->pipeline, GST_FORMAT_TIME,
                                GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                (gint64) (MAX (seconds, 0) * GST_SECOND)))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                   _("Could not move to %.2f s in “%s”: it cannot be searched. Use a WebM, MP4 or "
                     "Ogg video."), seconds, self->display);
      return FALSE;
    }
  return TRUE;
}

BwImage *
bw_video_reader_get_frame_at (const char  *path,
                              int          longest_side,
                              double       seconds,
                              double      *duration,
                              GError     **error)
{
  g_autoptr(BwVideoReader) self = bw_video_reader_new (path, longest_side, error);
  double length;
  BwImage *frame;

  if (self == NULL)
    return NULL;
  /* a seek to the very end finds no frame: stay short of it */
  length = bw_video_reader_get_duration (self);
  if (length > 0)
    seconds = MIN (seconds, length * 0.999);
  if (duration)
    *duration = length;
  if (seconds > 0 && !bw_video_reader_seek (self, seconds, error))
    return NULL;
  frame = bw_video_reader_next (self, error);
  if (frame == NULL && error && *error == NULL)
    g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_DECODE,
                 _("“%s” has no picture at %.2f s. Choose a WebM, MP4 or Ogg video."),
                 self->display, seconds);
  return frame;
}

gboolean
bw_video_reader_has_audio (BwVideoReader  *self,
                           GError        **error)
{
  gboolean has_audio;

  g_mutex_lock (&self->audio_lock);
  has_audio = self->has_audio;
  if (!has_audio && self->audio_codec)
    g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_AUDIO,
                 _("The sound of “%s” (%s) cannot be decoded here; install the GStreamer plugin "
                   "for it (gstreamer1.0-libav decodes most) to keep it."), self->display,
                 self->audio_codec);
  g_mutex_unlock (&self->audio_lock);
  return has_audio;
}

void
bw_video_reader_get_rate (BwVideoReader *self,
                          int           *fps_n,
                          int           *fps_d)
{
  *fps_n = self->fps_n;
  *fps_d = self->fps_d;
}
