/* bw-video-writer.c: frames in, a video file out.
 *
 *   .webm  appsrc ! videoconvert ! vp8enc ! webmmux ! filesink
 *          and, with sound, filesrc ! decodebin ! audioconvert ! audioresample ! queue
 *                                   ! opusenc ! webmmux
 *   .gif   appsrc ! videoconvert ! gifenc ! filesink           (gifenc: gst-plugins-rs)
 *   .webp  BwWebpEncoder (libwebpmux)
 *
 * The sound is decoded a second time from its file, in the same pipeline as the frames,
 * rather than split off the reader's decoding: the muxer takes its inputs in time order and
 * blocks the one that runs ahead, so the sound waits in bounded queues (the audio queue's
 * second, decodebin's multiqueue) for frames that take minutes each, and nothing of it is
 * held in our own memory. A probe before the Opus encoder ends the sound where the video
 * ends, which matters when a run is stopped early.
 */
#include "bw-video-writer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <string.h>

#include "motion/bw-motion-error.h"
#ifdef BW_HAVE_WEBP
#include "motion/bw-webp-encoder.h"
#endif
#include "bw-i18n.h"

typedef enum {
  FORMAT_UNKNOWN,
  FORMAT_WEBM,
  FORMAT_GIF,
  FORMAT_WEBP,
} Format;

struct _BwVideoWriter {
  GObject parent_instance;

  Format format;
  GstElement *pipeline;       /* WebM, GIF */
  GstElement *src;
  GstBus *bus;
  gsize max_bytes;            /* frames the encoder may have waiting */
  GError *pipeline_error;     /* the first error the pipeline posted */
#ifdef BW_HAVE_WEBP
  BwWebpEncoder *webp;
#endif
  char *path;
  char *tmp_path;
  char *display;
  int width, height, fps_n, fps_d;
  guint n_frames;
  GstClockTime end_time;      /* where the last frame written ends */
  gboolean finished;

  /* sound: the probe at the Opus encoder's input runs on a streaming thread */
  gboolean has_audio;
  GstElement *audio_in;       /* audioconvert, linked to decodebin's first audio pad */
  GMutex audio_lock;
  GstClockTime audio_end;     /* running time where the sound stops: the video's end, once
                                 known (GST_CLOCK_TIME_NONE before) */
  GstSegment audio_segment;
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
  g_clear_object (&self->bus);
  g_clear_object (&self->audio_in);
  g_clear_error (&self->pipeline_error);
#ifdef BW_HAVE_WEBP
  g_clear_pointer (&self->webp, bw_webp_encoder_free);
#endif
  /* never finished: the partial file is of no use */
  if (!self->finished && self->tmp_path)
    g_unlink (self->tmp_path);
  g_free (self->path);
  g_free (self->tmp_path);
  g_free (self->display);
  g_mutex_clear (&self->audio_lock);
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
  g_mutex_init (&self->audio_lock);
  self->audio_end = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->audio_segment, GST_FORMAT_TIME);
}

static Format
format_of (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".webm"))
    return FORMAT_WEBM;
  if (g_str_has_suffix (lower, ".gif"))
    return FORMAT_GIF;
  if (g_str_has_suffix (lower, ".webp"))
    return FORMAT_WEBP;
  return FORMAT_UNKNOWN;
}

/* TRUE when GStreamer has every element named in the NULL-terminated list. */
static gboolean
have_elements (const char *first,
               ...)
{
  va_list args;
  gboolean all = TRUE;

  gst_init (NULL, NULL);
  va_start (args, first);
  for (const char *name = first; name && all; name = va_arg (args, const char *))
    {
      GstElementFactory *factory = gst_element_factory_find (name);
      all = factory != NULL;
      g_clear_object (&factory);
    }
  va_end (args);
  return all;
}

char *
bw_video_writer_dup_partial_path (const char *path)
{
  return g_strconcat (path, ".part", NULL);
}

