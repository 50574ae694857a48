/* bw-export-dialog.c: Export Animation: the recorded painting as a video.
 *
 * The video is written by bw_frame_recorder_export() in a GTask thread; its progress comes
 * back through the main context, to the dialog through a weak reference. Cancel, or closing
 * the dialog (its unmapping), cancels it; the recorder then leaves no file behind. The frame
 * rate and length start at their defaults each time: the settings schema has no keys for
 * them.
 */
#include <glib/gi18n.h>

#include "bw-application.h"
#include "bw-export-dialog.h"
#include "motion/bw-video-writer.h"

typedef struct {
  const char *extension;
  const char *name;           /* N_() */
} Format;

/* In the order offered; those this machine cannot write are left out. */
static const Format formats[] = {
  { ".webm", N_("WebM Video") },
  { ".webp", N_("Animated WebP") },
  { ".gif", N_("GIF") },
};

struct _BwExportDialog
{
  AdwWindow parent_instance;

  AdwPreferencesGroup *settings_group;
  AdwComboRow *format_row;
  GtkSpinButton *fps_spin;
  GtkSpinButton *length_spin;
  GtkLabel *frames_label;
  GtkLabel *error_label;
  GtkStack *stack;
  GtkButton *export_button;
  GtkProgressBar *progress_bar;
  GtkLabel *progress_label;

  BwFrameRecorder *recording;
  char *suggested_name;
  GArray *offered;            /* indices into formats[], one per row of format_row */

  GCancellable *cancellable;  /* of the export under way; NULL when none */
  GtkFileChooserNative *chooser;
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (BwExportDialog, bw_export_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_RECORDING,
  PROP_SUGGESTED_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_EXPORTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- the export thread ----------------------------------------------------------------- */

typedef struct {
  BwFrameRecorder *recording;
  GFile *file;
  char *path;
  int fps;
  double seconds;
  GWeakRef dialog;
  guint last_percent;         /* of the progress sent, so the main loop gets ~100 updates */
} Export;

static void
export_free (Export *e)
{
  g_object_unref (e->recording);
  g_object_unref (e->file);
  g_free (e->path);
  g_weak_ref_clear (&e->dialog);
  g_free (e);
}

typedef struct {
  GWeakRef dialog;
  guint done;
  guint total;
} Progress;

static void
progress_free (Progress *p)
{
  g_weak_ref_clear (&p->dialog);
  g_free (p);
}

static gboolean
show_progress (gpointer data)
{
  Progress *p = data;
  g_autoptr(BwExportDialog) self = g_weak_ref_get (&p->dialog);
  g_autofree char *text = NULL;

  /* a late update of an export that ended, or of a closed dialog */
  if (self == NULL || self->disposed || self->cancellable == NULL)
    return G_SOURCE_REMOVE;
  gtk_progress_bar_set_fraction (self->progress_bar, (double) p->done / p->total);
  /* Translators: export progress: "Frame 40 of 180" */
  text = g_strdup_printf (_("Frame %u of %u"), p->done, p->total);
  gtk_label_set_label (self->progress_label, text);
  return G_SOURCE_REMOVE;
}

/* Export thread. */
static void
on_export_progress (guint    done,
                    guint    total,
                    gpointer user_data)
{
  Export *e = user_data;
  guint percent = (guint) ((guint64) done * 100 / total);
  g_autoptr(GObject) dialog = NULL;
  Progress *p;

  if (percent == e->last_percent && done != total)
    return;
  e->last_percent = percent;
  /* never the last reference: the task holds one until its callback has run */
  dialog = g_weak_ref_get (&e->dialog);
  if (dialog == NULL)
    return;
  p = g_new0 (Progress, 1);
  g_weak_ref_init (&p->dialog, dialog);
  p->done = done;
  p->total = total;
  /* queued, never run here: g_main_context_invoke() would run it on this thread whenever
   * the main thread does not hold the context */
  g_idle_add_full (G_PRIORITY_DEFAULT, show_progress, p, (GDestroyNotify) progress_free);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Export *e = task_data;
  GError *error = NULL;

  /* source_object is only touched through weak references from here */
  if (bw_frame_recorder_export (e->recording, e->path, e->fps, e->seconds, cancellable,
                                on_export_progress, e, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* --- the dialog ------------------------------------------------------------------------ */

static void
set_busy (BwExportDialog *self,
          gboolean        busy)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->settings_group), !busy);
  gtk_stack_set_visible_child_name (self->stack, busy ? "progress" : "settings");
}

static void
show_error (BwExportDialog *self,
            const char     *message)
{
  gtk_label_set_label (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
on_export_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (object);
  Export *e = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  /* closed meanwhile: the export was cancelled (or, closed in its last instant, is done, and
   * stays: the file may have replaced one that is gone now), and there is no one to tell */
  if (self->disposed)
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (!ok)
    {
      /* stopped by the user, who knows; anything else is said as it is */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_EXPORTED], 0, e->file);
  gtk_window_destroy (GTK_WINDOW (self));
}

void
bw_export_dialog_export_to (BwExportDialog *self,
                            GFile          *file)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *path = NULL;
  Export *e;

  g_return_if_fail (BW_IS_EXPORT_DIALOG (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->cancellable || self->recording == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      show_error (self, _("That folder is not on this computer. Choose a local folder, then export again."));
      return;
    }
  gtk_spin_button_update (self->fps_spin);
  gtk_spin_button_update (self->length_spin);

  e = g_new0 (Export, 1);
  e->recording = g_object_ref (self->recording);
  e->file = g_object_ref (file);
  e->path = g_steal_pointer (&path);
  e->fps = gtk_spin_button_get_value_as_int (self->fps_spin);
  e->seconds = gtk_spin_button_get_value (self->length_spin);
  e->last_percent = G_MAXUINT;
  g_weak_ref_init (&e->dialog, self);

  self->cancellable = g_cancellable_new ();
  show_error (self, NULL);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_label (self->progress_label, "");
  set_busy (self, TRUE);

  task = g_task_new (self, self->cancellable, on_export_done, NULL);
  g_task_set_source_tag (task, bw_export_dialog_export_to);
  g_task_set_task_data (task, e, (GDestroyNotify) export_free);
  g_task_run_in_thread (task, export_thread);
}

static void
on_cancel_clicked (BwExportDialog *self)
{
  g_cancellable_cancel (self->cancellable);
}

static const Format *
selected_format (BwExportDialog *self)
{
  guint row = adw_combo_row_get_selected (self->format_row);

  if (row >= self->offered->len)
    return NULL;
  return &formats[g_array_index (self->offered, guint, row)];
}

/* @file as chosen, or with @format's extension where its name ends with none we write. */
static GFile *
with_extension (GFile        *file,
                const Format *format)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name, -1);
  g_autoptr(GFile) parent = NULL;
  g_autofree char *fixed = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_str_has_suffix (lower, formats[i].extension))
      return g_object_ref (file);
  parent = g_file_get_parent (file);
  fixed = g_strconcat (name, format->extension, NULL);
  return g_file_get_child (parent, fixed);
}

