/* bw-window.c: the main window: photo and styles on the left, the painting on the right.
 *
 * The window holds the choices and hands them to the worker as messages; it learns about
 * the painting only from the worker's signals, so it never waits on the engine.
 */
#include <math.h>
#include <glib/gi18n.h>

#include "bw-engine.h"
#include "bw-export-dialog.h"
#include "bw-image-pane.h"
#include "bw-loss-plot.h"
#include "bw-style-row.h"
#include "bw-texture.h"
#include "bw-weights-dialog.h"
#include "bw-window.h"
#include "weights/bw-weights-download.h"

/* Thumbnails: the photo's is also what the compare button shows, so it is larger. */
#define CONTENT_TEXTURE_SIZE 1024
#define STYLE_TEXTURE_SIZE 256
#define JPEG_QUALITY 92

struct _BwWindow
{
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  GtkButton *run_button;
  BwImagePane *content_pane;
  GtkWidget *video_box;
  GtkAdjustment *position_adjustment;
  GtkLabel *position_label;
  BwImagePane *style_pane;
  GtkListBox *style_list;
  GtkAdjustment *style_adjustment;
  GtkAdjustment *content_adjustment;
  GtkAdjustment *tv_adjustment;
  GtkAdjustment *size_adjustment;
  GtkAdjustment *steps_adjustment;
  GtkSwitch *colors_switch;
  AdwComboRow *preset_row;
  AdwComboRow *optimizer_row;
  GtkStack *preview_stack;
  BwPreview *preview;
  GtkProgressBar *progress_bar;
  BwLossPlot *loss_plot;

  GSettings *settings;
  BwWorker *worker;
  GCancellable *cancellable;
  GFile *content_file;
  gboolean content_is_video;
  double content_duration;     /* of a video; -1 when unknown */
  GFile *video_output;         /* the video being painted, while it is */
  gboolean frame_loading;      /* the scrubber's frame: one read at a time, the latest wins */
  gboolean frame_wanted;
  char *weights_path;
  GtkFileChooserNative *chooser;

  guint restart_source;
  guint pulse_source;
  int pending_loads;
  gboolean start_when_loaded;
  gboolean unsaved;
  gboolean close_after_save;
  gboolean applying_preset;
};

G_DEFINE_FINAL_TYPE (BwWindow, bw_window, ADW_TYPE_APPLICATION_WINDOW)

static void bw_window_run_start (BwWindow *self);

static void
show_toast (BwWindow   *self,
            const char *message)
{
  AdwToast *toast;

  /* messages are sentences that may quote file names, not markup (libadwaita 1.2 has no
   * adw_toast_set_use_markup) */
  {
    g_autofree char *escaped = g_markup_escape_text (message, -1);
    toast = adw_toast_new (escaped);
  }
  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static gboolean
is_busy (BwWindow *self)
{
  return bw_worker_get_state (self->worker) != BW_WORKER_IDLE;
}

static guint
count_styles (BwWindow *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->style_list));
       child; child = gtk_widget_get_next_sibling (child))
    n += BW_IS_STYLE_ROW (child);
  return n;
}

