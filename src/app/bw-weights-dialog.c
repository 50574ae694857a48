/* bw-weights-dialog.c: first run: fetch VGG19's weights, or point at a local copy.
 *
 * The download runs in a GTask thread (bw_weights_download() blocks); its progress comes
 * back through the main context. Closing the dialog cancels it; a later download resumes.
 * The task holds a reference on the dialog, so a closed dialog lives on, hidden, until the
 * download has stopped: what comes back then is for no one.
 */
#include <glib/gi18n.h>

#include "bw-weights-dialog.h"
#include "weights/bw-weights-download.h"

struct _BwWeightsDialog
{
  AdwWindow parent_instance;

  GtkStack *stack;
  GtkProgressBar *progress_bar;
  GtkLabel *progress_label;
  GtkLabel *error_label;
  GtkButton *download_button;

  GCancellable *cancellable;
  GtkFileChooserNative *chooser;
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (BwWeightsDialog, bw_weights_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_WEIGHTS_CHOSEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  GWeakRef dialog;
  guint64 done;
  guint64 total;
  double rate;
} Progress;

static gboolean
show_progress (gpointer data)
{
  Progress *p = data;
  g_autoptr(BwWeightsDialog) self = g_weak_ref_get (&p->dialog);
  g_autofree char *text = NULL;

  if (self == NULL || self->disposed)
    return G_SOURCE_REMOVE;
  if (p->total > 0)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, (double) p->done / p->total);
      /* Translators: download progress: "120 MB of 548 MB, 3.2 MB/s" */
      text = g_strdup_printf (_("%.0f MB of %.0f MB, %.1f MB/s"), p->done / 1e6, p->total / 1e6,
                              p->rate / 1e6);
    }
  else
    {
      gtk_progress_bar_pulse (self->progress_bar);
      text = g_strdup_printf (_("%.0f MB, %.1f MB/s"), p->done / 1e6, p->rate / 1e6);
    }
  gtk_label_set_label (self->progress_label, text);
  return G_SOURCE_REMOVE;
}

static void
progress_free (Progress *p)
{
  g_weak_ref_clear (&p->dialog);
  g_free (p);
}

/* Download thread. */
static void
on_download_progress (guint64  done,
                      guint64  total,
                      double   rate,
                      gpointer user_data)
{
  BwWeightsDialog *self = user_data;
  Progress *p = g_new0 (Progress, 1);

  g_weak_ref_init (&p->dialog, self);
  p->done = done;
  p->total = total;
  p->rate = rate;
  /* queued, never run here: g_main_context_invoke() would run it on this thread whenever
   * the main thread does not hold the context */
  g_idle_add_full (G_PRIORITY_DEFAULT, show_progress, p, (GDestroyNotify) progress_free);
}

static void
download_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  const char *dest = task_data;
  GError *error = NULL;

  /* source_object is only touched through weak references from here */
  if (bw_weights_download (NULL, NULL, dest, on_download_progress, source_object, cancellable,
                           &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
show_error (BwWeightsDialog *self,
            const char      *message)
{
  gtk_label_set_label (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  gtk_stack_set_visible_child_name (self->stack, "choose");
}

static void
on_download_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  BwWeightsDialog *self = BW_WEIGHTS_DIALOG (object);
  g_autoptr(GError) error = NULL;
  const char *dest = g_task_get_task_data (G_TASK (result));
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  /* closed meanwhile: a download that still finished stays in the cache, where the next
   * start finds it */
  if (self->disposed || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, _("The download was stopped. Start it again to resume where it left off."));
      else
        show_error (self, error->message);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_WEIGHTS_CHOSEN], 0, dest);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
bw_weights_dialog_start_download (BwWeightsDialog *self)
{
  g_autoptr(GTask) task = NULL;

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_label (self->progress_label, _("Connecting…"));
  gtk_stack_set_visible_child_name (self->stack, "progress");

  task = g_task_new (self, self->cancellable, on_download_done, NULL);
  g_task_set_source_tag (task, bw_weights_dialog_start_download);
  g_task_set_task_data (task, bw_weights_default_path (), g_free);
  g_task_run_in_thread (task, download_thread);
}

static void
on_cancel_download_clicked (BwWeightsDialog *self)
{
  g_cancellable_cancel (self->cancellable);
}

static void
on_chooser_response (GtkNativeDialog *chooser,
                     int              response,
                     BwWeightsDialog *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      show_error (self, _("That file is not on this computer. Copy it to a local folder, then choose it again."));
      return;
    }
  /* the worker reads and checks it, off the main thread, and says if it is wrong */
  g_signal_emit (self, signals[SIGNAL_WEIGHTS_CHOSEN], 0, path);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_choose_clicked (BwWeightsDialog *self)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("VGG19 Weights"));
  gtk_file_filter_add_pattern (filter, "*.pth");
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  self->chooser = gtk_file_chooser_native_new (_("Choose VGG19's Weights"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Closed: the download stops. Not left to dispose, which the task's reference on the
 * dialog holds off until the download is over. */
static void
bw_weights_dialog_unmap (GtkWidget *widget)
{
  BwWeightsDialog *self = BW_WEIGHTS_DIALOG (widget);

  g_cancellable_cancel (self->cancellable);
  GTK_WIDGET_CLASS (bw_weights_dialog_parent_class)->unmap (widget);
}

static void
bw_weights_dialog_dispose (GObject *object)
{
  BwWeightsDialog *self = BW_WEIGHTS_DIALOG (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_WEIGHTS_DIALOG);
  G_OBJECT_CLASS (bw_weights_dialog_parent_class)->dispose (object);
}

static void
bw_weights_dialog_class_init (BwWeightsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bw_weights_dialog_dispose;
  widget_class->unmap = bw_weights_dialog_unmap;

  /**
   * BwWeightsDialog::weights-chosen:
   * @path: a weights file, downloaded or chosen
   */
  signals[SIGNAL_WEIGHTS_CHOSEN] =
    g_signal_new ("weights-chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-weights-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, BwWeightsDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, BwWeightsDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BwWeightsDialog, progress_label);
  gtk_widget_class_bind_template_child (widget_class, BwWeightsDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, BwWeightsDialog, download_button);
  gtk_widget_class_bind_template_callback (widget_class, bw_weights_dialog_start_download);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_download_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_clicked);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
bw_weights_dialog_init (BwWeightsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

BwWeightsDialog *
bw_weights_dialog_new (GtkWindow *parent)
{
  return g_object_new (BW_TYPE_WEIGHTS_DIALOG, "transient-for", parent, "modal", TRUE, NULL);
}
