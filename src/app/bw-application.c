/* bw-application.c: the app: command line, actions, shortcuts, settings.
 *
 *   brushwork [--content FILE] [--style FILE]... [--start] [--weights FILE] [FILE...]
 *
 * Files given without an option, or opened from a file manager, are the photo then styles.
 */
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "bw-application.h"
#include "bw-window.h"

struct _BwApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  gboolean restore_offered;
};

G_DEFINE_FINAL_TYPE (BwApplication, bw_application, ADW_TYPE_APPLICATION)

static BwWindow *
get_window (BwApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (BW_IS_WINDOW (window))
    return BW_WINDOW (window);
  return bw_window_new (self);
}

/* Presents @window; the first time, a painting an earlier run left behind is offered. */
static void
present (BwApplication *self,
         BwWindow      *window)
{
  gtk_window_present (GTK_WINDOW (window));
  if (!self->restore_offered)
    {
      self->restore_offered = TRUE;
      bw_window_offer_restore (window);
    }
}

static void
bw_application_activate (GApplication *app)
{
  present (BW_APPLICATION (app), get_window (BW_APPLICATION (app)));
}

static void
bw_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  BwWindow *window = get_window (BW_APPLICATION (app));

  bw_window_open_files (window, files, n_files);
  present (BW_APPLICATION (app), window);
}

static int
bw_application_command_line (GApplication            *app,
                             GApplicationCommandLine *cmdline)
{
  GVariantDict *options = g_application_command_line_get_options_dict (cmdline);
  g_autofree char *content = NULL;
  g_autofree char *weights = NULL;
  g_auto(GStrv) styles = NULL;
  g_auto(GStrv) remaining = NULL;
  gboolean start = FALSE;
  BwWindow *window;

  g_variant_dict_lookup (options, "content", "^ay", &content);
  g_variant_dict_lookup (options, "style", "^aay", &styles);
  g_variant_dict_lookup (options, "weights", "^ay", &weights);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^aay", &remaining);
  g_variant_dict_lookup (options, "start", "b", &start);

  window = get_window (BW_APPLICATION (app));
  if (weights)
    {
      /* relative to where the command ran, not to this process */
      g_autoptr(GFile) file = g_application_command_line_create_file_for_arg (cmdline, weights);
      g_autofree char *path = g_file_get_path (file);

      if (path)
        bw_window_set_weights_path (window, path);
    }
  if (content)
    {
      g_autoptr(GFile) file = g_application_command_line_create_file_for_arg (cmdline, content);
      bw_window_open_content (window, file);
    }
  for (int i = 0; remaining && remaining[i]; i++)
    {
      g_autoptr(GFile) file = g_application_command_line_create_file_for_arg (cmdline, remaining[i]);

      if (i == 0 && content == NULL)
        bw_window_open_content (window, file);
      else
        bw_window_add_style (window, file);
    }
  for (int i = 0; styles && styles[i]; i++)
    {
      g_autoptr(GFile) file = g_application_command_line_create_file_for_arg (cmdline, styles[i]);
      bw_window_add_style (window, file);
    }
  present (BW_APPLICATION (app), window);
  if (start)
    bw_window_start (window);
  return EXIT_SUCCESS;
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  BwApplication *self = user_data;
  const char *developers[] = { "The Brushwork developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-name", _("Brushwork"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Brushwork developers"),
                        "version", PACKAGE_VERSION,
                        "website", "https://github.com/brushwork/brushwork",
                        "issue-url", "https://github.com/brushwork/brushwork/issues",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developers", developers,
                        /* Translators: put your names here, one per line */
                        "translator-credits", _("translator-credits"),
                        "comments", _("Paint a photo in the style of a painting, with a neural network that runs on any Vulkan device."),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

/* Closing windows, not quitting outright, so each can ask about an unsaved painting.
 * A window that closes leaves the application's list, freeing the node a walk of that list
 * would read next: walk a copy, holding each window until the walk is done. */
static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));

  g_list_foreach (windows, (GFunc) (void (*) (void)) g_object_ref, NULL);
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
  g_list_free_full (windows, g_object_unref);
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
};

