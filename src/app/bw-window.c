/* bw-window.c: the main window: photo and styles on the left, the painting on the right.
 *
 * The window holds the choices and hands them to the worker as messages; it learns about
 * the painting only from the worker's signals, so it never waits on the engine.
 *
 * This file holds the object, the controls and the worker's side; its siblings share
 * bw-window-private.h: -open (images coming in), -video, -save (saving and its dialogs),
 * -actions, -settings.
 */
#include <math.h>
#include <glib/gi18n.h>

#include "bw-alert.h"
#include "bw-engine.h"
#include "bw-style-row.h"
#include "bw-weights-dialog.h"
#include "bw-window-private.h"
#include "weights/bw-weights-download.h"

G_DEFINE_FINAL_TYPE (BwWindow, bw_window, ADW_TYPE_APPLICATION_WINDOW)


void
_bw_window_show_toast_with_button (BwWindow   *self,
                                   const char *message,
                                   const char *button_label,
                                   const char *action_name,
                                   GVariant   *target)
{
  AdwToast *toast;

  /* messages are sentences that may quote file names, not markup (libadwaita 1.2 has no
   * adw_toast_set_use_markup) */
  {
    g_autofree char *escaped = g_markup_escape_text (message, -1);
    toast = adw_toast_new (escaped);
  }
  adw_toast_set_timeout (toast, 5);
  if (button_label)
    {
      adw_toast_set_button_label (toast, button_label);
      adw_toast_set_action_name (toast, action_name);
      if (target)
        adw_toast_set_action_target_value (toast, target);
    }
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
_bw_window_show_toast (BwWindow   *self,
                       const char *message)
{
  _bw_window_show_toast_with_button (self, message, NULL, NULL, NULL);
}

gboolean
_bw_window_is_busy (BwWindow *self)
{
  return bw_worker_get_state (self->worker) != BW_WORKER_IDLE;
}

guint
_bw_window_count_styles (BwWindow *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->style_list));
       child; child = gtk_widget_get_next_sibling (child))
    n += BW_IS_STYLE_ROW (child);
  return n;
}

void
_bw_window_update_actions (BwWindow *self)
{
  BwWorkerState state = bw_worker_get_state (self->worker);
  BwFrameRecorder *recording = bw_worker_get_recording (self->worker);
  gboolean ready = self->content_file != NULL && _bw_window_count_styles (self) > 0;
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
void
_bw_window_get_params (BwWindow *self,
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
  params->preserve_colors = adw_combo_row_get_selected (self->colors_row) == 1;
  params->transfer_histogram = adw_combo_row_get_selected (self->colors_row) == 2;
  params->style_scale = gtk_adjustment_get_value (self->style_scale_adjustment);
}

static void
send_weights (BwWindow *self)
{
  BwParams params;

  if (!_bw_window_is_busy (self))
    return;
  _bw_window_get_params (self, &params);
  bw_worker_set_weights (self->worker, params.content_weight, params.style_weight,
                         params.tv_weight);
}

static void
on_steps_changed (BwWindow *self)
{
  if (_bw_window_is_busy (self))
    bw_worker_set_n_steps (self->worker, (int) gtk_adjustment_get_value (self->steps_adjustment));
}

static gboolean
restart_now (gpointer data)
{
  BwWindow *self = data;

  self->restart_source = 0;
  if (_bw_window_is_busy (self))
    _bw_window_run_start (self);
  return G_SOURCE_REMOVE;
}

/* A change the running session cannot take (size, optimiser, images) starts it again;
 * spin buttons change in bursts, so wait until they settle. */
void
_bw_window_queue_restart (BwWindow *self)
{
  if (!_bw_window_is_busy (self))
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
  if (self->reverting)
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
  _bw_window_settings_changed (self);
}

/* --- the worker --------------------------------------------------------------- */

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
  _bw_window_run_start (self);
}