static void
update_actions (BwWindow *self)
{
  BwWorkerState state = bw_worker_get_state (self->worker);
  BwFrameRecorder *recording = bw_worker_get_recording (self->worker);
  gboolean ready = self->content_file != NULL && count_styles (self) > 0;
  GAction *action;

  action = g_action_map_lookup_action (G_ACTION_MAP (self), "start");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), ready && state == BW_WORKER_IDLE);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "pause");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), state == BW_WORKER_RUNNING || state == BW_WORKER_PREPARING);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "resume");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), state == BW_WORKER_PAUSED);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "stop");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), state != BW_WORKER_IDLE);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "save");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), bw_worker_get_image (self->worker) != NULL);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "paint-video");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               ready && self->content_is_video && state == BW_WORKER_IDLE);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "export-animation");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               recording && bw_frame_recorder_get_n_frames (recording) >= 2);

  /* one button that does the next obvious thing */
  switch (state)
    {
    case BW_WORKER_IDLE:
      gtk_button_set_label (self->run_button, _("_Paint"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->run_button), "win.start");
      break;
    case BW_WORKER_PREPARING:
    case BW_WORKER_RUNNING:
      gtk_button_set_label (self->run_button, _("_Pause"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->run_button), "win.pause");
      break;
    case BW_WORKER_PAUSED:
      gtk_button_set_label (self->run_button, _("_Resume"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->run_button), "win.resume");
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Builds the parameters from the controls. */
static void
get_params (BwWindow *self,
            BwParams *params)
{
  gboolean seed = adw_combo_row_get_selected (self->preset_row) == 1;
  gboolean adam = adw_combo_row_get_selected (self->optimizer_row) == 1;
  double tv = gtk_adjustment_get_value (self->tv_adjustment);

  bw_params_init_preset (params, seed ? "seed" : "default");
  params->size = (int) gtk_adjustment_get_value (self->size_adjustment);
  params->steps = (int) gtk_adjustment_get_value (self->steps_adjustment);
  params->style_weight = pow (10, gtk_adjustment_get_value (self->style_adjustment));
  params->content_weight = pow (10, gtk_adjustment_get_value (self->content_adjustment));
  /* the slider's left end is "off": total variation has no natural zero on a log scale */
  params->tv_weight = tv < 0.05 ? 0 : pow (10, tv - 1);
  params->optimizer = adam ? BW_OPTIMIZER_ADAM : BW_OPTIMIZER_LBFGS;
  /* torch's LBFGS step, and the seed's Adam rate */
  params->lr = adam ? 0.003 : 1.0;
  params->preserve_colors = gtk_switch_get_active (self->colors_switch);
}

static void
send_weights (BwWindow *self)
{
  BwParams params;

  if (!is_busy (self))
    return;
  get_params (self, &params);
  bw_worker_set_weights (self->worker, params.content_weight, params.style_weight,
                         params.tv_weight);
}

static void
on_steps_changed (BwWindow *self)
{
  if (is_busy (self))
    bw_worker_set_n_steps (self->worker, (int) gtk_adjustment_get_value (self->steps_adjustment));
}

static gboolean
restart_now (gpointer data)
{
  BwWindow *self = data;

  self->restart_source = 0;
  if (is_busy (self))
    bw_window_run_start (self);
  return G_SOURCE_REMOVE;
}

/* A change the running session cannot take (size, optimiser, images) starts it again;
 * spin buttons change in bursts, so wait until they settle. */
static void
queue_restart (BwWindow *self)
{
  if (!is_busy (self))
    return;
  g_clear_handle_id (&self->restart_source, g_source_remove);
  self->restart_source = g_timeout_add (400, restart_now, self);
}

static void
on_preset_changed (BwWindow *self)
{
  BwParams params;

  if (self->applying_preset)
    return;
  bw_params_init_preset (&params, adw_combo_row_get_selected (self->preset_row) == 1 ? "seed" : "default");
  /* a preset is a starting point: set every control it covers, the user may then adjust */
  self->applying_preset = TRUE;
  gtk_adjustment_set_value (self->style_adjustment, log10 (params.style_weight));
  gtk_adjustment_set_value (self->content_adjustment, log10 (params.content_weight));
  gtk_adjustment_set_value (self->tv_adjustment, 0);
  gtk_adjustment_set_value (self->steps_adjustment, params.steps);
  adw_combo_row_set_selected (self->optimizer_row, params.optimizer == BW_OPTIMIZER_ADAM ? 1 : 0);
  self->applying_preset = FALSE;
  queue_restart (self);
}

static void
load_finished (BwWindow *self)
{
  self->pending_loads--;
  if (self->pending_loads == 0 && self->start_when_loaded)
    {
      self->start_when_loaded = FALSE;
      bw_window_start (self);
    }
}

/* What a load was for, carried to its callback. */
typedef struct {
  BwWindow *window;
  GFile *file;
  gboolean as_content;
} Load;

static void
load_free (Load *load)
{
  g_object_unref (load->window);
  g_clear_object (&load->file);
  g_free (load);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Load, load_free)

static Load *
load_new (BwWindow *self,
          GFile    *file,
          gboolean  as_content)
{
  Load *load = g_new0 (Load, 1);

  load->window = g_object_ref (self);
  load->file = file ? g_object_ref (file) : NULL;
  load->as_content = as_content;
  self->pending_loads++;
  return load;
}

static void
show_content_frame (BwWindow   *self,
                    GdkTexture *texture)
{
  bw_image_pane_set_texture (self->content_pane, texture);
  bw_preview_set_original (self->preview, texture);
}

/* @duration: 0 for a photo; a video's length (-1 when unknown) */
static void
set_content (BwWindow   *self,
             GFile      *file,
             GdkTexture *texture,
             double      duration)
{
  g_set_object (&self->content_file, file);
  self->content_is_video = duration != 0;
  self->content_duration = duration;
  show_content_frame (self, texture);
  /* a length the container does not give cannot be scrubbed: the first frame is painted */
  gtk_widget_set_visible (self->video_box, duration > 0);
  self->frame_wanted = FALSE;
  gtk_adjustment_configure (self->position_adjustment, 0, 0, MAX (duration, 0), 1.0 / 25, 1, 0);
  update_actions (self);
  queue_restart (self);
}

static void load_frame (BwWindow *self);

static void
on_frame_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Load) load = user_data;
  BwWindow *self = load->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = bw_texture_load_frame_finish (result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->frame_loading = FALSE;
  /* unless another photo or video came meanwhile, which makes this frame of no use */
  if (load->file == self->content_file)
    {
      if (texture == NULL)
        show_toast (self, error->message);
      else
        show_content_frame (self, texture);
    }
  if (self->frame_wanted)
    load_frame (self);
  else if (load->file == self->content_file)
    /* a painting under way moves to the frame now shown */
    queue_restart (self);
  load_finished (self);
}

static void
load_frame (BwWindow *self)
{
  if (self->frame_loading)
    {
      self->frame_wanted = TRUE;
      return;
    }
  self->frame_wanted = FALSE;
  self->frame_loading = TRUE;
  /* a pending load: Paint pressed meanwhile starts once the frame it paints is shown */
  bw_texture_load_frame_async (self->content_file, CONTENT_TEXTURE_SIZE,
                               gtk_adjustment_get_value (self->position_adjustment),
                               self->cancellable, on_frame_loaded,
                               load_new (self, self->content_file, TRUE));
}

static void
on_position_changed (BwWindow *self)
{
  double position = gtk_adjustment_get_value (self->position_adjustment);
  g_autofree char *text = NULL;

  /* a clip under a minute, as most are, by the tenth of a second: whole seconds would not
   * tell its frames apart */
  if (self->content_duration < 60)
    /* Translators: a video's position and length in seconds: "0.7 / 1.2 s" */
    text = g_strdup_printf (_("%.1f / %.1f s"), position, self->content_duration);
  else
    {
      g_autofree char *at = bw_engine_format_duration (position);
      g_autofree char *length = bw_engine_format_duration (self->content_duration);

      text = g_strdup_printf ("%s / %s", at, length);
    }

  gtk_label_set_label (self->position_label, text);
  if (self->content_is_video && self->content_file)
    load_frame (self);
}

static void
on_style_remove (BwStyleRow *row,
                 BwWindow   *self)
{
  gtk_list_box_remove (self->style_list, GTK_WIDGET (row));
  gtk_widget_set_visible (GTK_WIDGET (self->style_list), count_styles (self) > 0);
  update_actions (self);
  queue_restart (self);
}