static void
on_chooser_response (GtkNativeDialog *chooser,
                     int              response,
                     BwExportDialog  *self)
{
  g_autoptr(GFile) chosen = NULL;
  g_autoptr(GFile) file = NULL;
  const Format *format = selected_format (self);

  if (response == GTK_RESPONSE_ACCEPT)
    chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (chosen == NULL || format == NULL)
    return;
  file = with_extension (chosen, format);
  bw_export_dialog_export_to (self, file);
}

/* The folder the painting was last saved in, where the video most likely goes too. */
static GFile *
dup_last_folder (BwExportDialog *self)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  GtkApplication *app = parent ? gtk_window_get_application (parent) : NULL;
  g_autofree char *folder = NULL;

  if (!BW_IS_APPLICATION (app))
    return NULL;
  folder = g_settings_get_string (bw_application_get_settings (BW_APPLICATION (app)),
                                  "last-folder");
  if (*folder == '\0' || !g_file_test (folder, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_file_new_for_path (folder);
}

static void
on_export_clicked (BwExportDialog *self)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autoptr(GFile) folder = dup_last_folder (self);
  g_autofree char *name = NULL;
  g_autofree char *pattern = NULL;
  const Format *format = selected_format (self);

  if (self->chooser || self->cancellable || format == NULL)
    return;
  name = g_strconcat (self->suggested_name, format->extension, NULL);
  gtk_file_filter_set_name (filter, _(format->name));
  gtk_file_filter_add_suffix (filter, format->extension + 1);
  self->chooser = gtk_file_chooser_native_new (_("Export Animation"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  if (folder)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Only the formats this machine writes, so a choice never fails for a missing encoder. */
static void
fill_formats (BwExportDialog *self)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  g_autoptr(GError) webm_error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *probe = g_strconcat ("animation", formats[i].extension, NULL);
      g_autoptr(GError) error = NULL;

      if (!bw_video_writer_check_format (probe, &error))
        {
          g_debug ("%s", error->message);
          if (i == 0)
            webm_error = g_steal_pointer (&error);
          continue;
        }
      g_array_append_val (self->offered, i);
      gtk_string_list_append (names, _(formats[i].name));
    }
  adw_combo_row_set_model (self->format_row, G_LIST_MODEL (names));
  if (self->offered->len == 0)
    {
      /* WebM's sentence says what to install */
      show_error (self, webm_error->message);
      gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), FALSE);
    }
}

