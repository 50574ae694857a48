/* test-accessibility: every control a screen reader meets has a name, and every button that
 * shows only an icon has a tooltip.
 *
 * GTK's test accessibility backend (GTK_A11Y=test) keeps the accessible properties a real
 * backend would send, so the test reads what a screen reader would: a control is named when
 * it has an accessible label (a button with a text label gets one from GTK) or, for a row, a
 * title. The whole window is walked, hidden pages included (but not what is hidden and not
 * Brushwork's: see audit), with a photo and a
 * style row in it, and the weights and export dialogs too. The insides of GTK's and libadwaita's own
 * composite controls (a spin button's +/-, a combo row's list) are theirs, not ours.
 *
 * /a11y/window, /a11y/weights-dialog, /a11y/export-dialog: no control without a name, no
 *   icon-only button
 *   without a tooltip; the message names each one that fails.
 * /a11y/detects: the check itself fails on an icon-only button without either, and leaves
 *   out a hidden one.
 */
#include <adwaita.h>
#include <stdio.h>

#include "bw-app-test-util.h"
#include "bw-export-dialog.h"
#include "bw-image-pane.h"
#include "bw-style-row.h"
#include "bw-weights-dialog.h"
#include "bw-window.h"

static char *tmpdir;

static gboolean
is_named (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);

  if (ADW_IS_PREFERENCES_ROW (widget))
    {
      const char *title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget));

      if (title && *title)
        return TRUE;
    }
  if (gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL))
    return TRUE;
  /* "Labelled by" only for a button whose child is a label with text: GTK sets that relation
   * on every button, to its child, which for an icon is an image without a name. GTK 4.8
   * also copies a button's text into its label property; GTK 4.18 (trixie) names it by the
   * relation alone. */
  if (GTK_IS_BUTTON (widget) && GTK_IS_LABEL (gtk_button_get_child (GTK_BUTTON (widget))))
    {
      const char *text = gtk_label_get_text (GTK_LABEL (gtk_button_get_child (GTK_BUTTON (widget))));

      return *text != '\0' &&
             gtk_test_accessible_has_relation (accessible, GTK_ACCESSIBLE_RELATION_LABELLED_BY);
    }
  return FALSE;
}

static gboolean
is_icon_only (GtkWidget *widget)
{
  if (GTK_IS_MENU_BUTTON (widget))
    return gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (widget)) != NULL &&
           gtk_menu_button_get_label (GTK_MENU_BUTTON (widget)) == NULL;
  if (GTK_IS_BUTTON (widget))
    return gtk_button_get_label (GTK_BUTTON (widget)) == NULL &&
           GTK_IS_IMAGE (gtk_button_get_child (GTK_BUTTON (widget)));
  return FALSE;
}

/* What a user operates or reads as content. */
static gboolean
is_control (GtkWidget *widget)
{
  static GType types[16];
  GtkAccessibleRole role = gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget));

  if (role == GTK_ACCESSIBLE_ROLE_PRESENTATION || role == GTK_ACCESSIBLE_ROLE_NONE)
    return FALSE;
  if (types[0] == 0)
    {
      int i = 0;

      types[i++] = GTK_TYPE_BUTTON;
      types[i++] = GTK_TYPE_MENU_BUTTON;
      types[i++] = GTK_TYPE_RANGE;
      types[i++] = GTK_TYPE_SPIN_BUTTON;
      types[i++] = GTK_TYPE_SWITCH;
      types[i++] = GTK_TYPE_CHECK_BUTTON;
      types[i++] = GTK_TYPE_ENTRY;
      types[i++] = GTK_TYPE_PROGRESS_BAR;
      types[i++] = GTK_TYPE_PICTURE;
      types[i++] = ADW_TYPE_PREFERENCES_ROW;
      types[i++] = g_type_from_name ("BwComparePicture");
      types[i++] = g_type_from_name ("BwLossPlot");
      g_assert_cmpint (i, <, (int) G_N_ELEMENTS (types));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (types) && types[i]; i++)
    if (g_type_is_a (G_OBJECT_TYPE (widget), types[i]))
      return TRUE;
  return FALSE;
}