gboolean
bw_video_writer_check_format (const char  *path,
                              GError     **error)
{
  g_autofree char *display = g_filename_display_name (path);

  switch (format_of (path))
    {
    case FORMAT_WEBM:
      if (have_elements ("appsrc", "videoconvert", "vp8enc", "webmmux", "filesink", NULL))
        return TRUE;
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   _("Writing WebM needs GStreamer's VP8 encoder and WebM muxer; install "
                     "gstreamer1.0-plugins-good."));
      return FALSE;
    case FORMAT_GIF:
      if (have_elements ("appsrc", "videoconvert", "gifenc", "filesink", NULL))
        return TRUE;
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   _("Writing GIF needs GStreamer's gifenc from gst-plugins-rs, which Debian 12 "
                     "does not package; write .webm%s instead."),
#ifdef BW_HAVE_WEBP
                   " or .webp"
#else
                   ""
#endif
                   );
      return FALSE;
    case FORMAT_WEBP:
#ifdef BW_HAVE_WEBP
      return TRUE;
#else
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   _("This Brushwork was built without libwebp-dev, so it cannot write animated "
                     "WebP; install libwebp-dev and build again, or write .webm instead."));
      return FALSE;
#endif
    case FORMAT_UNKNOWN:
    default:
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_FORMAT,
                   _("Brushwork writes videos as WebM, animated WebP or GIF; name “%s” with "
                     ".webm, .webp or .gif at the end."), display);
      return FALSE;
    }
}

/* The pipeline's error as a sentence. */
static void
set_pipeline_error (BwVideoWriter  *self,
                    GstMessage     *msg)
{
  g_autoptr(GError) gst_error = NULL;
  g_autofree char *debug = NULL;

  if (self->pipeline_error)
    return;
  gst_message_parse_error (msg, &gst_error, &debug);
  g_debug ("%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), debug);
  g_set_error (&self->pipeline_error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
               _("Could not write “%s”: %s."), self->display, gst_error->message);
}

/* Takes an error from the bus, waiting up to @timeout for one; FALSE if there is one. Other
 * messages on the way are dropped: only for use before the end of the stream. */
static gboolean
check_bus (BwVideoWriter  *self,
           GstClockTime    timeout,
           GError        **error)
{
  g_autoptr(GstMessage) msg = gst_bus_timed_pop_filtered (self->bus, timeout, GST_MESSAGE_ERROR);

  if (msg)
    set_pipeline_error (self, msg);
  if (self->pipeline_error)
    {
      g_propagate_error (error, g_error_copy (self->pipeline_error));
      return FALSE;
    }
  return TRUE;
}

/* Before the Opus encoder: ends the sound at audio_end. */
static GstPadProbeReturn
cut_audio (GstPad          *pad,
           GstPadProbeInfo *info,
           gpointer         user_data)
{
  BwVideoWriter *self = user_data;
  GstClockTime pts, end;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
    {
      GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
      if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT)
        {
          g_mutex_lock (&self->audio_lock);
          gst_event_copy_segment (event, &self->audio_segment);
          g_mutex_unlock (&self->audio_lock);
        }
      return GST_PAD_PROBE_OK;
    }
  pts = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
  g_mutex_lock (&self->audio_lock);
  end = self->audio_end;
  if (GST_CLOCK_TIME_IS_VALID (pts))
    pts = gst_segment_to_running_time (&self->audio_segment, GST_FORMAT_TIME, pts);
  g_mutex_unlock (&self->audio_lock);
  if (!GST_CLOCK_TIME_IS_VALID (end) || !GST_CLOCK_TIME_IS_VALID (pts) || pts < end)
    return GST_PAD_PROBE_OK;
  /* after EOS the pad refuses further buffers, which stops the decoding upstream */
  gst_pad_send_event (pad, gst_event_new_eos ());
  return GST_PAD_PROBE_DROP;
}

/* decodebin's pads: the first audio one feeds the encoder; the frames are not wanted (left
 * unlinked, the demuxer stops with the sound). */
