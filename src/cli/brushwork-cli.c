/* brushwork-cli: stylise a photo from a terminal.
 *
 *   brushwork-cli --content C.jpg --style S.jpg[:WEIGHT] [--style S2.jpg:WEIGHT] --output out.png
 *
 * Exit codes: 0 done, 1 the work failed, 2 the command line is wrong, 130 stopped by Ctrl-C
 * (the image so far written).
 * Ctrl-C stops after the current step and writes the image so far; a second Ctrl-C quits.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "bw-engine.h"
#include "image/bw-mask.h"
#include "motion/bw-motion-error.h"
#include "motion/bw-video-job.h"
#include "motion/bw-video-reader.h"
#include "motion/bw-video-writer.h"
#include "session/bw-step-plan.h"
#include "weights/bw-weights-download.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t interrupted;
/* the video being written under its temporary name (bw_video_writer_dup_partial_path()),
 * removed by a second Ctrl-C: set before the handler is installed, only read in it */
static char partial_video[4096];

static void
on_sigint (int sig)
{
  if (interrupted)
    {
      /* a second Ctrl-C: quit now. Images are written atomically; a video cut off here
       * would not play, so its temporary file goes (unlink is async-signal-safe) */
      if (partial_video[0])
        unlink (partial_video);
      _exit (130);
    }
  interrupted = 1;
}

typedef struct {
  char *content;
  char **styles;
  char **masks;             /* per style: --mask after it, or NULL */
  char **style_masks;       /* per style: --style-mask after it, or NULL */
  char *output;
  char *size;
  char *max_memory;
  char *steps;
  char *preset;
  char *optimizer;
  char *lr;
  char *content_weight;
  char *style_weight;
  char *tv_weight;
  char *init;
  char *content_layers;
  char *style_layers;
  gint64 seed;
  gboolean preserve_colors;
  char *color_transfer;
  gboolean normalize_gram;
  double style_scale;
  int scales;
  int save_every;
  char *weights;
  char *weights_convention;
  char *device;
  int jpeg_quality;
  char *timelapse;
  char *make_manifest;
  int timelapse_fps;
  gboolean video_from_content;
  int frame_steps;
  gboolean quiet;
  gboolean verbose;
  gboolean version;
} Options;