/* Composite controls whose insides their library names. */
static gboolean
is_opaque (GtkWidget *widget)
{
  return GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget) || GTK_IS_SPIN_BUTTON (widget) ||
         GTK_IS_RANGE (widget) || GTK_IS_SWITCH (widget) || GTK_IS_SCROLLBAR (widget) ||
         GTK_IS_WINDOW_CONTROLS (widget) || GTK_IS_POPOVER (widget) || ADW_IS_COMBO_ROW (widget) ||
         GTK_IS_PROGRESS_BAR (widget);
}

static void
describe (GString   *out,
          GtkWidget *widget)
{
  g_string_append (out, G_OBJECT_TYPE_NAME (widget));
  for (GtkWidget *w = gtk_widget_get_parent (widget); w; w = gtk_widget_get_parent (w))
    if (gtk_widget_get_tooltip_text (w) || ADW_IS_PREFERENCES_ROW (w) || GTK_IS_ROOT (w))
      {
        g_string_append_printf (out, " in %s", G_OBJECT_TYPE_NAME (w));
        if (ADW_IS_PREFERENCES_ROW (w))
          g_string_append_printf (out, " “%s”", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (w)));
        break;
      }
  if (GTK_IS_BUTTON (widget) && gtk_button_get_icon_name (GTK_BUTTON (widget)))
    g_string_append_printf (out, " (icon %s)", gtk_button_get_icon_name (GTK_BUTTON (widget)));
}

/* Whether a hidden @widget is one of Brushwork's own, declared with an id in the template of
 * a Brushwork widget above it (the video scrubber, shown only for a video): those are
 * checked as they will be shown. */
static gboolean
is_ours (GtkWidget *widget)
{
  const char *id = gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget));

  if (id == NULL)
    return FALSE;
  for (GtkWidget *w = gtk_widget_get_parent (widget); w; w = gtk_widget_get_parent (w))
    if (g_str_has_prefix (G_OBJECT_TYPE_NAME (w), "Bw") &&
        gtk_widget_get_template_child (w, G_OBJECT_TYPE (w), id) == (GObject *) widget)
      return TRUE;
  return FALSE;
}

/* Every unnamed control and tooltip-less icon button under @root, one per line. A hidden
 * widget is left out, with all under it, unless it is ours: it is not in the accessible
 * tree, so no screen reader meets it, and the libraries keep some (libadwaita 1.7's header
 * bar a back button, for a navigation view). */
static char *
audit (GtkWidget *root)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  GString *problems = g_string_new (NULL);
  int n_controls = 0;

  g_ptr_array_add (stack, root);
  while (stack->len > 0)
    {
      GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);

      if (w != root && !gtk_widget_get_visible (w) && !is_ours (w))
        {
          g_test_message ("hidden, left out: %s", G_OBJECT_TYPE_NAME (w));
          continue;
        }
      if (is_control (w))
        {
          n_controls++;
          if (!is_named (w))
            {
              g_string_append (problems, "no accessible name: ");
              describe (problems, w);
              g_string_append_c (problems, '\n');
            }
          if (is_icon_only (w) && gtk_widget_get_tooltip_text (w) == NULL)
            {
              g_string_append (problems, "icon-only, no tooltip: ");
              describe (problems, w);
              g_string_append_c (problems, '\n');
            }
        }
      if (is_opaque (w))
        continue;
      for (GtkWidget *c = gtk_widget_get_last_child (w); c; c = gtk_widget_get_prev_sibling (c))
        g_ptr_array_add (stack, c);
    }
  g_test_message ("%d controls checked", n_controls);
  g_assert_cmpint (n_controls, >, 0);
  return g_string_free (problems, problems->len == 0);
}

static gboolean
has_texture (gpointer pane)
{
  return bw_image_pane_get_texture (pane) != NULL;
}

static gboolean
has_style (gpointer window)
{
  return bw_app_test_find (window, BW_TYPE_STYLE_ROW, 0) != NULL;
}