static void
on_pad_added (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  BwVideoWriter *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_query_caps (pad, NULL);
  g_autoptr(GstPad) sink = gst_element_get_static_pad (self->audio_in, "sink");

  if (gst_caps_get_size (caps) > 0 &&
      g_str_equal (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/x-raw") &&
      !gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
}

/* No sound came out after all: end the muxer's audio input, or it waits for it forever. */
static void
on_no_more_pads (GstElement *decodebin,
                 gpointer    user_data)
{
  BwVideoWriter *self = user_data;
  g_autoptr(GstPad) sink = gst_element_get_static_pad (self->audio_in, "sink");

  if (!gst_pad_is_linked (sink))
    gst_pad_send_event (sink, gst_event_new_eos ());
}

/* The sound of @audio_from into the muxer, before the pipeline starts. */
static gboolean
add_audio (BwVideoWriter  *self,
           const char     *audio_from,
           GError        **error)
{
  g_autoptr(GstElement) mux = gst_bin_get_by_name (GST_BIN (self->pipeline), "mux");
  g_autoptr(GstPad) encoder_sink = NULL;
  GstElement *filesrc, *decodebin, *resample, *queue, *encoder;

  if (!have_elements ("filesrc", "decodebin", "audioconvert", "audioresample", "queue", "opusenc", NULL))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_AUDIO,
                   _("Carrying the sound over needs GStreamer's Opus encoder; install "
                     "gstreamer1.0-plugins-base."));
      return FALSE;
    }
  filesrc = gst_element_factory_make ("filesrc", NULL);
  decodebin = gst_element_factory_make ("decodebin", NULL);
  self->audio_in = gst_object_ref (gst_element_factory_make ("audioconvert", NULL));
  resample = gst_element_factory_make ("audioresample", NULL);
  queue = gst_element_factory_make ("queue", NULL);
  encoder = gst_element_factory_make ("opusenc", NULL);
  g_object_set (filesrc, "location", audio_from, NULL);
  g_object_set (encoder, "bitrate", 128000, NULL);
  gst_bin_add_many (GST_BIN (self->pipeline), filesrc, decodebin, self->audio_in, resample,
                    queue, encoder, NULL);
  if (!gst_element_link (filesrc, decodebin) ||
      !gst_element_link_many (self->audio_in, resample, queue, encoder, mux, NULL))
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_AUDIO,
                   _("Could not connect the sound of the source to the WebM muxer; check that "
                     "gstreamer1.0-plugins-base and gstreamer1.0-plugins-good are complete."));
      return FALSE;
    }
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_pad_added), self);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (on_no_more_pads), self);
  encoder_sink = gst_element_get_static_pad (encoder, "sink");
  gst_pad_add_probe (encoder_sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                     cut_audio, self, NULL);
  self->has_audio = TRUE;
  return TRUE;
}