static void
add_style_row (BwWindow   *self,
               GFile      *file,
               GdkTexture *texture)
{
  BwStyleRow *row = bw_style_row_new (file, texture);

  g_signal_connect (row, "remove", G_CALLBACK (on_style_remove), self);
  g_signal_connect_swapped (row, "notify::blend", G_CALLBACK (queue_restart), self);
  gtk_list_box_append (self->style_list, GTK_WIDGET (row));
  gtk_widget_set_visible (GTK_WIDGET (self->style_list), TRUE);
  update_actions (self);
  queue_restart (self);
}

static void
on_image_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Load) load = user_data;
  BwWindow *self = load->window;
  g_autoptr(GError) error = NULL;
  double duration = 0;
  g_autoptr(GdkTexture) texture = bw_texture_load_frame_finish (result, &duration, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (texture == NULL)
    show_toast (self, error->message);
  else if (load->as_content)
    set_content (self, load->file, texture, duration);
  else
    add_style_row (self, load->file, texture);
  load_finished (self);
}

static void
load_file (BwWindow *self,
           GFile    *file,
           gboolean  as_content)
{
  bw_texture_load_async (file, as_content ? CONTENT_TEXTURE_SIZE : STYLE_TEXTURE_SIZE,
                         self->cancellable, on_image_loaded, load_new (self, file, as_content));
}

void
bw_window_open_content (BwWindow *self,
                        GFile    *file)
{
  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  load_file (self, file, TRUE);
}

void
bw_window_add_style (BwWindow *self,
                     GFile    *file)
{
  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  load_file (self, file, FALSE);
}

void
bw_window_open_files (BwWindow  *self,
                      GFile    **files,
                      int        n_files)
{
  g_return_if_fail (BW_IS_WINDOW (self));

  for (int i = 0; i < n_files; i++)
    {
      if (i == 0)
        bw_window_open_content (self, files[i]);
      else
        bw_window_add_style (self, files[i]);
    }
}

/* Files dropped on the photo: the first is the photo, any others are styles. */
static void
on_content_files_dropped (BwWindow *self,
                          GSList   *files)
{
  for (GSList *l = files; l; l = l->next)
    {
      if (l == files)
        bw_window_open_content (self, l->data);
      else
        bw_window_add_style (self, l->data);
    }
}

static void
on_style_files_dropped (BwWindow *self,
                        GSList   *files)
{
  for (GSList *l = files; l; l = l->next)
    bw_window_add_style (self, l->data);
}

static void
on_temporary_saved (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(Load) load = user_data;
  BwWindow *self = load->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = bw_texture_save_temporary_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (file == NULL)
    show_toast (self, error->message);
  else
    load_file (self, file, load->as_content);
  /* after the file's own load is counted, so a waiting start waits for it too */
  load_finished (self);
}

/* An image from another app has no file: store one, so the worker can read it. */
static void
take_texture (BwWindow   *self,
              GdkTexture *texture,
              gboolean    as_content)
{
  bw_texture_save_temporary_async (texture, self->cancellable, on_temporary_saved,
                                   load_new (self, NULL, as_content));
}

static void
on_content_texture_dropped (BwWindow   *self,
                            GdkTexture *texture)
{
  take_texture (self, texture, TRUE);
}

static void
on_style_texture_dropped (BwWindow   *self,
                          GdkTexture *texture)
{
  take_texture (self, texture, FALSE);
}

static void
on_open_response (GtkNativeDialog *chooser,
                  int              response,
                  BwWindow        *self)
{
  gboolean as_content = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "as-content"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          if (as_content && i == 0)
            bw_window_open_content (self, file);
          else
            bw_window_add_style (self, file);
        }
    }
  g_clear_object (&self->chooser);
}

static void
show_open_dialog (BwWindow *self,
                  gboolean  as_content)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser)
    return;
  gtk_file_filter_set_name (filter, as_content ? _("Images and Videos") : _("Images"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/webp");
  gtk_file_filter_add_mime_type (filter, "image/tiff");
  /* a video as content: one frame is painted live, the whole of it on request */
  if (as_content)
    gtk_file_filter_add_mime_type (filter, "video/*");
  self->chooser = gtk_file_chooser_native_new (as_content ? _("Open a Photo") : _("Add Styles"),
                                               GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                               as_content ? _("_Open") : _("_Add"), NULL);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser), !as_content);
  g_object_set_data (G_OBJECT (self->chooser), "as-content", GINT_TO_POINTER (as_content));
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_content_open (BwWindow *self)
{
  show_open_dialog (self, TRUE);
}

static void
on_style_open (BwWindow *self)
{
  show_open_dialog (self, FALSE);
}

/* --- the worker ------------------------------------------------------------------------ */

static void
on_weights_chosen (BwWeightsDialog *dialog,
                   const char      *path,
                   BwWindow        *self)
{
  g_autofree char *default_path = bw_weights_default_path ();

  bw_window_set_weights_path (self, path);
  /* remember a file the user picked; the downloaded one is found without help */
  g_settings_set_string (self->settings, "weights-path",
                         g_strcmp0 (path, default_path) == 0 ? "" : path);
  bw_window_run_start (self);
}