static void
test_window (void)
{
  g_autoptr(BwApplication) app = bw_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *content = bw_app_test_sample ("chelsea.png");
  g_autofree char *style = bw_app_test_sample ("starry-night.jpg");
  g_autofree char *problems = NULL;
  BwWindow *window;

  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = bw_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0), content);
  bw_app_test_drop_file (bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 1), style);
  bw_app_test_wait (has_texture, bw_app_test_find (GTK_WIDGET (window), BW_TYPE_IMAGE_PANE, 0),
                    20, "the photo");
  bw_app_test_wait (has_style, window, 20, "the style row");

  problems = audit (GTK_WIDGET (window));
  if (problems)
    g_error ("Controls a screen reader cannot name:\n%s", problems);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_weights_dialog (void)
{
  GtkWindow *parent = GTK_WINDOW (gtk_window_new ());
  BwWeightsDialog *dialog = bw_weights_dialog_new (parent);
  g_autofree char *problems = audit (GTK_WIDGET (dialog));

  if (problems)
    g_error ("Controls a screen reader cannot name:\n%s", problems);
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (parent);
}

static void
test_export_dialog (void)
{
  g_autoptr(BwFrameRecorder) recording = bw_frame_recorder_new (32, 24, 8);
  g_autoptr(BwImage) frame = bw_image_new_take (32, 24, g_new0 (float, 32 * 24 * 3));
  BwExportDialog *dialog;
  g_autofree char *problems = NULL;

  /* with frames, so that Export is on as a user meets it */
  bw_frame_recorder_add (recording, frame);
  bw_frame_recorder_add (recording, frame);
  dialog = bw_export_dialog_new (NULL, recording, "painting");
  problems = audit (GTK_WIDGET (dialog));
  if (problems)
    g_error ("Controls a screen reader cannot name:\n%s", problems);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* The audit is no formality: a bare icon button fails it twice, unless it is hidden. */
static void
test_detects (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *named = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  GtkWidget *hidden;
  g_autofree char *problems = NULL;
  g_auto(GStrv) lines = NULL;

  g_object_ref_sink (box);
  gtk_widget_set_tooltip_text (named, "Copy");
  gtk_accessible_update_property (GTK_ACCESSIBLE (named), GTK_ACCESSIBLE_PROPERTY_LABEL, "Copy", -1);
  gtk_box_append (GTK_BOX (box), named);
  gtk_box_append (GTK_BOX (box), gtk_button_new_with_label ("Paste"));
  gtk_box_append (GTK_BOX (box), gtk_button_new_from_icon_name ("edit-delete-symbolic"));
  /* a hidden one, as libadwaita's header bar keeps, is in no screen reader's way */
  hidden = gtk_button_new_from_icon_name ("go-previous-symbolic");
  gtk_widget_set_visible (hidden, FALSE);
  gtk_box_append (GTK_BOX (box), hidden);

  problems = audit (box);
  g_assert_nonnull (problems);
  g_test_message ("%s", problems);
  lines = g_strsplit (problems, "\n", -1);
  /* two problems, then the empty string after the last newline */
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_cmpstr (lines[0], ==, "no accessible name: GtkButton (icon edit-delete-symbolic)");
  g_assert_cmpstr (lines[1], ==, "icon-only, no tooltip: GtkButton (icon edit-delete-symbolic)");
  g_object_unref (box);
}

/* The test backend reports every state change on stdout, which carries TAP: leave those
 * out, pass the rest. */
static void
print_tap (const char *text)
{
  if (!g_str_has_prefix (text, "Accessible state changed"))
    {
      fputs (text, stdout);
      fflush (stdout);
    }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  /* before GTK starts: the backend that keeps what a screen reader would be told */
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_set_print_handler (print_tap);
  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  gtk_init ();
  adw_init ();

  g_test_add_func ("/a11y/window", test_window);
  g_test_add_func ("/a11y/weights-dialog", test_weights_dialog);
  g_test_add_func ("/a11y/export-dialog", test_export_dialog);
  g_test_add_func ("/a11y/detects", test_detects);
  status = g_test_run ();
  g_free (tmpdir);
  return status;
}