static BwVideoWriter *
writer_new (const char  *path,
            int          width,
            int          height,
            int          fps_n,
            int          fps_d,
            const char  *audio_from,
            GError     **error)
{
  g_autoptr(BwVideoWriter) self = NULL;
  g_autofree char *desc = NULL;
  g_autoptr(GError) parse_error = NULL;
  GstElement *sink;

  if (!bw_video_writer_check_format (path, error))
    return NULL;
  gst_init (NULL, NULL);
  self = g_object_new (BW_TYPE_VIDEO_WRITER, NULL);
  self->format = format_of (path);
  self->path = g_strdup (path);
  self->tmp_path = bw_video_writer_dup_partial_path (path);
  self->display = g_filename_display_name (path);
  self->width = MAX (2, width & ~1);
  self->height = MAX (2, height & ~1);
  self->fps_n = fps_n;
  self->fps_d = fps_d;
  if (audio_from && self->format != FORMAT_WEBM)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_FORMAT,
                   _("Only WebM videos can carry sound; name “%s” with .webm at the end."),
                   self->display);
      return NULL;
    }

  if (self->format == FORMAT_WEBP)
    {
#ifdef BW_HAVE_WEBP
      /* the file is written at the end: check now that it can be */
      if (!g_file_set_contents (self->tmp_path, "", 0, error))
        return NULL;
      g_unlink (self->tmp_path);
      self->webp = bw_webp_encoder_new (self->width, self->height, error);
      return self->webp ? g_steal_pointer (&self) : NULL;
#else
      g_assert_not_reached ();
#endif
    }

  /* up to eight frames waiting for the encoder */
  self->max_bytes = (gsize) self->width * self->height * 3 * 8;
  /* deadline=1: realtime quality, fast enough not to slow the painting down */
  desc = g_strdup_printf ("appsrc name=src format=time "
                          "caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=%d/%d ! "
                          "videoconvert ! %s ! filesink name=sink",
                          self->width, self->height, fps_n, fps_d,
                          self->format == FORMAT_GIF ? "gifenc"
                                                     : "vp8enc deadline=1 target-bitrate=4000000 "
                                                       "! webmmux name=mux");
  self->pipeline = gst_parse_launch (desc, &parse_error);
  if (self->pipeline == NULL || parse_error != NULL)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_MISSING_PLUGIN,
                   _("Could not set up the video encoder: %s. Install gstreamer1.0-plugins-good "
                     "and gstreamer1.0-plugins-base."), parse_error ? parse_error->message : "unknown error");
      return NULL;
    }
  gst_object_ref_sink (self->pipeline);
  self->bus = gst_element_get_bus (self->pipeline);
  self->src = gst_bin_get_by_name (GST_BIN (self->pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "sink");
  g_object_set (sink, "location", self->tmp_path, NULL);
  gst_object_unref (sink);
  if (audio_from && !add_audio (self, audio_from, error))
    return NULL;
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_autoptr(GError) bus_error = NULL;
      if (!check_bus (self, 0, &bus_error))
        g_debug ("%s", bus_error->message);
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("Could not start writing “%s”. Check that its folder exists and is writable."),
                   self->display);
      return NULL;
    }
  return g_steal_pointer (&self);
}

BwVideoWriter *
bw_video_writer_new (const char  *path,
                     int          width,
                     int          height,
                     int          fps_n,
                     int          fps_d,
                     GError     **error)
{
  return writer_new (path, width, height, fps_n, fps_d, NULL, error);
}

BwVideoWriter *
bw_video_writer_new_with_audio (const char  *path,
                                int          width,
                                int          height,
                                int          fps_n,
                                int          fps_d,
                                const char  *audio_from,
                                GError     **error)
{
  g_return_val_if_fail (audio_from != NULL, NULL);

  return writer_new (path, width, height, fps_n, fps_d, audio_from, error);
}

static GstClockTime
frame_time (BwVideoWriter *self,
            guint          n)
{
  return gst_util_uint64_scale ((guint64) n * GST_SECOND, self->fps_d, self->fps_n);
}

gboolean
bw_video_writer_add (BwVideoWriter  *self,
                     BwImage        *frame,
                     GError        **error)
{
  GstClockTime start;

  g_return_val_if_fail (self->fps_n > 0, FALSE);

  start = frame_time (self, self->n_frames);
  return bw_video_writer_add_timed (self, frame, start,
                                    frame_time (self, self->n_frames + 1) - start, error);
}