static void
show_weights_dialog (BwWindow *self)
{
  BwWeightsDialog *dialog = bw_weights_dialog_new (GTK_WINDOW (self));

  g_signal_connect_object (dialog, "weights-chosen", G_CALLBACK (on_weights_chosen), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* TRUE when a run can start; otherwise says what is missing. */
static gboolean
check_ready (BwWindow *self)
{
  if (self->content_file == NULL)
    {
      show_toast (self, _("Add a photo first: drop one on the left, or press Open."));
      return FALSE;
    }
  if (count_styles (self) == 0)
    {
      show_toast (self, _("Add a painting to take the style from: drop one under Styles."));
      return FALSE;
    }
  if (!g_file_test (self->weights_path, G_FILE_TEST_EXISTS))
    {
      show_weights_dialog (self);
      return FALSE;
    }
  return TRUE;
}

static void
get_styles (BwWindow  *self,
            GPtrArray *files,
            GArray    *blends)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->style_list));
       child; child = gtk_widget_get_next_sibling (child))
    {
      double blend;

      if (!BW_IS_STYLE_ROW (child))
        continue;
      blend = bw_style_row_get_blend (BW_STYLE_ROW (child));
      g_ptr_array_add (files, bw_style_row_get_file (BW_STYLE_ROW (child)));
      g_array_append_val (blends, blend);
    }
}

static void
bw_window_run_start (BwWindow *self)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  g_autoptr(GArray) blends = g_array_new (FALSE, FALSE, sizeof (double));
  BwParams params;

  g_clear_handle_id (&self->restart_source, g_source_remove);
  /* a change of the controls during a video restarts nothing: it is painted as started */
  if (self->video_output || !check_ready (self))
    return;
  get_styles (self, files, blends);
  get_params (self, &params);
  bw_loss_plot_clear (self->loss_plot);
  /* The targets take a while (seconds at 512 px on a CPU): show the starting image, the
   * photo, at once; the worker's first frame replaces it. */
  bw_preview_set_image_size (self->preview, params.size);
  bw_preview_set_texture (self->preview, bw_image_pane_get_texture (self->content_pane));
  gtk_stack_set_visible_child_name (self->preview_stack, "preview");
  bw_worker_start (self->worker, &params, self->content_file,
                   self->content_is_video ? gtk_adjustment_get_value (self->position_adjustment) : 0,
                   (GFile **) files->pdata, (double *) blends->data, files->len);
}

void
bw_window_paint_video (BwWindow *self,
                       GFile    *output,
                       int       frame_steps)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  g_autoptr(GArray) blends = g_array_new (FALSE, FALSE, sizeof (double));
  BwParams params;

  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (output));

  g_clear_handle_id (&self->restart_source, g_source_remove);
  if (!self->content_is_video || is_busy (self) || !check_ready (self))
    return;
  get_styles (self, files, blends);
  get_params (self, &params);
  g_set_object (&self->video_output, output);
  bw_loss_plot_clear (self->loss_plot);
  bw_preview_set_image_size (self->preview, params.size);
  gtk_stack_set_visible_child_name (self->preview_stack, "preview");
  bw_worker_start_video (self->worker, &params, self->content_file, output, frame_steps,
                         (GFile **) files->pdata, (double *) blends->data, files->len);
}

void
bw_window_start (BwWindow *self)
{
  g_return_if_fail (BW_IS_WINDOW (self));

  if (self->pending_loads > 0)
    {
      self->start_when_loaded = TRUE;
      return;
    }
  bw_window_run_start (self);
}

static gboolean
pulse (gpointer data)
{
  BwWindow *self = data;

  gtk_progress_bar_pulse (self->progress_bar);
  return G_SOURCE_CONTINUE;
}

/* While the worker prepares, how long it takes is unknown: the bar pulses. */
static void
update_pulse (BwWindow *self)
{
  if (bw_worker_get_state (self->worker) != BW_WORKER_PREPARING)
    {
      g_clear_handle_id (&self->pulse_source, g_source_remove);
      return;
    }
  if (self->pulse_source != 0)
    return;
  gtk_progress_bar_set_pulse_step (self->progress_bar, 0.1);
  gtk_progress_bar_pulse (self->progress_bar);
  self->pulse_source = g_timeout_add (120, pulse, self);
}

static void
on_worker_progress (BwWindow *self)
{
  int step = bw_worker_get_step (self->worker);
  int n_steps = bw_worker_get_n_steps (self->worker);
  double left = 0;
  g_autofree char *text = NULL;

  if (bw_worker_get_state (self->worker) == BW_WORKER_PREPARING)
    {
      /* the first step waits for the weights, the images and the style targets */
      gtk_progress_bar_set_text (self->progress_bar, _("Preparing style…"));
      bw_loss_plot_clear (self->loss_plot);
      update_pulse (self);
      return;
    }
  g_object_get (self->worker, "seconds-left", &left, NULL);
  if (n_steps > 0)
    gtk_progress_bar_set_fraction (self->progress_bar, MIN (1.0, (double) step / n_steps));
  if (bw_worker_get_frame (self->worker) > 0)
    {
      int frame = bw_worker_get_frame (self->worker);
      int n_frames = bw_worker_get_n_frames (self->worker);
      g_autofree char *eta = bw_engine_format_duration (MAX (left, 0));

      if (n_frames > 0)
        gtk_progress_bar_set_fraction (self->progress_bar,
                                       MIN (1.0, (frame - 1 + (double) step / MAX (n_steps, 1)) / n_frames));
      else
        gtk_progress_bar_pulse (self->progress_bar);
      if (n_frames > 0 && left >= 0)
        /* Translators: progress of a video: "Frame 3 of 48, step 12 of 300, about 1:20:00 left" */
        text = g_strdup_printf (_("Frame %d of %d, step %d of %d, about %s left"), frame, n_frames,
                                step, n_steps, eta);
      else
        text = g_strdup_printf (_("Frame %d, step %d of %d"), frame, step, n_steps);
    }
  else if (left >= 0 && step < n_steps)
    {
      g_autofree char *eta = bw_engine_format_duration (left);

      /* Translators: progress: "Step 12 of 300, about 1:20 left" */
      text = g_strdup_printf (_("Step %d of %d, about %s left"), step, n_steps, eta);
    }
  else
    text = g_strdup_printf (_("Step %d of %d"), step, n_steps);
  gtk_progress_bar_set_text (self->progress_bar, text);
  if (step > 0)
    bw_loss_plot_add (self->loss_plot, bw_worker_get_loss (self->worker));
}

