/* bw-app-test-util.c: what the app tests share: weights, a clean environment, snapshots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "bw-alert.h"
#include "bw-app-test-util.h"
#include "bw-test-quarks.h"
#include "bw-window-private.h"
#include "vgg19/bw-vgg19-layers.h"
#include "weights/bw-weights.h"

#if defined (__SANITIZE_ADDRESS__) && GTK_CHECK_VERSION (4, 16, 0)
/* LeakSanitizer's stacks, unwound by frame pointers, end at g_malloc (GLib and GTK have
 * none), so tests/app/lsan.supp could name no GTK function, and GTK 4.18 (Debian 13) drops
 * lists that the file must name; the slow unwinder reads the libraries' unwind tables and
 * unwinds through them. Not with GTK 4.8 (Debian 12), which needs no such names: there GCC 12's
 * unwinder deadlocks against lavapipe's LLVM registering the frames of the code it compiles
 * (it allocates while holding the unwinder's lock); GCC 14's (Debian 13) looks them up without it.
 * Eight frames are enough for the names (the deepest is the fifth) and keep the slow
 * unwinder near the fast one's speed (test-window: 20 s, not 50 s with the whole stack).
 * ASAN_OPTIONS, read after this, still sets the rest. */
const char *__asan_default_options (void);

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0:malloc_context_size=8";
}
#endif

char *
bw_app_test_setup_env (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("brushwork-app-test-XXXXXX", &error);
  g_autofree char *config = NULL;
  const char *cache = g_getenv ("BRUSHWORK_TEST_CACHE");

  bw_test_grow_quarks ();
  g_assert_no_error (error);
  config = g_build_filename (dir, "config", NULL);
  g_mkdir_with_parents (config, 0700);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  /* autosaves (bw-autosave.h) away from the user's, unless a test's own subprocess is to
   * share its parent's (test-recovery) */
  if (g_getenv ("BW_APP_TEST_KEEP_STATE") == NULL)
    {
      g_autofree char *state = g_build_filename (dir, "state", NULL);

      g_setenv ("XDG_STATE_HOME", state, TRUE);
    }
  if (cache == NULL || *cache == '\0')
    {
      g_autofree char *own = g_build_filename (dir, "cache", NULL);
      g_setenv ("XDG_CACHE_HOME", own, TRUE);
    }
  else
    g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_unsetenv ("BRUSHWORK_WEIGHTS");
  return dir;
}

BwApplication *
bw_app_test_new_app (int         size,
                     int         steps,
                     const char *optimizer)
{
  BwApplication *app = bw_application_new ();
  g_autoptr(GSettings) settings = g_settings_new ("io.github.brushwork.Brushwork");

  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_settings_set_string (settings, "preset", "default");
  g_settings_set_int (settings, "size", size);
  g_settings_set_int (settings, "steps", steps);
  g_settings_set_string (settings, "optimizer", optimizer);
  g_settings_set_double (settings, "style-weight", 1e6);
  g_settings_set_double (settings, "content-weight", 1);
  g_settings_set_double (settings, "smoothness", 0);
  return app;
}

