/* test-ui-files: every interface file loads: each widget template through its widget, the
 * shortcuts window through GtkBuilder, and none is left out of the resource. */
#include <adwaita.h>

#include "bw-app-test-util.h"
#include "bw-export-dialog.h"
#include "bw-image-pane.h"
#include "bw-preview.h"
#include "bw-region-editor.h"
#include "bw-style-row.h"
#include "bw-weights-dialog.h"
#include "bw-window.h"

#define RESOURCES "/io/github/brushwork/Brushwork/"

static void
test_template (gconstpointer data)
{
  GType type = GPOINTER_TO_SIZE (data);
  GtkWidget *widget;

  /* a broken template is a critical, and criticals are fatal here */
  if (type == BW_TYPE_STYLE_ROW)
    {
      g_autoptr(GFile) file = g_file_new_for_path ("/nonexistent/painting.jpg");
      widget = GTK_WIDGET (bw_style_row_new (file, NULL));
    }
  else
    widget = g_object_new (type, NULL);
  g_object_ref_sink (widget);
  if (GTK_IS_WINDOW (widget))
    gtk_window_destroy (GTK_WINDOW (widget));
  g_object_unref (widget);
}

static void
test_help_overlay (void)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new ();
  g_autoptr(GError) error = NULL;
  GObject *overlay;

  gtk_builder_add_from_resource (builder, RESOURCES "gtk/help-overlay.ui", &error);
  g_assert_no_error (error);
  overlay = gtk_builder_get_object (builder, "help_overlay");
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));
  gtk_window_destroy (GTK_WINDOW (overlay));
}

/* Every file in ui/ is in the resource, so the loads above cover them all. */
static void
test_all_listed (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("BRUSHWORK_TEST_SRCDIR"), "..", "..", "ui", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  int n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = NULL;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_str_has_suffix (name, ".ui"))
        continue;
      path = g_str_equal (name, "help-overlay.ui") ? g_strdup (RESOURCES "gtk/help-overlay.ui")
                                                   : g_strconcat (RESOURCES, name, NULL);
      bytes = g_resources_lookup_data (path, 0, NULL);
      if (bytes == NULL)
        g_error ("ui/%s is not in brushwork.gresource.xml", name);
      n++;
    }
  g_assert_cmpint (n, ==, 8);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir = NULL;

  g_test_init (&argc, &argv, NULL);
  dir = bw_app_test_setup_env ();
  gtk_init ();
  adw_init ();

  g_test_add_data_func ("/ui/window", GSIZE_TO_POINTER (bw_window_get_type ()), test_template);
  g_test_add_data_func ("/ui/image-pane", GSIZE_TO_POINTER (bw_image_pane_get_type ()), test_template);
  g_test_add_data_func ("/ui/style-row", GSIZE_TO_POINTER (bw_style_row_get_type ()), test_template);
  g_test_add_data_func ("/ui/preview", GSIZE_TO_POINTER (bw_preview_get_type ()), test_template);
  g_test_add_data_func ("/ui/region-editor", GSIZE_TO_POINTER (bw_region_editor_get_type ()), test_template);
  g_test_add_data_func ("/ui/weights-dialog", GSIZE_TO_POINTER (bw_weights_dialog_get_type ()), test_template);
  g_test_add_data_func ("/ui/export-dialog", GSIZE_TO_POINTER (bw_export_dialog_get_type ()), test_template);
  g_test_add_func ("/ui/help-overlay", test_help_overlay);
  g_test_add_func ("/ui/all-listed", test_all_listed);
  return g_test_run ();
}