static void
on_worker_texture (BwWindow *self)
{
  GdkTexture *texture = bw_worker_get_texture (self->worker);

  bw_preview_set_texture (self->preview, texture);
  if (texture)
    {
      gtk_stack_set_visible_child_name (self->preview_stack, "preview");
      self->unsaved = TRUE;
    }
  update_actions (self);
}

static void
on_worker_state (BwWindow *self)
{
  BwWorkerState state = bw_worker_get_state (self->worker);

  update_pulse (self);
  if (state == BW_WORKER_RUNNING && bw_worker_get_step (self->worker) == 0)
    /* prepared: the bar counts steps from here */
    gtk_progress_bar_set_fraction (self->progress_bar, 0);
  if (state != BW_WORKER_IDLE)
    on_worker_progress (self);
  update_actions (self);
}

static void
on_worker_finished (BwWorker *worker,
                    gboolean  completed,
                    BwWindow *self)
{
  g_autofree char *text = NULL;

  if (self->video_output)
    {
      g_autoptr(GFile) output = g_steal_pointer (&self->video_output);
      g_autofree char *name = g_file_get_basename (output);
      g_autofree char *toast = NULL;
      /* the frame under way when stopped is in the file too, as far as it got */
      int frames = bw_worker_get_frame (worker);

      if (completed)
        {
          text = g_strdup_printf (ngettext ("Done: %d frame", "Done: %d frames", frames), frames);
          toast = g_strdup_printf (_("Saved the video “%s”"), name);
          gtk_progress_bar_set_fraction (self->progress_bar, 1);
        }
      else
        {
          text = g_strdup_printf (_("Stopped at frame %d"), frames);
          toast = g_strdup_printf (ngettext ("Stopped: the first %d frame is in “%s”",
                                             "Stopped: the first %d frames are in “%s”", frames),
                                   frames, name);
        }
      gtk_progress_bar_set_text (self->progress_bar, text);
      show_toast (self, toast);
      /* the frames are in the file: nothing to lose on closing */
      self->unsaved = FALSE;
      return;
    }
  if (completed)
    {
      text = g_strdup_printf (ngettext ("Done in %d step", "Done in %d steps",
                                        bw_worker_get_step (worker)),
                              bw_worker_get_step (worker));
      gtk_progress_bar_set_fraction (self->progress_bar, 1);
    }
  else
    text = g_strdup_printf (_("Stopped at step %d"), bw_worker_get_step (worker));
  gtk_progress_bar_set_text (self->progress_bar, text);
}

static void
on_worker_failed (BwWorker *worker,
                  GError   *error,
                  BwWindow *self)
{
  GdkTexture *texture = bw_worker_get_texture (worker);
  AdwMessageDialog *dialog;

  g_clear_object (&self->video_output);
  gtk_progress_bar_set_text (self->progress_bar, NULL);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  /* the photo shown while preparing was no painting: back to the last real one, if any */
  bw_preview_set_texture (self->preview, texture);
  if (texture == NULL)
    gtk_stack_set_visible_child_name (self->preview_stack, "empty");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
      !g_file_test (self->weights_path, G_FILE_TEST_EXISTS))
    {
      show_weights_dialog (self);
      return;
    }
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Could Not Paint"),
                                                       error->message));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- saving ---------------------------------------------------------------------------- */

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  BwImage *image = g_object_get_data (G_OBJECT (task), "image");
  const char *path = task_data;
  GError *error = NULL;

  if (bw_image_save (image, path, JPEG_QUALITY, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_save_thread_done (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  BwWindow *self = BW_WINDOW (object);
  g_autoptr(GTask) task = user_data;
  BwImage *image = g_object_get_data (G_OBJECT (result), "image");
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* a newer frame than the one written is still unsaved */
  if (image == bw_worker_get_image (self->worker))
    self->unsaved = FALSE;
  g_task_return_boolean (task, TRUE);
}

void
bw_window_save_async (BwWindow            *self,
                      GFile               *file,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GTask *thread_task;
  BwImage *image;
  char *path;

  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bw_window_save_async);
  image = bw_worker_get_image (self->worker);
  if (image == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("There is no painting to save yet. Press Paint first."));
      return;
    }
  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Brushwork can only save to a folder on this computer. Choose a local folder."));
      return;
    }
  /* frames are never changed once made, so the thread may read this one */
  thread_task = g_task_new (self, cancellable, on_save_thread_done, g_steal_pointer (&task));
  g_object_set_data_full (G_OBJECT (thread_task), "image", g_object_ref (image), g_object_unref);
  g_task_set_task_data (thread_task, path, g_free);
  g_task_run_in_thread (thread_task, save_thread);
  g_object_unref (thread_task);
}

gboolean
bw_window_save_finish (BwWindow      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_saved (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  BwWindow *self = BW_WINDOW (object);
  g_autoptr(GError) error = NULL;

  if (!bw_window_save_finish (self, result, &error))
    {
      self->close_after_save = FALSE;
      show_toast (self, error->message);
      return;
    }
  if (self->close_after_save)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  show_toast (self, _("Painting saved"));
}

/* ".png" unless the name already says JPEG or PNG. */
static GFile *
with_image_extension (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name, -1);
  g_autofree char *fixed = NULL;
  g_autoptr(GFile) parent = NULL;

  if (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg") ||
      g_str_has_suffix (lower, ".jpeg"))
    return g_object_ref (file);
  parent = g_file_get_parent (file);
  fixed = g_strconcat (name, ".png", NULL);
  return g_file_get_child (parent, fixed);
}

