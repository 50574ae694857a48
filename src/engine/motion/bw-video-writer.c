/* bw-video-writer.c: appsrc ! videoconvert ! vp8enc ! webmmux ! filesink */
#include "bw-video-writer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <string.h>

#include "motion/bw-motion-error.h"

struct _BwVideoWriter {
  GObject parent_instance;

  GstElement *pipeline;
  GstElement *src;
  char *path;
  char *tmp_path;
  int width, height, fps_n, fps_d;
  guint n_frames;
  gboolean finished;
};

G_DEFINE_FINAL_TYPE (BwVideoWriter, bw_video_writer, G_TYPE_OBJECT)

static void
bw_video_writer_finalize (GObject *object)
{
  BwVideoWriter *self = BW_VIDEO_WRITER (object);

  if (self->pipeline)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      gst_object_unref (self->pipeline);
    }
  g_clear_object (&self->src);
  /* never finished: the partial file is of no use */
  if (!self->finished && self->tmp_path)
    g_unlink (self->tmp_path);
  g_free (self->path);
  g_free (self->tmp_path);
  G_OBJECT_CLASS (bw_video_writer_parent_class)->finalize (object);
}

static void
bw_video_writer_class_init (BwVideoWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_video_writer_finalize;
}

static void
bw_video_writer_init (BwVideoWriter *self)
{
}

/* Waits for the end of the stream or an error, whichever comes first. */
static gboolean
wait_for_eos (GstElement  *pipeline,
              const char  *display,
              GError     **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr(GstMessage) msg =
    gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      g_autoptr(GError) gst_error = NULL;
      gst_message_parse_error (msg, &gst_error, NULL);
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   "Could not encode “%s”: %s. Check that GStreamer's VP8 encoder is installed "
                   "(gstreamer1.0-plugins-good).", display, gst_error->message);
      return FALSE;
    }
  return TRUE;
}

BwVideoWriter *
bw_video_writer_new (const char  *path,
                     int          width,
                     int          height,
                     int          fps_n,
                     int          fps_d,
                     GError     **error)
{
  g_autoptr(BwVideoWriter) self = NULL;
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *lower = g_ascii_strdown (path, -1);
  g_autofree char *desc = NULL;
  g_autoptr(GError) parse_error = NULL;
  GstElement *sink;

  if (!g_str_has_suffix (lower, ".webm"))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_FORMAT,
                   "Brushwork writes videos as WebM; name “%s” with .webm at the end.", display);
      return NULL;
    }
  gst_init (NULL, NULL);
  self = g_object_new (BW_TYPE_VIDEO_WRITER, NULL);
  self->path = g_strdup (path);
  self->tmp_path = g_strdup_printf ("%s.part", path);
  self->width = MAX (2, width & ~1);
  self->height = MAX (2, height & ~1);
  self->fps_n = fps_n;
  self->fps_d = fps_d;

  /* deadline=1: realtime quality, fast enough not to slow the painting down */
  desc = g_strdup_printf ("appsrc name=src format=time block=true max-bytes=%d "
                          "caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=%d/%d ! "
                          "videoconvert ! vp8enc deadline=1 target-bitrate=4000000 ! webmmux ! "
                          "filesink name=sink",
                          self->width * self->height * 3 * 8, self->width, self->height, fps_n, fps_d);
  self->pipeline = gst_parse_launch (desc, &parse_error);
  if (self->pipeline == NULL || parse_error != NULL)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   "Could not set up the video encoder: %s. Install gstreamer1.0-plugins-good "
                   "and gstreamer1.0-plugins-base.", parse_error ? parse_error->message : "unknown error");
      return NULL;
    }
  gst_object_ref_sink (self->pipeline);
  self->src = gst_bin_get_by_name (GST_BIN (self->pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "sink");
  g_object_set (sink, "location", self->tmp_path, NULL);
  gst_object_unref (sink);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   "Could not start writing “%s”. Check that its folder exists and is writable.",
                   display);
      return NULL;
    }
  return g_steal_pointer (&self);
}

gboolean
bw_video_writer_add (BwVideoWriter  *self,
                     BwImage        *frame,
                     GError        **error)
{
  g_autoptr(BwImage) scaled = bw_image_scale (frame, self->width, self->height);
  g_autoptr(GBytes) rgb = bw_image_to_rgb8 (scaled);
  GstBuffer *buffer = gst_buffer_new_wrapped_bytes (rgb);
  GstClockTime duration = gst_util_uint64_scale (GST_SECOND, self->fps_d, self->fps_n);

  g_return_val_if_fail (!self->finished, FALSE);

  GST_BUFFER_PTS (buffer) = self->n_frames * duration;
  GST_BUFFER_DURATION (buffer) = duration;
  /* blocks while the encoder is behind: memory stays bounded */
  if (gst_app_src_push_buffer (GST_APP_SRC (self->src), buffer) != GST_FLOW_OK)
    {
      g_autofree char *display = g_filename_display_name (self->path);
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   "The video encoder stopped while writing “%s”. Check the free disk space.",
                   display);
      return FALSE;
    }
  self->n_frames++;
  return TRUE;
}

guint
bw_video_writer_get_n_frames (BwVideoWriter *self)
{
  return self->n_frames;
}

gboolean
bw_video_writer_finish (BwVideoWriter  *self,
                        GError        **error)
{
  g_autofree char *display = g_filename_display_name (self->path);

  g_return_val_if_fail (!self->finished, FALSE);

  gst_app_src_end_of_stream (GST_APP_SRC (self->src));
  if (!wait_for_eos (self->pipeline, display, error))
    return FALSE;
  gst_element_set_state (self->pipeline, GST_STATE_NULL);
  if (g_rename (self->tmp_path, self->path) != 0)
    {
      int saved = errno;
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   "Could not put “%s” in place: %s.", display, g_strerror (saved));
      return FALSE;
    }
  self->finished = TRUE;
  return TRUE;
}
G_DEFINE_QUARK (bw-motion-error-quark, bw_motion_error)