static void
options_clear (Options *opts)
{
  g_free (opts->content);
  for (int i = 0; opts->masks && opts->styles && opts->styles[i]; i++)
    {
      g_free (opts->masks[i]);
      g_free (opts->style_masks[i]);
    }
  g_strfreev (opts->styles);
  g_free (opts->masks);
  g_free (opts->style_masks);
  g_free (opts->color_transfer);
  g_free (opts->output);
  g_free (opts->preset);
  g_free (opts->optimizer);
  g_free (opts->init);
  g_free (opts->content_layers);
  g_free (opts->style_layers);
  g_free (opts->weights);
  g_free (opts->weights_convention);
  g_free (opts->device);
  g_free (opts->timelapse);
  g_free (opts->make_manifest);
  g_free (opts->size);
  g_free (opts->max_memory);
  g_free (opts->steps);
  g_free (opts->lr);
  g_free (opts->content_weight);
  g_free (opts->style_weight);
  g_free (opts->tv_weight);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

typedef struct {
  const Options *opts;
  gint64 started;
  int total_steps;
  gboolean tty;
  GCancellable *cancellable;
  BwVideoWriter *timelapse;
  GError *timelapse_error;
  BwVideoJob *video;        /* with a video as content: the time left is the whole video's */
} Progress;

static G_GNUC_PRINTF (1, 2) int
usage_error (const char *format,
             ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("brushwork-cli: %s\nRun “brushwork-cli --help” for the options.\n", msg);
  return EXIT_USAGE;
}

/* Numbers are read here rather than by GOption, whose -1 and NaN could not be told from a
 * flag not given: every value typed is checked. */
static gboolean
parse_int (const char *flag,
           const char *text,
           int         min,
           int         max,
           int        *out)
{
  gint64 value;

  if (!g_ascii_string_to_signed (text, 10, min, max, &value, NULL))
    {
      if (max == G_MAXINT)
        usage_error ("%s must be a whole number of at least %d, not “%s”.", flag, min, text);
      else
        usage_error ("%s must be a whole number from %d to %d, not “%s”.", flag, min, max, text);
      return FALSE;
    }
  *out = (int) value;
  return TRUE;
}

static gboolean
parse_number (const char *flag,
              const char *text,
              gboolean    zero_allowed,
              double     *out)
{
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);

  if (end == text || *end != '\0' || !isfinite (value) || value < 0 || (value == 0 && !zero_allowed))
    {
      usage_error ("%s must be a number %s, not “%s”.", flag, zero_allowed ? "of 0 or more" : "above 0",
                   text);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

/* The same file as @output, which must not be overwritten by the result (a Ctrl-C would
 * leave a partial painting in place of the photo). Compares the files, not their names. */
static gboolean
same_file (const char *output,
           const char *input)
{
  GStatBuf a, b;

  return g_stat (output, &a) == 0 && g_stat (input, &b) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
failure (const GError *error)
{
  g_printerr ("brushwork-cli: %s\n", error->message);
  /* only Ctrl-C cancels what ends here (the weights' download): say so as a stopped painting does */
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : EXIT_FAILURE;
}

/* --style, --mask and --style-mask in the order given: a mask belongs to the --style before
 * it. GOption's callbacks of the main group get no data of their own, hence the static. */
static GPtrArray *style_args, *mask_args, *style_mask_args;
static char *mask_error;

static gboolean
on_style_arg (const char  *name,
              const char  *value,
              gpointer     data,
              GError     **error)
{
  if (style_args == NULL)
    {
      style_args = g_ptr_array_new ();
      mask_args = g_ptr_array_new ();
      style_mask_args = g_ptr_array_new ();
    }
  if (g_str_equal (name, "--style") || g_str_equal (name, "-s"))
    {
      g_ptr_array_add (style_args, g_strdup (value));
      g_ptr_array_add (mask_args, NULL);
      g_ptr_array_add (style_mask_args, NULL);
      return TRUE;
    }
  if (style_args->len == 0)
    {
      /* said after the parse, as the other mistakes of the command line are */
      if (mask_error == NULL)
        mask_error = g_strdup_printf ("%s “%s” must come after the --style it belongs to.", name, value);
      return TRUE;
    }
  {
    GPtrArray *list = g_str_equal (name, "--mask") ? mask_args : style_mask_args;
    char **slot = (char **) &g_ptr_array_index (list, list->len - 1);

    g_free (*slot);
    *slot = g_strdup (value);
  }
  return TRUE;
}

/* "file.jpg:0.5" -> file.jpg, 0.5; a colon not followed by a number is part of the name. */
static char *
split_style (const char *arg,
             double     *weight)
{
  const char *colon = strrchr (arg, ':');
  char *end = NULL;

  *weight = 1.0;
  if (colon && colon[1] != '\0')
    {
      double w = g_ascii_strtod (colon + 1, &end);
      if (end && *end == '\0')
        {
          *weight = w;
          return g_strndup (arg, colon - arg);
        }
    }
  return g_strdup (arg);
}

/* "relu1_1:1,relu2_1:0.75" into per-layer weights (a layer without ":W" gets 1). */
static gboolean
parse_layers (const char  *flag,
              const char  *spec,
              double       weights[BW_VGG19_N_CONVS])
{
  g_auto(GStrv) items = g_strsplit (spec, ",", -1);

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    weights[i] = 0;
  for (int i = 0; items[i]; i++)
    {
      double w;
      g_autofree char *name = split_style (g_strstrip (items[i]), &w);
      int index = bw_vgg19_layer_index (name);

      if (index < 0 || !(w >= 0) || !isfinite (w))
        {
          usage_error ("%s: “%s” is not LAYER[:WEIGHT] with a layer from relu1_1 to relu5_1 "
                       "and a weight of 0 or more.", flag, items[i]);
          return FALSE;
        }
      weights[index] = w;
    }
  return TRUE;
}

static void
on_download_progress (guint64  done,
                      guint64  total,
                      double   rate,
                      gpointer user_data)
{
  const Options *opts = ((Progress *) user_data)->opts;

  if (opts->quiet || !isatty (STDERR_FILENO))
    return;
  if (total > 0)
    g_printerr ("\rDownloading VGG19's weights: %3d%% of %.0f MB, %.1f MB/s ",
                (int) (100.0 * done / total), total / 1e6, rate / 1e6);
  else
    g_printerr ("\rDownloading VGG19's weights: %.0f MB, %.1f MB/s ", done / 1e6, rate / 1e6);
}

typedef struct {
  const char *dest;
  Progress *progress;
  GCancellable *cancellable;
  GMutex lock;
  GCond finished;
  gboolean done;
  gboolean ok;
  GError *error;
} Download;

static gpointer
download_thread (gpointer data)
{
  Download *d = data;
  GError *error = NULL;
  gboolean ok = bw_weights_download (NULL, NULL, d->dest, on_download_progress, d->progress,
                                     d->cancellable, &error);

  g_mutex_lock (&d->lock);
  d->ok = ok;
  d->error = error;
  d->done = TRUE;
  g_cond_signal (&d->finished);
  g_mutex_unlock (&d->lock);
  return NULL;
}

/* --weights, else BRUSHWORK_WEIGHTS, else the cache, fetched there on first use. */
static char *
find_weights (const Options  *opts,
              GError        **error)
{
  const char *env = g_getenv ("BRUSHWORK_WEIGHTS");
  g_autofree char *cached = bw_weights_default_path ();
  g_autoptr(GCancellable) cancellable = NULL;
  Progress progress = { opts };
  Download download = { cached, &progress };
  GThread *thread;
  gboolean ok;

  if (opts->weights)
    return g_strdup (opts->weights);
  if (env && *env)
    return g_strdup (env);
  if (g_file_test (cached, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&cached);

  if (!opts->quiet)
    g_printerr ("VGG19's weights are not here yet: downloading torchvision's vgg19-dcbb9e9d.pth "
                "(548 MB, once; only its 52 MB of conv layers are kept in %s).\n", cached);
  cancellable = g_cancellable_new ();
  download.cancellable = cancellable;
  g_mutex_init (&download.lock);
  g_cond_init (&download.finished);
  /* On a thread, so that this one turns Ctrl-C (a flag the handler sets) into a cancel within
   * 50 ms, whatever the download waits for: a server, the lock, a retry's back-off */
  thread = g_thread_new ("download", download_thread, &download);
  while (TRUE)
    {
      gboolean done;

      g_mutex_lock (&download.lock);
      if (!download.done)
        g_cond_wait_until (&download.finished, &download.lock,
                           g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND);
      done = download.done;
      g_mutex_unlock (&download.lock);
      if (done)
        break;
      if (interrupted)
        g_cancellable_cancel (cancellable);
    }
  g_thread_join (thread);
  g_mutex_clear (&download.lock);
  g_cond_clear (&download.finished);
  ok = download.ok;
  if (!ok)
    g_propagate_error (error, download.error);
  if (!opts->quiet && isatty (STDERR_FILENO))
    g_printerr ("\n");
  if (!ok)
    {
      if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (error);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "Download stopped; run again to resume it.");
        }
      return NULL;
    }
  return g_steal_pointer (&cached);
}

static gboolean
save_image (BwSession   *session,
            const char  *path,
            int          quality,
            GError     **error)
{
  /* at the size asked for, also while an early coarse-to-fine pass runs (Ctrl-C,
   * --save-every) */
  g_autoptr(BwImage) image = bw_session_get_output_image (session, error);

  return image && bw_image_save (image, path, quality, error);
}

/* The painting could not be written where asked (a full disk, a folder gone read-only):
 * it is written to the cache instead, so that minutes of painting are not lost, and the
 * message names both. */
static int
rescue (BwSession    *session,
        const char   *output,
        int           quality,
        const GError *error)
{
  g_autofree char *base = g_path_get_basename (output);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "brushwork", "rescued", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *name = g_strdup_printf ("%s-%s", stamp, base);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) rescue_error = NULL;

  g_printerr ("brushwork-cli: %s\n", error->message);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    g_set_error (&rescue_error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s",
                 g_strerror (errno));
  if (rescue_error == NULL && save_image (session, path, quality, &rescue_error))
    g_printerr ("The painting was kept in “%s”; copy it from there.\n", path);
  else
    g_printerr ("It could not be kept elsewhere either: %s\n", rescue_error->message);
  return EXIT_FAILURE;
}

static void
on_step (BwSession    *session,
         int           step,
         gpointer      values_ptr,
         Progress     *p)
{
  const BwLossValues *values = values_ptr;
  int done = step;
  double eta = p->video ? bw_video_job_get_seconds_left (p->video) : bw_session_get_seconds_left (session);
  g_autofree char *eta_s = bw_engine_format_duration (MAX (0, eta));

  if (p->opts->verbose)
    g_print ("step %d/%d loss %.6g content %.6g style %.6g\n", done, p->total_steps,
             values->total, values->content, values->style);
  else if (!p->opts->quiet)
    {
      if (p->tty)
        {
          const int width = 30;
          int filled = (int) ((double) done / p->total_steps * width);
          g_printerr ("\r[%.*s%*s] step %d/%d  loss %.4g  ETA %s ", filled,
                      "##############################", width - filled, "", done,
                      p->total_steps, values->total, eta_s);
        }
      else if (done % MAX (1, p->total_steps / 20) == 0 || done == p->total_steps)
        g_printerr ("step %d/%d loss %.6g, about %s left\n", done, p->total_steps,
                    values->total, eta_s);
    }

  if (p->opts->save_every > 0 && step % p->opts->save_every == 0)
    {
      g_autoptr(GError) error = NULL;
      /* --output was checked to end in an image extension */
      const char *ext = strrchr (p->opts->output, '.');
      g_autofree char *stem = g_strndup (p->opts->output, ext - p->opts->output);
      g_autofree char *path = g_strdup_printf ("%s-%04d%s", stem, step, ext);

      if (!save_image (session, path, p->opts->jpeg_quality, &error))
        g_printerr ("\nbrushwork-cli: %s\n", error->message);
    }
  if (p->timelapse && p->timelapse_error == NULL)
    {
      g_autoptr(BwImage) frame = bw_session_get_output_image (session, &p->timelapse_error);

      /* a failed timelapse stops the run: the user asked for it */
      if (frame == NULL || !bw_video_writer_add (p->timelapse, frame, &p->timelapse_error))
        g_cancellable_cancel (p->cancellable);
    }
  if (interrupted)
    g_cancellable_cancel (p->cancellable);
}

/* A device opened anew took over from a lost one: one line, and painting goes on. */
static void
on_device_lost (BwSession *session,
                int        losses,
                Progress  *p)
{
  if (!p->opts->quiet)
    g_printerr ("%sThe graphics device was lost; painting goes on from step %d on the device "
                "opened anew.\n", p->tty ? "\n" : "", bw_session_get_step (session));
}

/* The device ran out of memory and the step was planned again within less: one line. */
static void
on_replanned (BwSession *session,
              Progress  *p)
{
  if (!p->opts->quiet)
    g_printerr ("%sThe graphics device ran out of memory; painting goes on from step %d in "
                "less (%.0f MB).\n", p->tty ? "\n" : "", bw_session_get_step (session),
                bw_session_get_plan (session)->bytes / 1048576.0);
}

/* Loads the weights and opens the device. */
static BwEngine *
open_engine (const Options  *opts,
             GError        **error)
{
  g_autofree char *weights_path = find_weights (opts, error);
  g_autoptr(BwWeights) weights = NULL;
  BwEngine *engine;

  if (weights_path == NULL)
    return NULL;
  if (!g_file_test (weights_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "No VGG19 weights at “%s”. Pass torchvision's vgg19-dcbb9e9d.pth (or a "
                   ".safetensors of it) with --weights FILE, or set BRUSHWORK_WEIGHTS.",
                   weights_path);
      return NULL;
    }
  weights = bw_weights_load (weights_path, error);
  if (weights == NULL)
    return NULL;
  if (opts->weights_convention)
    {
      BwWeightsConvention convention;

      /* checked in main(): a wrong name is a usage error */
      if (bw_weights_convention_from_string (opts->weights_convention, &convention))
        bw_weights_set_convention (weights, convention);
    }
  if (!opts->quiet && bw_weights_get_convention (weights) == BW_WEIGHTS_CONVENTION_CAFFE)
    g_printerr ("The weights take Caffe's input (BGR, 0-255, mean pixel subtracted).\n");
  engine = bw_engine_new (opts->device, weights, error);
  if (engine && !opts->quiet)
    g_printerr ("Using %s\n", bw_engine_get_device_name (engine));
  return engine;
}

static gboolean
load_styles (const Options  *opts,
             GPtrArray      *styles,
             GArray         *blends,
             GError        **error)
{
  for (int i = 0; opts->styles[i]; i++)
    {
      double blend;
      g_autofree char *path = split_style (opts->styles[i], &blend);
      BwImage *image = bw_image_load (path, 0, error);

      if (image == NULL)
        return FALSE;
      g_ptr_array_add (styles, image);
      g_array_append_val (blends, blend);
    }
  return TRUE;
}

static void
unref_if_set (gpointer object)
{
  g_clear_object (&object);
}

/* Each style's two masks, in @masks as pairs (over the photo, over the painting; NULL for
 * none), each checked against the shape of the image it covers. */
static gboolean
load_masks (const Options  *opts,
            BwImage        *content,
            GPtrArray      *styles,
            GPtrArray      *masks,
            GError        **error)
{
  for (int i = 0; opts->styles[i]; i++)
    {
      BwImage *painting = g_ptr_array_index (styles, i);
      BwImage *mask = NULL, *style_mask = NULL;

      if (opts->masks[i] &&
          !(mask = bw_mask_load (opts->masks[i], bw_image_get_width (content),
                                 bw_image_get_height (content), error)))
        return FALSE;
      g_ptr_array_add (masks, mask);
      if (opts->style_masks[i] &&
          !(style_mask = bw_mask_load (opts->style_masks[i], bw_image_get_width (painting),
                                       bw_image_get_height (painting), error)))
        return FALSE;
      g_ptr_array_add (masks, style_mask);
    }
  return TRUE;
}

static int
finish_timelapse (Progress *progress)
{
  g_autoptr(GError) error = NULL;

  if (progress->timelapse == NULL)
    return EXIT_SUCCESS;
  if (progress->timelapse_error)
    return failure (progress->timelapse_error);
  if (!bw_video_writer_finish (progress->timelapse, &error))
    return failure (error);
  if (!progress->opts->quiet)
    g_printerr ("Wrote the timelapse “%s” (%u frames).\n", progress->opts->timelapse,
                bw_video_writer_get_n_frames (progress->timelapse));
  return EXIT_SUCCESS;
}

static int
run_image (const Options *opts,
           BwParams      *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) run_error = NULL;
  g_autoptr(BwEngine) engine = NULL;
  g_autoptr(BwSession) session = NULL;
  g_autoptr(BwImage) content = NULL;
  g_autoptr(BwImage) init_image = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) styles = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) blends = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GPtrArray) masks = g_ptr_array_new_with_free_func (unref_if_set);
  g_autoptr(BwVideoWriter) timelapse = NULL;
  Progress progress = { opts, 0, params->steps, isatty (STDERR_FILENO), cancellable, NULL, NULL, NULL };
  gboolean stopped;
  int status;

  /* Read every input before any slow work, so a wrong file name fails at once. */
  if (!load_styles (opts, styles, blends, &error))
    return failure (error);
  content = bw_image_load (opts->content, params->size, &error);
  if (content == NULL)
    return failure (error);
  if (!load_masks (opts, content, styles, masks, &error))
    {
      /* a mask that does not fit is a mistake on the command line */
      g_printerr ("brushwork-cli: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (params->init == BW_INIT_IMAGE && !(init_image = bw_image_load (opts->init, 0, &error)))
    return failure (error);
  if (opts->timelapse)
    {
      timelapse = bw_video_writer_new (opts->timelapse, bw_image_get_width (content),
                                       bw_image_get_height (content), opts->timelapse_fps, 1, &error);
      if (timelapse == NULL)
        return failure (error);
      progress.timelapse = timelapse;
    }
  engine = open_engine (opts, &error);
  if (engine == NULL)
    return failure (error);
  progress.started = g_get_monotonic_time ();

  /* coarse to fine, when params->scales asks for it, happens inside the session */
  session = bw_engine_new_session (engine, params);
  bw_session_set_content (session, content);
  for (guint i = 0; i < styles->len; i++)
    {
      bw_session_add_style (session, g_ptr_array_index (styles, i), g_array_index (blends, double, i));
      bw_session_set_style_masks (session, i, g_ptr_array_index (masks, 2 * i),
                                  g_ptr_array_index (masks, 2 * i + 1));
    }
  if (init_image)
    bw_session_set_init_image (session, init_image);
  if (!bw_session_start (session, &error))
    return failure (error);
  if (opts->verbose)
    {
      g_autofree char *plan = bw_step_plan_describe (bw_session_get_plan (session));
      g_printerr ("Memory plan%s: %s\n", bw_session_get_passes (session) > 1 ? " of the first pass" : "",
                  plan);
    }
  g_signal_connect (session, "step", G_CALLBACK (on_step), &progress);
  g_signal_connect (session, "device-lost", G_CALLBACK (on_device_lost), &progress);
  g_signal_connect (session, "replanned", G_CALLBACK (on_replanned), &progress);
  bw_session_run (session, cancellable, &run_error);
  if (progress.tty && !opts->quiet && !opts->verbose)
    g_printerr ("\n");
  if (progress.timelapse_error)
    return failure (progress.timelapse_error);
  stopped = g_error_matches (run_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (run_error && !stopped)
    {
      /* the session keeps the last good image when the numbers overflow, and a copy of the
       * last finished step's when the device is lost for good or out of memory: nothing is
       * lost */
      if ((g_error_matches (run_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ||
           g_error_matches (run_error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST) ||
           g_error_matches (run_error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY)) &&
          save_image (session, opts->output, opts->jpeg_quality, NULL))
        g_printerr ("brushwork-cli: %s\nThe image so far is in “%s”.\n", run_error->message,
                    opts->output);
      else
        return failure (run_error);
      return EXIT_FAILURE;
    }

  if (!save_image (session, opts->output, opts->jpeg_quality, &error))
    return rescue (session, opts->output, opts->jpeg_quality, error);
  status = finish_timelapse (&progress);
  if (status != EXIT_SUCCESS)
    return status;
  if (stopped)
    {
      g_printerr ("Stopped after step %d of %d; the image so far is in “%s”.\n",
                  bw_session_get_step (session), params->steps, opts->output);
      return 130;   /* the shell's code for "interrupted", so scripts can tell */
    }
  if (!opts->quiet)
    g_printerr ("Wrote “%s” (%d steps in %.1f s).\n", opts->output, bw_session_get_step (session),
                (g_get_monotonic_time () - progress.started) / 1e6);
  return EXIT_SUCCESS;
}

static void
on_video_step (BwVideoJob *job,
               BwSession  *session,
               int         step,
               gpointer    values,
               Progress   *progress)
{
  /* "step 3/10" counts the frame's steps, which may be fewer after the first */
  progress->total_steps = bw_video_job_get_steps (job);
  if (!g_object_get_data (G_OBJECT (session), "brushwork-cli-watched"))
    {
      /* each frame is a session of its own (a loss before its first step goes unsaid) */
      g_signal_connect (session, "device-lost", G_CALLBACK (on_device_lost), progress);
      g_signal_connect (session, "replanned", G_CALLBACK (on_replanned), progress);
      g_object_set_data (G_OBJECT (session), "brushwork-cli-watched", GINT_TO_POINTER (1));
    }
  on_step (session, step, values, progress);
}

static void
on_video_frame (BwVideoJob *job,
                int         index,
                BwImage    *image,
                Progress   *progress)
{
  int expected = bw_video_job_get_n_frames_expected (job);
  g_autofree char *left = bw_engine_format_duration (MAX (0, bw_video_job_get_seconds_left (job)));

  if (progress->opts->quiet)
    return;
  if (expected > 0)
    g_printerr ("frame %d of %d done, %.1f s per frame, about %s left\n", index + 1, expected,
                (g_get_monotonic_time () - progress->started) / 1e6 / (index + 1), left);
  else
    g_printerr ("frame %d done, %.1f s per frame\n", index + 1,
                (g_get_monotonic_time () - progress->started) / 1e6 / (index + 1));
}

/* A video as content: see BwVideoJob. After a Ctrl-C the frames so far are a whole file. */
static int
run_video (const Options *opts,
           BwParams      *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwEngine) engine = NULL;
  g_autoptr(BwVideoJob) job = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) styles = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) blends = g_array_new (FALSE, FALSE, sizeof (double));
  Progress progress = { opts, 0, params->steps, FALSE, cancellable, NULL, NULL, NULL };
  double flicker_in, flicker_out;
  gboolean stopped;

  /* every input read before the network is loaded, so a bad file fails at once */
  if (!load_styles (opts, styles, blends, &error))
    return failure (error);
  job = bw_video_job_new (params, opts->content, opts->output, &error);
  if (job == NULL)
    return failure (error);
  engine = open_engine (opts, &error);
  if (engine == NULL)
    return failure (error);
  for (guint i = 0; i < styles->len; i++)
    bw_video_job_add_style (job, g_ptr_array_index (styles, i), g_array_index (blends, double, i));
  bw_video_job_set_from_content (job, opts->video_from_content);
  bw_video_job_set_frame_steps (job, opts->frame_steps);
  progress.video = job;
  g_signal_connect (job, "step", G_CALLBACK (on_video_step), &progress);
  g_signal_connect (job, "frame", G_CALLBACK (on_video_frame), &progress);
  progress.started = g_get_monotonic_time ();
  stopped = !bw_video_job_run (job, engine, cancellable, &error) &&
            g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (bw_video_job_get_warning (job))
    g_printerr ("brushwork-cli: warning: %s\n", bw_video_job_get_warning (job));
  if (error && !stopped)
    return failure (error);
  if (bw_video_job_get_flicker (job, &flicker_in, &flicker_out))
    g_print ("flicker: output %.5f, input %.5f (mean absolute difference of consecutive frames)\n",
             flicker_out, flicker_in);
  if (stopped)
    {
      g_printerr ("Stopped after %d frames; they are in “%s”.\n", bw_video_job_get_n_frames (job),
                  opts->output);
      return 130;
    }
  if (!opts->quiet)
    g_printerr ("Wrote “%s” (%d frames, %s).\n", opts->output, bw_video_job_get_n_frames (job),
                bw_video_job_has_audio (job) ? "with the source's sound" : "no sound");
  return EXIT_SUCCESS;
}