static void
on_save_response (GtkNativeDialog *chooser,
                  int              response,
                  BwWindow        *self)
{
  g_autoptr(GFile) chosen = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) folder = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (chosen == NULL)
    {
      self->close_after_save = FALSE;
      return;
    }
  file = with_image_extension (chosen);
  folder = g_file_get_parent (file);
  if (folder && g_file_peek_path (folder))
    g_settings_set_string (self->settings, "last-folder", g_file_peek_path (folder));
  bw_window_save_async (self, file, self->cancellable, on_saved, NULL);
}

static char *
file_stem (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  char *dot = strrchr (name, '.');

  if (dot && dot != name)
    *dot = '\0';
  return g_steal_pointer (&name);
}

/* "content-style": what the save dialogs propose, before the extension. */
static char *
dup_default_stem (BwWindow *self)
{
  g_autofree char *content = NULL;
  g_autofree char *style = NULL;

  content = self->content_file ? file_stem (self->content_file) : g_strdup (_("painting"));
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->style_list));
       child && style == NULL; child = gtk_widget_get_next_sibling (child))
    if (BW_IS_STYLE_ROW (child))
      style = file_stem (bw_style_row_get_file (BW_STYLE_ROW (child)));
  if (style == NULL)
    return g_steal_pointer (&content);
  return g_strdup_printf ("%s-%s", content, style);
}

char *
bw_window_dup_default_name (BwWindow *self)
{
  g_autofree char *stem = NULL;

  g_return_val_if_fail (BW_IS_WINDOW (self), NULL);

  stem = dup_default_stem (self);
  return g_strconcat (stem, ".png", NULL);
}

/* A save dialog proposing @name in the folder last saved to; shown by the caller. */
static GtkFileChooserNative *
new_save_chooser (BwWindow   *self,
                  const char *title,
                  const char *accept_label,
                  const char *name)
{
  g_autofree char *folder = g_settings_get_string (self->settings, "last-folder");
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                                               accept_label, NULL);

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  if (*folder && g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), dir, NULL);
    }
  return chooser;
}

static void
show_save_dialog (BwWindow *self)
{
  g_autoptr(GtkFileFilter) png = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) jpeg = gtk_file_filter_new ();
  g_autofree char *name = bw_window_dup_default_name (self);

  if (self->chooser)
    return;
  gtk_file_filter_set_name (png, _("PNG Image"));
  gtk_file_filter_add_mime_type (png, "image/png");
  gtk_file_filter_set_name (jpeg, _("JPEG Image"));
  gtk_file_filter_add_mime_type (jpeg, "image/jpeg");
  self->chooser = new_save_chooser (self, _("Save Painting"), _("_Save"), name);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), png);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), jpeg);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* --- closing --------------------------------------------------------------------------- */

static void
on_close_response (AdwMessageDialog *dialog,
                   const char       *response,
                   BwWindow         *self)
{
  if (g_str_equal (response, "discard"))
    {
      self->unsaved = FALSE;
      g_clear_object (&self->video_output);
      /* The dialog outlives this handler and, destroyed with its parent, would otherwise
       * let go of a parent already finalised. */
      gtk_window_set_transient_for (GTK_WINDOW (dialog), NULL);
      gtk_window_destroy (GTK_WINDOW (self));
    }
  else if (g_str_equal (response, "save"))
    {
      self->close_after_save = TRUE;
      show_save_dialog (self);
    }
}

/* Closing during a video: the frames so far stay, whole, in its file (the worker ends it as
 * it shuts down), but the rest are never painted, so ask. */
static void
ask_stop_video (BwWindow *self)
{
  g_autofree char *name = g_file_get_basename (self->video_output);
  g_autofree char *body = g_strdup_printf (_("The frames painted so far stay in “%s”; the rest will not be painted."),
                                           name);
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                                         _("Stop Painting the Video?"),
                                                                         body));

  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "discard", _("_Stop and Close"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_close_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static gboolean
bw_window_close_request (GtkWindow *window)
{
  BwWindow *self = BW_WINDOW (window);
  AdwMessageDialog *dialog;

  if (self->video_output)
    {
      ask_stop_video (self);
      return TRUE;
    }
  if (!self->unsaved)
    return GTK_WINDOW_CLASS (bw_window_parent_class)->close_request (window);

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Save the Painting?"),
                                                       _("It will be lost if you close the window without saving it.")));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "discard", _("_Discard"),
                                    "save", _("_Save…"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (dialog, "save", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "save");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_close_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

/* --- actions --------------------------------------------------------------------------- */

static void
start_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  bw_window_start (BW_WINDOW (user_data));
}

static void
pause_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  bw_worker_pause (BW_WINDOW (user_data)->worker);
}

static void
resume_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  bw_worker_resume (BW_WINDOW (user_data)->worker);
}

static void
toggle_pause_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  BwWindow *self = user_data;

  if (bw_worker_get_state (self->worker) == BW_WORKER_PAUSED)
    bw_worker_resume (self->worker);
  else if (is_busy (self))
    bw_worker_pause (self->worker);
}

static void
stop_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  BwWindow *self = user_data;

  g_clear_handle_id (&self->restart_source, g_source_remove);
  bw_worker_stop (self->worker);
}