char *
bw_app_test_make_weights (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "test-weights.safetensors", NULL);
  g_autoptr(BwWeights) weights = bw_weights_new ();
  g_autoptr(GError) error = NULL;
  GRand *rand = g_rand_new_with_seed (19);

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *conv = &bw_vgg19_convs[i];
      gint64 wshape[] = { conv->out_channels, conv->in_channels, 3, 3 };
      gint64 bshape[] = { conv->out_channels };
      gsize n = (gsize) conv->out_channels * conv->in_channels * 9;
      /* torch.nn.Conv2d's own initialisation, as the engine's PyTorch tests use */
      float bound = 1.0f / sqrtf (conv->in_channels * 9);
      float *w = g_new (float, n);
      float *b = g_new (float, conv->out_channels);
      g_autofree char *wname = g_strdup_printf ("features.%d.weight", conv->module);
      g_autofree char *bname = g_strdup_printf ("features.%d.bias", conv->module);

      for (gsize k = 0; k < n; k++)
        w[k] = (float) g_rand_double_range (rand, -bound, bound);
      for (int k = 0; k < conv->out_channels; k++)
        b[k] = (float) g_rand_double_range (rand, -bound, bound);
      bw_weights_insert (weights, wname, wshape, 4, w);
      bw_weights_insert (weights, bname, bshape, 1, b);
    }
  g_rand_free (rand);
  g_assert_true (bw_weights_save_safetensors (weights, path, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

char *
bw_app_test_sample (const char *name)
{
  const char *srcdir = g_getenv ("BRUSHWORK_TEST_SRCDIR");

  g_assert_nonnull (srcdir);
  return g_build_filename (srcdir, "..", "..", "data", "samples", name, NULL);
}

GdkTexture *
bw_app_test_render (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderNode *node;
  GskRenderer *renderer;
  GdkTexture *texture;

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  /* nothing yet: the widget has not been drawn since it was shown */
  if (node == NULL)
    return NULL;
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gsk_render_node_unref (node);
  return texture;
}

double
bw_app_test_texture_diff (GdkTexture *a,
                          GdkTexture *b)
{
  int w = gdk_texture_get_width (a), h = gdk_texture_get_height (a);
  g_autofree guchar *da = NULL, *db = NULL;
  double sum = 0;

  if (w != gdk_texture_get_width (b) || h != gdk_texture_get_height (b))
    return G_MAXDOUBLE;
  da = g_malloc ((gsize) w * h * 4);
  db = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (a, da, (gsize) w * 4);
  gdk_texture_download (b, db, (gsize) w * 4);
  for (gsize i = 0; i < (gsize) w * h * 4; i++)
    sum += abs ((int) da[i] - (int) db[i]);
  return sum / ((double) w * h * 4);
}

void
bw_app_test_wait (gboolean  (*done) (gpointer),
                  gpointer    data,
                  double      timeout_s,
                  const char *what)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!done (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("Timed out after %.0f s waiting for %s", timeout_s, what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

GtkWidget *
bw_app_test_find (GtkWidget *widget,
                  GType      type,
                  int        index)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  int seen = 0;

  g_ptr_array_add (stack, widget);
  while (stack->len > 0)
    {
      GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);

      if (g_type_is_a (G_OBJECT_TYPE (w), type) && seen++ == index)
        return w;
      /* children pushed last-first so the first child is visited first */
      for (GtkWidget *c = gtk_widget_get_last_child (w); c; c = gtk_widget_get_prev_sibling (c))
        g_ptr_array_add (stack, c);
    }
  return NULL;
}

guchar *
bw_app_test_pixels (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture);
  guchar *data = g_malloc ((gsize) w * gdk_texture_get_height (texture) * 4);

  gdk_texture_download (texture, data, (gsize) w * 4);
  return data;
}

static gboolean
image_at (const guchar *hay,
          int           hay_w,
          const guchar *needle,
          int           w,
          int           h,
          int           x,
          int           y)
{
  for (int row = 0; row < h; row++)
    if (memcmp (hay + ((gsize) (y + row) * hay_w + x) * 4, needle + (gsize) row * w * 4,
                (gsize) w * 4) != 0)
      return FALSE;
  return TRUE;
}

gboolean
bw_app_test_find_image (GdkTexture *haystack,
                        GdkTexture *needle,
                        int        *x,
                        int        *y)
{
  int hw = gdk_texture_get_width (haystack), hh = gdk_texture_get_height (haystack);
  int w = gdk_texture_get_width (needle), h = gdk_texture_get_height (needle);
  g_autofree guchar *hay = bw_app_test_pixels (haystack);
  g_autofree guchar *pix = bw_app_test_pixels (needle);

  for (int j = 0; j + h <= hh; j++)
    for (int i = 0; i + w <= hw; i++)
      if (image_at (hay, hw, pix, w, h, i, j))
        {
          *x = i;
          *y = j;
          return TRUE;
        }
  return FALSE;
}

GdkTexture *
bw_app_test_render_drawn (GtkWidget *widget)
{
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (widget));
  GdkTexture *texture = NULL;

  for (int tries = 0; texture == NULL && tries < 50; tries++)
    {
      gtk_test_widget_wait_for_draw (root);
      texture = bw_app_test_render (widget);
    }
  g_assert_nonnull (texture);
  return texture;
}