static void
bw_export_dialog_constructed (GObject *object)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (object);
  guint n = self->recording ? bw_frame_recorder_get_n_frames (self->recording) : 0;
  g_autofree char *caption = NULL;

  G_OBJECT_CLASS (bw_export_dialog_parent_class)->constructed (object);

  if (self->suggested_name == NULL || *self->suggested_name == '\0')
    {
      g_free (self->suggested_name);
      self->suggested_name = g_strdup (_("painting"));
    }
  if (n == 0)
    {
      caption = g_strdup (_("No frames were recorded. Paint first, then export the animation."));
      gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), FALSE);
    }
  else
    caption = g_strdup_printf (ngettext ("%u frame was recorded, spread evenly over the length you choose.",
                                         "%u frames were recorded, spread evenly over the length you choose.",
                                         n), n);
  gtk_label_set_label (self->frames_label, caption);
}

static void
bw_export_dialog_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_RECORDING:
      g_set_object (&self->recording, g_value_get_object (value));
      break;
    case PROP_SUGGESTED_NAME:
      g_free (self->suggested_name);
      self->suggested_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_export_dialog_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_RECORDING:
      g_value_set_object (value, self->recording);
      break;
    case PROP_SUGGESTED_NAME:
      g_value_set_string (value, self->suggested_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Closed (or hidden): the export stops. Not left to dispose, which the task's reference on
 * the dialog holds off until the export is over. */
static void
bw_export_dialog_unmap (GtkWidget *widget)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (widget);

  g_cancellable_cancel (self->cancellable);
  GTK_WIDGET_CLASS (bw_export_dialog_parent_class)->unmap (widget);
}

static void
bw_export_dialog_dispose (GObject *object)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->recording);
  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_EXPORT_DIALOG);
  G_OBJECT_CLASS (bw_export_dialog_parent_class)->dispose (object);
}

static void
bw_export_dialog_finalize (GObject *object)
{
  BwExportDialog *self = BW_EXPORT_DIALOG (object);

  g_free (self->suggested_name);
  g_array_unref (self->offered);
  G_OBJECT_CLASS (bw_export_dialog_parent_class)->finalize (object);
}

static void
bw_export_dialog_class_init (BwExportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = bw_export_dialog_constructed;
  object_class->set_property = bw_export_dialog_set_property;
  object_class->get_property = bw_export_dialog_get_property;
  object_class->dispose = bw_export_dialog_dispose;
  object_class->finalize = bw_export_dialog_finalize;
  widget_class->unmap = bw_export_dialog_unmap;

  properties[PROP_RECORDING] =
    g_param_spec_object ("recording", NULL, NULL, BW_TYPE_FRAME_RECORDER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SUGGESTED_NAME] =
    g_param_spec_string ("suggested-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BwExportDialog::exported:
   * @file: the video written
   */
  signals[SIGNAL_EXPORTED] =
    g_signal_new ("exported", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_FILE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-export-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, settings_group);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, format_row);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, fps_spin);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, length_spin);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, frames_label);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, export_button);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BwExportDialog, progress_label);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
bw_export_dialog_init (BwExportDialog *self)
{
  self->offered = g_array_new (FALSE, FALSE, sizeof (guint));
  gtk_widget_init_template (GTK_WIDGET (self));
  fill_formats (self);
}

BwExportDialog *
bw_export_dialog_new (GtkWindow       *parent,
                      BwFrameRecorder *recording,
                      const char      *suggested_name)
{
  g_return_val_if_fail (BW_IS_FRAME_RECORDER (recording), NULL);

  return g_object_new (BW_TYPE_EXPORT_DIALOG, "transient-for", parent, "modal", TRUE,
                       "recording", recording, "suggested-name", suggested_name, NULL);
}