static void
on_video_save_response (GtkNativeDialog *chooser,
                        int              response,
                        BwWindow        *self)
{
  g_autoptr(GFile) chosen = NULL;
  g_autofree char *path = NULL;
  g_autofree char *lower = NULL;
  const char *pace = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "later-frames");
  int frame_steps = 0;

  if (response == GTK_RESPONSE_ACCEPT)
    chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  /* later frames start from the previous result and need fewer steps (see README) */
  if (g_strcmp0 (pace, "quarter") == 0)
    frame_steps = MAX (1, (int) gtk_adjustment_get_value (self->steps_adjustment) / 4);
  g_clear_object (&self->chooser);
  if (chosen == NULL)
    return;
  path = g_file_get_path (chosen);
  if (path == NULL)
    {
      show_toast (self, _("That folder is not on this computer. Choose a local folder, then paint the video again."));
      return;
    }
  /* the writer makes WebM only: say so in the name rather than fail */
  lower = g_ascii_strdown (path, -1);
  if (!g_str_has_suffix (lower, ".webm"))
    {
      g_autofree char *name = g_strconcat (path, ".webm", NULL);
      g_autoptr(GFile) fixed = g_file_new_for_path (name);

      bw_window_paint_video (self, fixed, frame_steps);
    }
  else
    bw_window_paint_video (self, chosen, frame_steps);
}

static void
paint_video_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  BwWindow *self = user_data;
  g_autoptr(GtkFileFilter) webm = gtk_file_filter_new ();
  g_autofree char *stem = dup_default_stem (self);
  g_autofree char *name = g_strconcat (stem, ".webm", NULL);

  if (self->chooser)
    return;
  gtk_file_filter_set_name (webm, _("WebM Video"));
  gtk_file_filter_add_mime_type (webm, "video/webm");
  self->chooser = new_save_chooser (self, _("Paint Whole Video"), _("_Paint"), name);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), webm);
  {
    const char *ids[] = { "all", "quarter", NULL };
    const char *labels[] = { _("All steps for every frame"),
                             _("A quarter of the steps after the first frame (faster, steadier)"),
                             NULL };

    gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (self->chooser), "later-frames",
                                 _("Later Frames"), ids, labels);
    gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (self->chooser), "later-frames", "all");
  }
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_video_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_animation_exported (BwExportDialog *dialog,
                       GFile          *file,
                       BwWindow       *self)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *text = g_strdup_printf (_("Saved the animation “%s”"), name);

  show_toast (self, text);
}

static void
export_animation_action (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  BwWindow *self = user_data;
  BwFrameRecorder *recording = bw_worker_get_recording (self->worker);
  g_autofree char *stem = dup_default_stem (self);
  BwExportDialog *dialog;

  if (recording == NULL)
    return;
  dialog = bw_export_dialog_new (GTK_WINDOW (self), recording, stem);
  g_signal_connect_object (dialog, "exported", G_CALLBACK (on_animation_exported), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
save_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  show_save_dialog (BW_WINDOW (user_data));
}

static void
open_content_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  show_open_dialog (BW_WINDOW (user_data), TRUE);
}

static void
add_style_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  show_open_dialog (BW_WINDOW (user_data), FALSE);
}

static void
on_paste_files (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(BwWindow) self = user_data;
  const GValue *value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (object), result, NULL);

  if (value == NULL || !G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      show_toast (self, _("The clipboard holds no image. Copy an image or an image file, then paste again."));
      return;
    }
  if (self->content_file == NULL)
    on_content_files_dropped (self, g_value_get_boxed (value));
  else
    on_style_files_dropped (self, g_value_get_boxed (value));
}

static void
on_paste_texture (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(BwWindow) self = user_data;
  g_autoptr(GdkTexture) texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, NULL);

  if (texture == NULL)
    {
      show_toast (self, _("The clipboard holds no image. Copy an image or an image file, then paste again."));
      return;
    }
  take_texture (self, texture, self->content_file == NULL);
}

/* Paste fills the photo first, then adds styles. */
static void
paste_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  BwWindow *self = user_data;
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT,
                                    self->cancellable, on_paste_files, g_object_ref (self));
  else
    gdk_clipboard_read_texture_async (clipboard, self->cancellable, on_paste_texture,
                                      g_object_ref (self));
}

/* A binding, not an accelerator, so a focused text field pastes text first. */
static gboolean
paste_binding (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  paste_action (NULL, NULL, widget);
  return TRUE;
}

static const GActionEntry win_actions[] = {
  { "start", start_action },
  { "pause", pause_action },
  { "resume", resume_action },
  { "toggle-pause", toggle_pause_action },
  { "stop", stop_action },
  { "save", save_action },
  { "paint-video", paint_video_action },
  { "export-animation", export_animation_action },
  { "open-content", open_content_action },
  { "add-style", add_style_action },
  { "paste", paste_action },
};

/* --- settings -------------------------------------------------------------------------- */

static gboolean
log_get_mapping (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  double v = g_variant_get_double (variant);

  g_value_set_double (value, v > 0 ? log10 (v) : 0);
  return TRUE;
}

static GVariant *
log_set_mapping (const GValue       *value,
                 const GVariantType *expected_type,
                 gpointer            user_data)
{
  return g_variant_new_double (pow (10, g_value_get_double (value)));
}

/* The combo rows' positions as the keys' strings. */
static const char *const preset_choices[] = { "default", "seed" };
static const char *const optimizer_choices[] = { "lbfgs", "adam" };

static gboolean
choice_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *const *choices = user_data;

  g_value_set_uint (value, g_str_equal (g_variant_get_string (variant, NULL), choices[1]) ? 1 : 0);
  return TRUE;
}

static GVariant *
choice_set_mapping (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  const char *const *choices = user_data;

  return g_variant_new_string (choices[g_value_get_uint (value) == 1]);
}