GtkWidget *
bw_app_test_find_in_row (GtkWidget  *widget,
                         const char *title,
                         GType       type)
{
  GtkWidget *row;

  for (int i = 0; (row = bw_app_test_find (widget, ADW_TYPE_PREFERENCES_ROW, i)); i++)
    if (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), title) == 0)
      return bw_app_test_find (row, type, 0);
  g_error ("No row titled “%s”", title);
  return NULL;
}

gpointer
bw_app_test_controller (GtkWidget *widget,
                        GType      type)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (g_type_is_a (G_OBJECT_TYPE (c), type))
        return c;
    }
  g_error ("%s has no %s", G_OBJECT_TYPE_NAME (widget), g_type_name (type));
  return NULL;
}

void
bw_app_test_drop_file (GtkWidget  *pane,
                       const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GSList files = { file, NULL };
  GValue value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_set_boxed (&value, &files);
  g_signal_emit_by_name (bw_app_test_controller (pane, GTK_TYPE_DROP_TARGET), "drop", &value,
                         10.0, 10.0, &accepted);
  g_value_unset (&value);
  g_assert_true (accepted);
}

static void
on_saved (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (bw_window_save_finish (BW_WINDOW (object), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static gboolean
is_true (gpointer flag)
{
  return *(gboolean *) flag;
}

void
bw_app_test_save (gpointer  window,
                  GFile    *file)
{
  gboolean saved = FALSE;

  bw_window_save_async (BW_WINDOW (window), file, NULL, on_saved, &saved);
  bw_app_test_wait (is_true, &saved, 20, "the save");
}

GtkWidget *
bw_app_test_find_file_chooser (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (GTK_IS_FILE_CHOOSER_DIALOG (w) && gtk_widget_get_visible (w))
        return w;
    }
  return NULL;
}

gboolean
bw_app_test_has_file_chooser (gpointer data)
{
  return bw_app_test_find_file_chooser () != NULL;
}

gboolean
bw_app_test_has_no_file_chooser (gpointer data)
{
  return bw_app_test_find_file_chooser () == NULL;
}

gboolean
bw_app_test_has_alert (gpointer data)
{
  GtkWidget *alert = bw_alert_find (NULL);

  if (data)
    *(GtkWidget **) data = alert;
  return alert != NULL;
}

typedef struct {
  GtkFileChooser *chooser;
  const char *folder;
} InFolder;

static gboolean
chooser_in_folder (gpointer data)
{
  InFolder *f = data;
  g_autoptr(GFile) folder = gtk_file_chooser_get_current_folder (f->chooser);
  g_autoptr(GFile) file = gtk_file_chooser_get_file (f->chooser);
  g_autoptr(GFile) parent = file ? g_file_get_parent (file) : NULL;

  return folder && parent && g_str_equal (g_file_peek_path (folder), f->folder) &&
         g_str_equal (g_file_peek_path (parent), f->folder);
}

/* The answer goes to the window's GtkFileChooserNative while its dialog still shows that
 * folder: once hidden, GTK's dialog under Xvfb forgets the folder it was given and answers
 * with the one it started in. */
void
bw_app_test_accept_file_chooser (gpointer    window,
                                 const char *folder_path,
                                 const char *name)
{
  g_autoptr(GFile) folder = g_file_new_for_path (folder_path);
  g_autoptr(GError) error = NULL;
  InFolder f = { NULL, folder_path };

  bw_app_test_wait (bw_app_test_has_file_chooser, NULL, 20, "a file dialog");
  f.chooser = GTK_FILE_CHOOSER (bw_app_test_find_file_chooser ());
  gtk_file_chooser_set_current_folder (f.chooser, folder, &error);
  g_assert_no_error (error);
  gtk_file_chooser_set_current_name (f.chooser, name);
  bw_app_test_wait (chooser_in_folder, &f, 20, "the file dialog to show the test's folder");
  g_assert_nonnull (BW_WINDOW (window)->chooser);
  g_signal_emit_by_name (BW_WINDOW (window)->chooser, "response", GTK_RESPONSE_ACCEPT);
}

gboolean
bw_app_test_is_narrow (gpointer data)
{
  BwAppTestWidth *w = data;

  return gtk_widget_get_width (w->widget) <= w->width;
}