static void
show_weights_dialog (BwWindow *self)
{
  BwWeightsDialog *dialog = bw_weights_dialog_new (GTK_WINDOW (self));

  g_signal_connect_object (dialog, "weights-chosen", G_CALLBACK (on_weights_chosen), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* TRUE when a run can start; otherwise says what is missing. */
gboolean
_bw_window_check_ready (BwWindow *self)
{
  if (self->content_file == NULL)
    {
      _bw_window_show_toast (self, _("Add a photo first: drop one on the left, or press Open."));
      return FALSE;
    }
  if (_bw_window_count_styles (self) == 0)
    {
      _bw_window_show_toast (self, _("Add a painting to take the style from: drop one under Styles."));
      return FALSE;
    }
  if (!g_file_test (self->weights_path, G_FILE_TEST_EXISTS))
    {
      show_weights_dialog (self);
      return FALSE;
    }
  return TRUE;
}

void
_bw_window_get_styles (BwWindow  *self,
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

void
_bw_window_run_start (BwWindow *self)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  g_autoptr(GArray) blends = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GPtrArray) masks = NULL;
  BwParams params;

  g_clear_handle_id (&self->restart_source, g_source_remove);
  /* a change of the controls during a video restarts nothing: it is painted as started */
  if (self->video_output || !_bw_window_check_ready (self))
    return;
  _bw_window_get_styles (self, files, blends);
  _bw_window_get_params (self, &params);
  self->run_params = params;
  self->run_preset = adw_combo_row_get_selected (self->preset_row);
  self->restart_pending = FALSE;
  _bw_window_update_restart (self);
  masks = _bw_window_get_masks (self);
  bw_loss_plot_clear (self->loss_plot);
  gtk_widget_set_visible (GTK_WIDGET (self->loss_plot), FALSE);
  /* The targets take a while (seconds at 512 px on a CPU): show the starting image, the
   * photo, at once; the worker's first frame replaces it. */
  bw_preview_set_image_size (self->preview, params.size);
  bw_preview_set_texture (self->preview, bw_image_pane_get_texture (self->content_pane));
  gtk_stack_set_visible_child_name (self->preview_stack, "preview");
  bw_worker_start_with_masks (self->worker, &params, self->content_file,
                              self->content_is_video ? gtk_adjustment_get_value (self->position_adjustment) : 0,
                              (GFile **) files->pdata, (double *) blends->data,
                              masks && masks->len == files->len ? (BwImage **) masks->pdata : NULL,
                              files->len);
  _bw_window_after_start_regions (self);
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
  _bw_window_run_start (self);
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
  if (bw_worker_get_state (self->worker) == BW_WORKER_PAUSED)
    {
      /* no time left is counted while paused */
      if (bw_worker_get_frame (self->worker) > 0)
        text = g_strdup_printf (_("Paused at frame %d, step %d of %d"),
                                bw_worker_get_frame (self->worker), step, n_steps);
      else
        text = g_strdup_printf (_("Paused at step %d of %d"), step, n_steps);
      gtk_progress_bar_set_text (self->progress_bar, text);
      return;
    }
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
    {
      bw_loss_plot_add (self->loss_plot, bw_worker_get_loss (self->worker));
      gtk_widget_set_visible (GTK_WIDGET (self->loss_plot), TRUE);
    }
}

/* Nothing to count: no "0%", no empty loss plot keeping the bar off centre. */
static void
clear_status (BwWindow *self)
{
  gtk_progress_bar_set_text (self->progress_bar, "");
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  bw_loss_plot_clear (self->loss_plot);
  gtk_widget_set_visible (GTK_WIDGET (self->loss_plot), FALSE);
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
  _bw_window_update_actions (self);
}

static void
on_worker_state (BwWindow *self)
{
  BwWorkerState state = bw_worker_get_state (self->worker);

  update_pulse (self);
  _bw_window_update_restart (self);
  if (state == BW_WORKER_RUNNING && bw_worker_get_step (self->worker) == 0)
    /* prepared: the bar counts steps from here */
    gtk_progress_bar_set_fraction (self->progress_bar, 0);
  if (state != BW_WORKER_IDLE)
    on_worker_progress (self);
  else
    /* what the run read may have been replaced meanwhile */
    _bw_window_remove_temporary_files (self, FALSE);
  _bw_window_update_actions (self);
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
      _bw_window_show_toast (self, toast);
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
on_too_large_response (const char *response,
                       gpointer    data)
{
  BwWindow *self = data;

  if (!g_str_equal (response, "smaller"))
    return;
  gtk_adjustment_set_value (self->size_adjustment, self->largest_size);
  bw_window_start (self);
}

/* The engine's check before painting found the size too large for the device: said in the
 * terms the person chose in, with the size that works a click away. */
static void
tell_too_large (BwWindow *self,
                int       largest)
{
  g_autofree char *body = NULL;
  g_autofree char *smaller = NULL;
  BwAlertResponse responses[] = {
    { "close", _("_Close"), ADW_RESPONSE_DEFAULT },
    { "smaller", NULL, ADW_RESPONSE_SUGGESTED },
  };

  self->largest_size = largest;
  body = g_strdup_printf (_("Painting at %d pixels needs more graphics memory than this "
                            "computer has. The largest size it can paint these images at is "
                            "%d pixels."), self->run_params.size, largest);
  /* Translators: a button: paint again at the largest size that fits */
  smaller = g_strdup_printf (_("_Paint at %d px"), largest);
  responses[1].label = smaller;
  bw_alert_ask (GTK_WINDOW (self), _("Too Large to Paint"), body, responses,
                G_N_ELEMENTS (responses), "smaller", "close", on_too_large_response, self);
}

static void
on_worker_failed (BwWorker *worker,
                  GError   *error,
                  BwWindow *self)
{
  GdkTexture *texture = bw_worker_get_texture (worker);

  g_clear_object (&self->video_output);
  clear_status (self);
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
  if (g_error_matches (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY) &&
      bw_worker_get_largest_size (worker) > 0)
    {
      tell_too_large (self, bw_worker_get_largest_size (worker));
      return;
    }
  bw_alert_tell (GTK_WINDOW (self), _("Could Not Paint"), error->message);
}

/* --- closing ------------------------------------------------------------------ */

static void
on_close_response (const char *response,
                   gpointer    data)
{
  BwWindow *self = data;

  if (g_str_equal (response, "discard"))
    {
      self->unsaved = FALSE;
      g_clear_object (&self->video_output);
      gtk_window_destroy (GTK_WINDOW (self));
    }
  else if (g_str_equal (response, "save"))
    {
      /* This answer wins over a file dialog left open before the prompt (Open, Add Styles,
       * Paint Whole Video), which would keep the save dialog from showing while
       * close_after_save stayed set for whichever save came next. */
      if (self->chooser)
        {
          gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
          g_clear_object (&self->chooser);
        }
      self->close_after_save = _bw_window_show_save_dialog (self);
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
  const BwAlertResponse responses[] = {
    { "cancel", _("_Cancel"), ADW_RESPONSE_DEFAULT },
    { "discard", _("_Stop and Close"), ADW_RESPONSE_DESTRUCTIVE },
  };

  bw_alert_ask (GTK_WINDOW (self), _("Stop Painting the Video?"), body,
                responses, G_N_ELEMENTS (responses), "cancel", "cancel", on_close_response, self);
}

static gboolean
bw_window_close_request (GtkWindow *window)
{
  BwWindow *self = BW_WINDOW (window);
  const BwAlertResponse responses[] = {
    { "cancel", _("_Cancel"), ADW_RESPONSE_DEFAULT },
    { "discard", _("_Discard"), ADW_RESPONSE_DESTRUCTIVE },
    { "save", _("_Save…"), ADW_RESPONSE_SUGGESTED },
  };

  if (self->video_output)
    {
      ask_stop_video (self);
      return TRUE;
    }
  if (!self->unsaved)
    return GTK_WINDOW_CLASS (bw_window_parent_class)->close_request (window);

  bw_alert_ask (window, _("Save the Painting?"),
                _("It will be lost if you close the window without saving it."),
                responses, G_N_ELEMENTS (responses), "save", "cancel", on_close_response, self);
  return TRUE;
}

/* --- the object --------------------------------------------------------------- */

/* The settings fold over the painting below this width (side by side they need 701 px).
 * Decided here, not by AdwFlap: folding, it lays the two out side by side for one more
 * frame, which its content (a scrolled window for that frame) takes without complaint. */
#define FOLD_WIDTH 760

static void
bw_window_size_allocate (GtkWidget *widget,
                         int        width,
                         int        height,
                         int        baseline)
{
  BwWindow *self = BW_WINDOW (widget);
  AdwFlapFoldPolicy policy = width < FOLD_WIDTH ? ADW_FLAP_FOLD_POLICY_ALWAYS : ADW_FLAP_FOLD_POLICY_NEVER;

  if (adw_flap_get_fold_policy (self->flap) != policy)
    adw_flap_set_fold_policy (self->flap, policy);
  GTK_WIDGET_CLASS (bw_window_parent_class)->size_allocate (widget, width, height, baseline);
}

/* Closed: what is in flight (reads, pastes, saves) is cancelled, as dispose would, and the
 * callbacks, whose references hold dispose off until they are done, leave the window be. */
static void
bw_window_unmap (GtkWidget *widget)
{
  BwWindow *self = BW_WINDOW (widget);

  g_cancellable_cancel (self->cancellable);
  GTK_WIDGET_CLASS (bw_window_parent_class)->unmap (widget);
}

gboolean
_bw_window_is_closed (BwWindow *self)
{
  return g_cancellable_is_cancelled (self->cancellable);
}

static void
bw_window_dispose (GObject *object)
{
  BwWindow *self = BW_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->restart_source, g_source_remove);
  g_clear_handle_id (&self->pulse_source, g_source_remove);
  if (self->worker)
    {
      /* quitting mid-run: the thread ends after the step under way, without this waiting
       * for it (the application is held until then) */
      g_signal_handlers_disconnect_by_data (self->worker, self);
      bw_worker_shutdown (self->worker);
    }
  g_clear_object (&self->worker);
  /* (a worker still preparing may then fail to read one: it is quitting anyway) */
  if (self->temporary_files)
    _bw_window_remove_temporary_files (self, TRUE);
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
  g_clear_object (&self->regions_photo);
  g_clear_pointer (&self->temporary_files, g_ptr_array_unref);
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
  widget_class->unmap = bw_window_unmap;
  widget_class->size_allocate = bw_window_size_allocate;
  window_class->close_request = bw_window_close_request;

  g_type_ensure (BW_TYPE_IMAGE_PANE);
  g_type_ensure (BW_TYPE_PREVIEW);
  g_type_ensure (BW_TYPE_LOSS_PLOT);

  _bw_window_class_init_actions (widget_class);
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
  gtk_widget_class_bind_template_child (widget_class, BwWindow, colors_row);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, style_scale_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, preset_row);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, optimizer_row);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, preview_stack);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, preview);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, loss_plot);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, restart_revealer);
  gtk_widget_class_bind_template_child (widget_class, BwWindow, restart_label);
  _bw_window_class_init_open (widget_class);
  _bw_window_class_init_regions (widget_class);
}