static void
bind_settings (BwWindow *self)
{
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "size", self->size_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "steps", self->steps_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "preserve-colors", self->colors_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "style-weight", self->style_adjustment, "value",
                                G_SETTINGS_BIND_DEFAULT, log_get_mapping, log_set_mapping, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "content-weight", self->content_adjustment, "value",
                                G_SETTINGS_BIND_DEFAULT, log_get_mapping, log_set_mapping, NULL, NULL);
  g_settings_bind (self->settings, "smoothness", self->tv_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  /* restoring the preset must not reset the weights saved with it */
  self->applying_preset = TRUE;
  g_settings_bind_with_mapping (self->settings, "preset", self->preset_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) preset_choices, NULL);
  g_settings_bind_with_mapping (self->settings, "optimizer", self->optimizer_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_get_mapping, choice_set_mapping,
                                (gpointer) optimizer_choices, NULL);
  self->applying_preset = FALSE;
}

/* --- the object ------------------------------------------------------------------------ */

static void
bw_window_dispose (GObject *object)
{
  BwWindow *self = BW_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->restart_source, g_source_remove);
  g_clear_handle_id (&self->pulse_source, g_source_remove);
  if (self->worker)
    {
      /* quitting mid-run: the thread ends after the step under way */
      g_signal_handlers_disconnect_by_data (self->worker, self);
      bw_worker_shutdown (self->worker);
    }
  g_clear_object (&self->worker);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_WINDOW);
  G_OBJECT_CLASS (bw_window_parent_class)->dispose (object);
}

static void
bw_window_finalize (GObject *object)
{
  BwWindow *self = BW_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->content_file);
  g_clear_object (&self->video_output);
  g_free (self->weights_path);
  G_OBJECT_CLASS (bw_window_parent_class)->finalize (object);
}

static void
bw_window_class_init (BwWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = bw_window_dispose;
  object_class->finalize = bw_window_finalize;
  window_class->close_request = bw_window_close_request;

  g_type_ensure (BW_TYPE_IMAGE_PANE);
  g_type_ensure (BW_TYPE_PREVIEW);
  g_type_ensure (BW_TYPE_LOSS_PLOT);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, paste_binding, NULL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BwWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, run_button);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, content_pane);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, video_box);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, position_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, position_label);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, style_pane);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, style_list);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, style_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, content_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, tv_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, steps_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, colors_switch);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, preset_row);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, optimizer_row);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, preview_stack);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, preview);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, loss_plot);
  gtk_widget_class_bind_template_callback (widget_class, on_content_open);
  gtk_widget_class_bind_template_callback (widget_class, on_content_files_dropped);
  gtk_widget_class_bind_template_callback (widget_class, on_content_texture_dropped);
  gtk_widget_class_bind_template_callback (widget_class, on_style_open);
  gtk_widget_class_bind_template_callback (widget_class, on_style_files_dropped);
  gtk_widget_class_bind_template_callback (widget_class, on_style_texture_dropped);
}

static void
bw_window_init (BwWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->worker = bw_worker_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);

  g_signal_connect_swapped (self->worker, "notify::state", G_CALLBACK (on_worker_state), self);
  g_signal_connect_swapped (self->worker, "notify::step", G_CALLBACK (on_worker_progress), self);
  g_signal_connect_swapped (self->worker, "notify::texture", G_CALLBACK (on_worker_texture), self);
  g_signal_connect (self->worker, "finished", G_CALLBACK (on_worker_finished), self);
  g_signal_connect (self->worker, "failed", G_CALLBACK (on_worker_failed), self);
  g_signal_connect_swapped (self->worker, "warning", G_CALLBACK (show_toast), self);
  g_signal_connect_swapped (self->worker, "notify::recording", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->position_adjustment, "value-changed", G_CALLBACK (on_position_changed), self);

  g_signal_connect_swapped (self->style_adjustment, "value-changed", G_CALLBACK (send_weights), self);
  g_signal_connect_swapped (self->content_adjustment, "value-changed", G_CALLBACK (send_weights), self);
  g_signal_connect_swapped (self->tv_adjustment, "value-changed", G_CALLBACK (send_weights), self);
  g_signal_connect_swapped (self->steps_adjustment, "value-changed", G_CALLBACK (on_steps_changed), self);
  g_signal_connect_swapped (self->size_adjustment, "value-changed", G_CALLBACK (queue_restart), self);
  g_signal_connect_swapped (self->colors_switch, "notify::active", G_CALLBACK (queue_restart), self);
  g_signal_connect_swapped (self->optimizer_row, "notify::selected", G_CALLBACK (queue_restart), self);
  g_signal_connect_swapped (self->preset_row, "notify::selected", G_CALLBACK (on_preset_changed), self);

  update_actions (self);
}

/* --weights, else $BRUSHWORK_WEIGHTS, else a file the user chose before, else the cache. */
static char *
find_weights (BwWindow *self)
{
  const char *env = g_getenv ("BRUSHWORK_WEIGHTS");
  g_autofree char *chosen = g_settings_get_string (self->settings, "weights-path");

  if (env && *env)
    return g_strdup (env);
  if (*chosen && g_file_test (chosen, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&chosen);
  return bw_weights_default_path ();
}

BwWindow *
bw_window_new (BwApplication *application)
{
  BwWindow *self = g_object_new (BW_TYPE_WINDOW, "application", application, NULL);
  g_autofree char *weights = NULL;

  self->settings = g_object_ref (bw_application_get_settings (application));
  bind_settings (self);
  weights = find_weights (self);
  bw_window_set_weights_path (self, weights);
  return self;
}

void
bw_window_set_weights_path (BwWindow   *self,
                            const char *path)
{
  g_return_if_fail (BW_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  g_free (self->weights_path);
  self->weights_path = g_strdup (path);
  bw_worker_set_weights_path (self->worker, path);
}

BwWorker *
bw_window_get_worker (BwWindow *self)
{
  g_return_val_if_fail (BW_IS_WINDOW (self), NULL);
  return self->worker;
}

BwPreview *
bw_window_get_preview (BwWindow *self)
{
  g_return_val_if_fail (BW_IS_WINDOW (self), NULL);
  return self->preview;
}