int
main (int   argc,
      char *argv[])
{
  g_auto(Options) opts = {
    .seed = 0, .style_scale = 1.0, .scales = 0, .jpeg_quality = 92, .timelapse_fps = 30,
  };
  GOptionEntry entries[] = {
    { "content", 'c', 0, G_OPTION_ARG_FILENAME, &opts.content, "The photo to paint", "FILE" },
    { "style", 's', G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, on_style_arg, "A painting to take the style from, with an optional blend weight; repeat for several", "FILE[:WEIGHT]" },
    { "mask", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, on_style_arg, "Where on the photo the --style before it goes: a grey image of the photo's shape, white for this style", "FILE" },
    { "style-mask", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, on_style_arg, "Which part of the painting given by the --style before it to take the style from (white)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opts.output, "Where to write the result (.png or .jpg)", "FILE" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &opts.size, "Longest side of the output in pixels (default 512)", "N" },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &opts.max_memory, "Device memory a step may take, as 2G or 768M; larger sizes are painted in tiles (default: BRUSHWORK_MAX_MEMORY, else three quarters of the device's memory)", "SIZE" },
    { "steps", 0, 0, G_OPTION_ARG_STRING, &opts.steps, "Optimisation steps (seed preset: 2000, default preset: 200)", "N" },
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &opts.preset, "seed (the original recipe) or default", "NAME" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &opts.optimizer, "adam or lbfgs", "NAME" },
    { "lr", 0, 0, G_OPTION_ARG_STRING, &opts.lr, "Learning rate (Adam: 0.003 as the seed; L-BFGS: 1)", "RATE" },
    { "content-weight", 0, 0, G_OPTION_ARG_STRING, &opts.content_weight, "Weight of the content loss (alpha)", "W" },
    { "style-weight", 0, 0, G_OPTION_ARG_STRING, &opts.style_weight, "Weight of the style loss (beta)", "W" },
    { "tv-weight", 0, 0, G_OPTION_ARG_STRING, &opts.tv_weight, "Weight of total variation (smoothness)", "W" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &opts.init, "Starting image: content, noise or a file", "content|noise|FILE" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &opts.seed, "Random seed for --init noise", "N" },
    { "content-layers", 0, 0, G_OPTION_ARG_STRING, &opts.content_layers, "Content layers and their weights (default relu4_2:1)", "LAYER[:W],…" },
    { "style-layers", 0, 0, G_OPTION_ARG_STRING, &opts.style_layers, "Style layers and their weights (default relu1_1:1,relu2_1:0.75,relu3_1:0.2,relu4_1:0.2,relu5_1:0.2)", "LAYER[:W],…" },
    { "color-transfer", 0, 0, G_OPTION_ARG_STRING, &opts.color_transfer, "none; luminance: keep the photo's colours, take only the style's luminance; histogram: give the paintings the photo's colours before painting", "none|luminance|histogram" },
    { "preserve-colors", 0, 0, G_OPTION_ARG_NONE, &opts.preserve_colors, "The same as --color-transfer luminance", NULL },
    { "normalize-gram", 0, 0, G_OPTION_ARG_NONE, &opts.normalize_gram, "Divide Gram matrices by c·h·w, so the style weight means the same at every size (pick --style-weight anew: the seed's 1e6 becomes 1e6·c·h·w for each layer)", NULL },
    { "style-scale", 0, 0, G_OPTION_ARG_DOUBLE, &opts.style_scale, "Size of the style image relative to the output (default 1)", "F" },
    { "scales", 0, 0, G_OPTION_ARG_INT, &opts.scales, "Coarse-to-fine passes, each doubling the size (default: from 128 px up with the default preset, 1 with the seed preset)", "N" },
    { "save-every", 0, 0, G_OPTION_ARG_INT, &opts.save_every, "Also write the image every N steps (OUTPUT-STEP.png)", "N" },
    { "jpeg-quality", 0, 0, G_OPTION_ARG_INT, &opts.jpeg_quality, "JPEG quality 1-100 (default 92)", "Q" },
    { "timelapse", 0, 0, G_OPTION_ARG_FILENAME, &opts.timelapse, "Also record every step as a video (.webm, or an animated .webp or .gif)", "FILE" },
    { "timelapse-fps", 0, 0, G_OPTION_ARG_INT, &opts.timelapse_fps, "Frames per second of the timelapse (default 30)", "N" },
    { "frame-steps", 0, 0, G_OPTION_ARG_INT, &opts.frame_steps, "With a video as content: steps for each frame after the first, which starts from the previous result (default: --steps)", "N" },
    { "video-from-content", 0, 0, G_OPTION_ARG_NONE, &opts.video_from_content, "With a video as content: start each frame from the photo rather than the previous result (flickers more)", NULL },
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &opts.weights, "VGG19 weights (.pth or .safetensors)", "FILE" },
    { "weights-convention", 0, 0, G_OPTION_ARG_STRING, &opts.weights_convention, "The input the weights were trained on: torchvision (RGB, ImageNet mean and std) or caffe (BGR, 0-255, mean pixel); default: what a .safetensors file's metadata says, else torchvision", "NAME" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &opts.device, "Vulkan device: index or part of its name", "DEVICE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opts.quiet, "Print nothing but errors", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opts.verbose, "Print a line per step with the losses", NULL },
    { "make-weights-manifest", 0, 0, G_OPTION_ARG_FILENAME, &opts.make_manifest, "Print the byte range and SHA-256 of each conv tensor in a local weights file, as JSON, and exit", "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opts.version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— paint a photo in the style of a painting");
  g_autoptr(GError) error = NULL;
  BwParams params;
  gboolean video;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Example:\n  brushwork-cli --content photo.jpg --style starry_night.jpg --output painted.png\n\n"
    "Exit status: 0 done, 1 the work failed, 2 a wrong command line, 130 stopped by Ctrl-C.\n"
    "Ctrl-C stops after the current step and writes the image so far.\n");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s.", error->message);
  if (mask_error)
    return usage_error ("%s", mask_error);
  if (style_args)
    {
      g_ptr_array_add (style_args, NULL);
      opts.styles = (char **) g_ptr_array_free (style_args, FALSE);
      opts.masks = (char **) g_ptr_array_free (mask_args, FALSE);
      opts.style_masks = (char **) g_ptr_array_free (style_mask_args, FALSE);
    }
  if (opts.version)
    {
      g_print ("brushwork-cli %s\n", BRUSHWORK_VERSION);
      return EXIT_SUCCESS;
    }
  if (opts.make_manifest)
    {
      g_autofree char *json = bw_weights_make_manifest (opts.make_manifest, &error);
      if (json == NULL)
        return failure (error);
      g_print ("%s\n", json);
      return EXIT_SUCCESS;
    }
  if (argc > 1)
    return usage_error ("Unexpected argument “%s”; images are given with --content and --style.", argv[1]);
  if (opts.content == NULL)
    return usage_error ("No content image: give the photo with --content FILE.");
  if (opts.styles == NULL || opts.styles[0] == NULL)
    return usage_error ("No style image: give a painting with --style FILE.");
  if (opts.output == NULL)
    return usage_error ("No output file: say where to write the result with --output FILE.");
  if (opts.weights_convention)
    {
      BwWeightsConvention convention;

      if (!bw_weights_convention_from_string (opts.weights_convention, &convention))
        return usage_error ("Unknown --weights-convention “%s”: use torchvision or caffe.",
                            opts.weights_convention);
    }
  if (!bw_params_init_preset (&params, opts.preset ? opts.preset : "default"))
    return usage_error ("Unknown preset “%s”: use seed or default.", opts.preset);
  video = bw_video_reader_is_video (opts.content);
  {
    g_autofree char *lower = g_ascii_strdown (opts.output, -1);
    if (video && !g_str_has_suffix (lower, ".webm"))
      return usage_error ("“%s” is a video: --output must end in .webm.", opts.content);
    if (video && !bw_video_writer_check_format (opts.output, &error))
      return usage_error ("%s", error->message);
    if (!video && !g_str_has_suffix (lower, ".png") && !g_str_has_suffix (lower, ".jpg") &&
        !g_str_has_suffix (lower, ".jpeg"))
      return usage_error ("--output “%s” must end in .png, .jpg or .jpeg.", opts.output);
  }
  if (opts.timelapse)
    {
      if (video)
        return usage_error ("--timelapse records a still image's painting; with a video as content, the output is already a video.");
      /* .webm always; .webp and .gif where their encoders are installed */
      if (!bw_video_writer_check_format (opts.timelapse, &error))
        return usage_error ("--timelapse: %s", error->message);
    }
  for (int i = 0; video && opts.styles[i]; i++)
    if (opts.masks[i] || opts.style_masks[i])
      return usage_error ("--mask and --style-mask are for a photo; with a video as content, "
                          "give the styles without masks.");
  if (opts.timelapse_fps < 1 || opts.timelapse_fps > 120)
    return usage_error ("--timelapse-fps must be between 1 and 120.");
  if (same_file (opts.output, opts.content))
    return usage_error ("--output “%s” is the photo given with --content: choose another file "
                        "for the painting, so that the photo is kept.", opts.output);
  for (int i = 0; opts.styles[i]; i++)
    {
      double w;
      g_autofree char *path = split_style (opts.styles[i], &w);
      if (!(w > 0) || !isfinite (w))
        return usage_error ("The blend weight of --style “%s” must be a number above 0.", opts.styles[i]);
      if (same_file (opts.output, path))
        return usage_error ("--output “%s” is a painting given with --style: choose another "
                            "file for the result, so that the painting is kept.", opts.output);
    }

  if (opts.size && !parse_int ("--size", opts.size, 16, 8192, &params.size))
    return EXIT_USAGE;
  if (opts.max_memory && !bw_step_plan_parse_size (opts.max_memory, &params.max_memory))
    return usage_error ("--max-memory must be a size such as 2G or 768M, not “%s”.", opts.max_memory);
  if (opts.steps && !parse_int ("--steps", opts.steps, 1, G_MAXINT, &params.steps))
    return EXIT_USAGE;
  if (opts.optimizer)
    {
      if (g_str_equal (opts.optimizer, "adam"))
        params.optimizer = BW_OPTIMIZER_ADAM;
      else if (g_str_equal (opts.optimizer, "lbfgs"))
        params.optimizer = BW_OPTIMIZER_LBFGS;
      else
        return usage_error ("Unknown --optimizer “%s”: use adam or lbfgs.", opts.optimizer);
    }
  if (opts.optimizer)
    params.lr = params.optimizer == BW_OPTIMIZER_LBFGS ? 1.0 : 0.003;   /* torch's LBFGS; the seed's Adam */
  if ((opts.lr && !parse_number ("--lr", opts.lr, FALSE, &params.lr)) ||
      (opts.content_weight &&
       !parse_number ("--content-weight", opts.content_weight, TRUE, &params.content_weight)) ||
      (opts.style_weight &&
       !parse_number ("--style-weight", opts.style_weight, TRUE, &params.style_weight)) ||
      (opts.tv_weight && !parse_number ("--tv-weight", opts.tv_weight, TRUE, &params.tv_weight)))
    return EXIT_USAGE;
  if (opts.init == NULL || g_str_equal (opts.init, "content"))
    params.init = BW_INIT_CONTENT;
  else if (g_str_equal (opts.init, "noise"))
    params.init = BW_INIT_NOISE;
  else
    params.init = BW_INIT_IMAGE;
  params.seed = (guint64) opts.seed;
  if (opts.content_layers && !parse_layers ("--content-layers", opts.content_layers, params.content_layers))
    return EXIT_USAGE;
  if (opts.style_layers && !parse_layers ("--style-layers", opts.style_layers, params.style_layers))
    return EXIT_USAGE;
  params.preserve_colors = opts.preserve_colors;
  if (opts.color_transfer)
    {
      if (opts.preserve_colors && !g_str_equal (opts.color_transfer, "luminance"))
        return usage_error ("--preserve-colors is --color-transfer luminance: give one of them.");
      if (g_str_equal (opts.color_transfer, "luminance"))
        params.preserve_colors = TRUE;
      else if (g_str_equal (opts.color_transfer, "histogram"))
        params.transfer_histogram = TRUE;
      else if (!g_str_equal (opts.color_transfer, "none"))
        return usage_error ("Unknown --color-transfer “%s”: use none, luminance or histogram.",
                            opts.color_transfer);
    }
  if (opts.normalize_gram)
    params.gram_mode = BW_GRAM_NORMALISED;
  if (!(opts.style_scale > 0.05 && opts.style_scale <= 4))
    return usage_error ("--style-scale must be between 0.05 and 4.");
  params.style_scale = opts.style_scale;
  /* 0: the preset's (the default preset paints coarse to fine from ~128 px, the seed's
   * recipe is one pass) */
  if (opts.scales != 0)
    {
      if (opts.scales < 1 || opts.scales > BW_SESSION_MAX_PASSES || (params.size >> (opts.scales - 1)) < 16)
        return usage_error ("--scales must be between 1 and %d, and leave at least 16 pixels at the coarsest scale.",
                            BW_SESSION_MAX_PASSES);
      params.scales = opts.scales;
    }
  if (params.steps < params.scales)
    return usage_error ("--steps must be at least --scales.");
  if (opts.frame_steps < 0)
    return usage_error ("--frame-steps must be 1 or more.");
  if (opts.frame_steps > 0 && !video)
    return usage_error ("--frame-steps is for a video as --content.");
  if (opts.save_every < 0)
    return usage_error ("--save-every must be 0 or more.");
  if (opts.jpeg_quality < 1 || opts.jpeg_quality > 100)
    return usage_error ("--jpeg-quality must be between 1 and 100.");

  if (video || opts.timelapse)
    {
      g_autofree char *part = bw_video_writer_dup_partial_path (video ? opts.output : opts.timelapse);

      g_strlcpy (partial_video, part, sizeof partial_video);
    }
  signal (SIGINT, on_sigint);
  return video ? run_video (&opts, &params) : run_image (&opts, &params);
}