gboolean
bw_video_writer_add_timed (BwVideoWriter  *self,
                           BwImage        *frame,
                           gint64          start,
                           gint64          duration,
                           GError        **error)
{
  g_autoptr(BwImage) scaled = NULL;
  g_autoptr(GBytes) rgb = NULL;
  GstBuffer *buffer;

  g_return_val_if_fail (!self->finished, FALSE);
  g_return_val_if_fail (start >= 0 && duration > 0, FALSE);

  scaled = bw_image_scale (frame, self->width, self->height);
  rgb = bw_image_to_rgb8 (scaled);
#ifdef BW_HAVE_WEBP
  if (self->webp)
    {
      int ms = (int) (start / GST_MSECOND);
      if (!bw_webp_encoder_add (self->webp, g_bytes_get_data (rgb, NULL), ms, error))
        return FALSE;
      self->n_frames++;
      self->end_time = MAX (self->end_time, (GstClockTime) (start + duration));
      return TRUE;
    }
#endif
  /* wait while the encoder is behind, so memory stays bounded; an error on the way (a full
   * disk, a broken sound track) ends the wait */
  while (gst_app_src_get_current_level_bytes (GST_APP_SRC (self->src)) >= self->max_bytes)
    if (!check_bus (self, 20 * GST_MSECOND, error))
      return FALSE;
  if (!check_bus (self, 0, error))
    return FALSE;
  buffer = gst_buffer_new_wrapped_bytes (rgb);
  GST_BUFFER_PTS (buffer) = start;
  GST_BUFFER_DURATION (buffer) = duration;
  if (gst_app_src_push_buffer (GST_APP_SRC (self->src), buffer) != GST_FLOW_OK)
    {
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("The video encoder stopped while writing “%s”. Check the free disk space."),
                   self->display);
      return FALSE;
    }
  self->n_frames++;
  self->end_time = MAX (self->end_time, (GstClockTime) (start + duration));
  return TRUE;
}

guint
bw_video_writer_get_n_frames (BwVideoWriter *self)
{
  return self->n_frames;
}

gboolean
bw_video_writer_has_audio (BwVideoWriter *self)
{
  return self->has_audio;
}

/* Waits for the end of the stream or an error, whichever comes first. */
static gboolean
wait_for_eos (BwVideoWriter  *self,
              GError        **error)
{
  g_autoptr(GstMessage) msg = NULL;

  /* an error already taken from the bus by bw_video_writer_add(); not check_bus(), whose
   * filtered pop would throw away an EOS that came already */
  if (self->pipeline_error)
    {
      g_propagate_error (error, g_error_copy (self->pipeline_error));
      return FALSE;
    }
  msg = gst_bus_timed_pop_filtered (self->bus, GST_CLOCK_TIME_NONE,
                                    GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      set_pipeline_error (self, msg);
      g_propagate_error (error, g_error_copy (self->pipeline_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
bw_video_writer_finish (BwVideoWriter  *self,
                        GError        **error)
{
  g_return_val_if_fail (!self->finished, FALSE);

#ifdef BW_HAVE_WEBP
  if (self->webp)
    {
      int end_ms = (int) (self->end_time / GST_MSECOND);
      g_autoptr(GBytes) data = bw_webp_encoder_finish (self->webp, end_ms, error);
      gsize size;
      const char *bytes;

      if (data == NULL)
        return FALSE;
      bytes = g_bytes_get_data (data, &size);
      /* written to a temporary file and renamed: the file is whole or absent */
      if (!g_file_set_contents (self->path, bytes, size, error))
        return FALSE;
      self->finished = TRUE;
      return TRUE;
    }
#endif
  /* the sound stops where the frames do */
  g_mutex_lock (&self->audio_lock);
  self->audio_end = self->end_time;
  g_mutex_unlock (&self->audio_lock);
  gst_app_src_end_of_stream (GST_APP_SRC (self->src));
  if (!wait_for_eos (self, error))
    return FALSE;
  gst_element_set_state (self->pipeline, GST_STATE_NULL);
  if (g_rename (self->tmp_path, self->path) != 0)
    {
      int saved = errno;
      g_set_error (error, BW_MOTION_ERROR, BW_MOTION_ERROR_ENCODE,
                   _("Could not put “%s” in place: %s."), self->display, g_strerror (saved));
      return FALSE;
    }
  self->finished = TRUE;
  return TRUE;
}

G_DEFINE_QUARK (bw-motion-error-quark, bw_motion_error)