/* Paint, Pause and Resume take the same width, so Stop beside them never moves. */
static void
keep_run_button_width (BwWindow *self)
{
  const char *labels[] = { _("_Paint"), _("_Pause"), _("_Resume") };
  int widest = 0;

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      int natural;

      gtk_button_set_label (self->run_button, labels[i]);
      gtk_widget_measure (GTK_WIDGET (self->run_button), GTK_ORIENTATION_HORIZONTAL, -1,
                          NULL, &natural, NULL, NULL);
      widest = MAX (widest, natural);
    }
  gtk_widget_set_size_request (GTK_WIDGET (self->run_button), widest, -1);
}

static void
bw_window_init (BwWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->temporary_files = g_ptr_array_new_with_free_func (g_object_unref);
  self->worker = bw_worker_new ();
  _bw_window_init_actions (self);

  g_signal_connect_swapped (self->worker, "notify::state", G_CALLBACK (on_worker_state), self);
  g_signal_connect_swapped (self->worker, "notify::step", G_CALLBACK (on_worker_progress), self);
  g_signal_connect_swapped (self->worker, "notify::texture", G_CALLBACK (on_worker_texture), self);
  g_signal_connect (self->worker, "finished", G_CALLBACK (on_worker_finished), self);
  g_signal_connect (self->worker, "failed", G_CALLBACK (on_worker_failed), self);
  g_signal_connect_swapped (self->worker, "warning", G_CALLBACK (_bw_window_show_toast), self);
  g_signal_connect_swapped (self->worker, "notify::recording", G_CALLBACK (_bw_window_update_actions), self);
  _bw_window_init_video (self);
  _bw_window_init_regions (self);

  g_signal_connect_swapped (self->style_adjustment, "value-changed", G_CALLBACK (send_weights), self);
  g_signal_connect_swapped (self->content_adjustment, "value-changed", G_CALLBACK (send_weights), self);
  g_signal_connect_swapped (self->tv_adjustment, "value-changed", G_CALLBACK (send_weights), self);
  g_signal_connect_swapped (self->steps_adjustment, "value-changed", G_CALLBACK (on_steps_changed), self);
  g_signal_connect_swapped (self->size_adjustment, "value-changed", G_CALLBACK (_bw_window_settings_changed), self);
  g_signal_connect_swapped (self->colors_row, "notify::selected", G_CALLBACK (_bw_window_settings_changed), self);
  g_signal_connect_swapped (self->style_scale_adjustment, "value-changed", G_CALLBACK (_bw_window_settings_changed), self);
  g_signal_connect_swapped (self->optimizer_row, "notify::selected", G_CALLBACK (_bw_window_settings_changed), self);
  g_signal_connect_swapped (self->preset_row, "notify::selected", G_CALLBACK (on_preset_changed), self);

  keep_run_button_width (self);
  clear_status (self);
  _bw_window_update_actions (self);
}

BwWindow *
bw_window_new (BwApplication *application)
{
  BwWindow *self = g_object_new (BW_TYPE_WINDOW, "application", application, NULL);
  g_autofree char *weights = NULL;

  self->settings = g_object_ref (bw_application_get_settings (application));
  _bw_window_bind_settings (self);
  weights = _bw_window_find_weights (self);
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