static void
bw_application_startup (GApplication *app)
{
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "window.close", { "<Control>w", NULL } },
    { "win.open-content", { "<Control>o", NULL } },
    { "win.add-style", { "<Control><Shift>o", NULL } },
    { "win.save", { "<Control>s", NULL } },
    { "win.start", { "<Control>Return", NULL } },
    { "win.toggle-pause", { "<Control>p", NULL } },
    { "win.stop", { "<Control>period", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };
  BwApplication *self = BW_APPLICATION (app);

  G_APPLICATION_CLASS (bw_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);
}

/* Windows go before the app does: each one's dispose stops its worker without waiting
 * (the app is held until the thread has ended, so a window closed mid-step leaves the main
 * loop running). Here the main loop is over (g_application_quit() does not wait for the
 * holds): the threads still running are waited for, so that none outlives the process's
 * exit handlers. */
static void
bw_application_shutdown (GApplication *app)
{
  GList *windows;

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))))
    gtk_window_destroy (windows->data);
  bw_worker_wait_all ();
  G_APPLICATION_CLASS (bw_application_parent_class)->shutdown (app);
}

static void
bw_application_finalize (GObject *object)
{
  BwApplication *self = BW_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (bw_application_parent_class)->finalize (object);
}

static void
bw_application_class_init (BwApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = bw_application_finalize;
  app_class->startup = bw_application_startup;
  app_class->shutdown = bw_application_shutdown;
  app_class->activate = bw_application_activate;
  app_class->open = bw_application_open;
  app_class->command_line = bw_application_command_line;
}

/* The schema as this build compiled it, from the app's resources: a build started from its
 * folder, or an install whose schema went missing, opens with its choices kept in memory
 * instead of aborting in g_settings_new(). A schema source reads only a directory, so the
 * file is written to a private one, read, and removed (the source keeps it mapped). */
static GSettingsSchema *
load_bundled_schema (GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GSettingsSchemaSource) source = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  gboolean written;

  bytes = g_resources_lookup_data ("/io/github/brushwork/Brushwork/gschemas.compiled",
                                   G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return NULL;
  dir = g_dir_make_tmp ("brushwork-schema-XXXXXX", error);
  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, "gschemas.compiled", NULL);
  written = g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                 error);
  if (written)
    source = g_settings_schema_source_new_from_directory (dir, NULL, TRUE, error);
  g_unlink (path);
  g_rmdir (dir);
  if (source == NULL)
    return NULL;
  return g_settings_schema_source_lookup (source, APP_ID, FALSE);
}

static GSettings *
create_settings (void)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsBackend) memory = NULL;
  g_autoptr(GError) error = NULL;

  if (installed != NULL)
    schema = g_settings_schema_source_lookup (installed, APP_ID, TRUE);
  if (schema != NULL)
    return g_settings_new_full (schema, NULL, NULL);

  schema = load_bundled_schema (&error);
  if (schema == NULL)
    g_error ("The app's own settings schema could not be read: %s", error->message);
  g_printerr (_("Brushwork's settings schema is not installed, so your choices will not be "
                "remembered after you quit. Install Brushwork with “meson install -C build”, or "
                "start it from the build folder with “meson devenv -C build brushwork”.\n"));
  memory = g_memory_settings_backend_new ();
  return g_settings_new_full (schema, memory, NULL);
}

static void
bw_application_init (BwApplication *self)
{
  static const GOptionEntry entries[] = {
    { "content", 'c', 0, G_OPTION_ARG_FILENAME, NULL, N_("The photo to paint"), N_("FILE") },
    { "style", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, N_("A painting to take the style from; repeat for several"), N_("FILE") },
    { "start", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Start painting at once"), NULL },
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, NULL, N_("VGG19 weights (.pth or .safetensors)"), N_("FILE") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, N_("[PHOTO [STYLE…]]") },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), N_("[PHOTO [STYLE…]]"));
  self->settings = create_settings ();
}

BwApplication *
bw_application_new (void)
{
  return g_object_new (BW_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_HANDLES_COMMAND_LINE,
                       "resource-base-path", "/io/github/brushwork/Brushwork",
                       NULL);
}

GSettings *
bw_application_get_settings (BwApplication *self)
{
  g_return_val_if_fail (BW_IS_APPLICATION (self), NULL);
  return self->settings;
}
