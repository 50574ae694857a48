/* test-preview: the preview's zoom and its comparisons, drawn and read back pixel by pixel.
 *
 * The painting and the photo are synthetic 64×48 textures whose every pixel is unique
 * (red counts columns, green rows) and differs between the two (blue), and never equals the
 * preview's background, so a rendering of the preview says exactly which image shows where
 * and at what scale.
 *
 * /preview/one-to-one: fitted, the 64×48 painting is scaled up and appears nowhere pixel
 *   for pixel; after preview.zoom-original the zoom is 1 and the rendering contains it pixel
 *   for pixel; with an image size of 128 (a frame of an early pass), zoom 1 shows it 128 px
 *   wide.
 * /preview/zoom-actions: preview.zoom-in multiplies the fitted zoom (the view's size over
 *   the image's, worked out here) by 1.25, preview.zoom-out divides it, zoom-fit returns to
 *   0; the zoom stays within 0.1-16.
 * /preview/ctrl-scroll: a real Ctrl+wheel through the X server (XTest) zooms in by 1.1 per
 *   notch and back out; the wheel without Ctrl does not zoom.
 * /preview/split: preview.split shows the photo's pixels left of the divider and the
 *   painting's right of it, at 1/2 by default; a press at a quarter of the image's width
 *   moves the divider there, a drag of half the width moves it to three quarters; holding
 *   the compare button shows the whole photo, also held with Space from the keyboard, and
 *   letting go brings the split back; toggling split off shows the whole painting.
 * /preview/controls-fade: the buttons over the image show on pointer motion (XTest), fade
 *   3 s after it rests, stay while it is on them, and fade at once when it leaves.
 * /preview/hold-compare: the compare button held with a real mouse press (XTest) shows the
 *   photo until the release, for longer than the double-click time and through a small
 *   movement.
 */
#include <adwaita.h>
#include <math.h>
#include <string.h>

#ifdef HAVE_GDK_X11
#include <gdk/x11/gdkx.h>
#include <X11/keysym.h>
#endif

#include "bw-app-test-util.h"
#include "bw-compare-picture.h"
#include "bw-preview.h"

#define W 64
#define H 48

static char *tmpdir;

/* Keeps a rendering to look at, in the test's temporary folder. */
static void
keep (GdkTexture *render,
      const char *name)
{
  g_autofree char *path = g_build_filename (tmpdir, name, NULL);

  g_assert_true (gdk_texture_save_to_png (render, path));
  g_test_message ("rendering in %s", path);
}

static GdkTexture *
make_texture (guchar blue)
{
  g_autofree guchar *data = g_malloc (W * H * 3);
  g_autoptr(GBytes) bytes = NULL;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        guchar *p = data + (y * W + x) * 3;

        p[0] = 20 + 3 * x;
        p[1] = 20 + 4 * y;
        p[2] = blue;
      }
  bytes = g_bytes_new_take (g_steal_pointer (&data), W * H * 3);
  return gdk_memory_texture_new (W, H, GDK_MEMORY_R8G8B8, bytes, W * 3);
}

typedef struct {
  GtkWindow *window;
  BwPreview *preview;
  GdkTexture *painting;
  GdkTexture *photo;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 480, 360);
  f->preview = g_object_new (BW_TYPE_PREVIEW, NULL);
  gtk_window_set_child (f->window, GTK_WIDGET (f->preview));
  f->painting = make_texture (60);
  f->photo = make_texture (180);
  bw_preview_set_texture (f->preview, f->painting);
  bw_preview_set_original (f->preview, f->photo);
  gtk_window_present (f->window);
  g_object_unref (bw_app_test_render_drawn (GTK_WIDGET (f->preview)));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (f->window);
  g_clear_object (&f->painting);
  g_clear_object (&f->photo);
}

static void
activate (Fixture    *f,
          const char *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->preview), action, NULL));
}

/* The zoom that fits the image in the view: the preview is all view. */
static double
fit_zoom (Fixture *f)
{
  return MIN ((double) gtk_widget_get_width (GTK_WIDGET (f->preview)) / W,
              (double) gtk_widget_get_height (GTK_WIDGET (f->preview)) / H);
}

static void
test_one_to_one (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GdkTexture) fitted = NULL;
  g_autoptr(GdkTexture) one = NULL;
  g_autoptr(GdkTexture) larger = NULL;
  g_autofree guchar *pixels = NULL;
  int x, y, left, right, cy, width;
  guchar background[4];

  g_assert_cmpfloat (bw_preview_get_zoom (f->preview), ==, 0);
  fitted = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  g_assert_false (bw_app_test_find_image (fitted, f->painting, &x, &y));

  activate (f, "preview.zoom-original");
  g_assert_cmpfloat (bw_preview_get_zoom (f->preview), ==, 1);
  one = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  keep (one, "one-to-one.png");
  g_assert_true (bw_app_test_find_image (one, f->painting, &x, &y));
  /* centred in the view */
  g_assert_cmpint (abs (x + W / 2 - gtk_widget_get_width (GTK_WIDGET (f->preview)) / 2), <=, 1);
  g_assert_cmpint (abs (y + H / 2 - gtk_widget_get_height (GTK_WIDGET (f->preview)) / 2), <=, 1);

  /* a frame half the painting's size is shown at the painting's size */
  bw_preview_set_image_size (f->preview, 2 * W);
  larger = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  g_assert_false (bw_app_test_find_image (larger, f->painting, &x, &y));
  pixels = bw_app_test_pixels (larger);
  width = gdk_texture_get_width (larger);
  cy = gdk_texture_get_height (larger) / 2;
  /* the run of pixels through the middle of the view that are not the background, which
   * shows in the top left corner */
  memcpy (background, pixels, 4);
  left = right = width / 2;
  while (left > 0 && memcmp (pixels + ((gsize) cy * width + left - 1) * 4, background, 4) != 0)
    left--;
  while (right < width && memcmp (pixels + ((gsize) cy * width + right) * 4, background, 4) != 0)
    right++;
  g_assert_cmpint (right - left, ==, 2 * W);
}

/* Once laid out, the view is scrolled to the middle of the image: a zoom about the view's
 * centre of an image that was centred keeps it centred. */
static void
assert_centred (Fixture *f)
{
  GtkScrolledWindow *scroller =
    GTK_SCROLLED_WINDOW (bw_app_test_find (GTK_WIDGET (f->preview), GTK_TYPE_SCROLLED_WINDOW, 0));
  GtkAdjustment *adjustments[2] = { gtk_scrolled_window_get_hadjustment (scroller),
                                    gtk_scrolled_window_get_vadjustment (scroller) };

  g_object_unref (bw_app_test_render_drawn (GTK_WIDGET (f->preview)));
  for (int i = 0; i < 2; i++)
    {
      double upper = gtk_adjustment_get_upper (adjustments[i]);
      double page = gtk_adjustment_get_page_size (adjustments[i]);

      /* zoomed past the view, or the test shows nothing */
      g_assert_cmpfloat (upper, >, page + 10);
      g_assert_cmpfloat (fabs (gtk_adjustment_get_value (adjustments[i]) - (upper - page) / 2), <=, 1);
    }
}

static void
test_zoom_actions (Fixture       *f,
                   gconstpointer  data)
{
  double fit = fit_zoom (f);

  g_assert_cmpfloat (bw_preview_get_zoom (f->preview), ==, 0);
  activate (f, "preview.zoom-in");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), fit * 1.25, 1e-9);
  assert_centred (f);
  activate (f, "preview.zoom-in");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), fit * 1.25 * 1.25, 1e-9);
  assert_centred (f);
  activate (f, "preview.zoom-out");
  activate (f, "preview.zoom-out");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), fit, 1e-9);
  activate (f, "preview.zoom-out");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), fit / 1.25, 1e-9);
  activate (f, "preview.zoom-fit");
  g_assert_cmpfloat (bw_preview_get_zoom (f->preview), ==, 0);

  for (int i = 0; i < 40; i++)
    activate (f, "preview.zoom-out");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), 0.1, 1e-9);
  for (int i = 0; i < 40; i++)
    activate (f, "preview.zoom-in");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), 16, 1e-9);
}

#ifdef HAVE_GDK_X11
typedef int (*FakeKeyFunc) (Display *, unsigned int, int, unsigned long);
typedef int (*FakeButtonFunc) (Display *, unsigned int, int, unsigned long);
typedef int (*FakeMotionFunc) (Display *, int, int, int, unsigned long);

/* Real input through the X server's XTest extension. libXtst is opened at run time: only
 * its library is needed. */
static FakeKeyFunc fake_key;
static FakeButtonFunc fake_button;
static FakeMotionFunc fake_motion;

static gboolean
xtest_load (GtkWidget *widget)
{
  static GModule *xtst;

  if (!GDK_IS_X11_DISPLAY (gtk_widget_get_display (widget)))
    return FALSE;
  if (xtst == NULL)
    {
      xtst = g_module_open ("libXtst.so.6", G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
      if (xtst == NULL ||
          !g_module_symbol (xtst, "XTestFakeKeyEvent", (gpointer *) &fake_key) ||
          !g_module_symbol (xtst, "XTestFakeButtonEvent", (gpointer *) &fake_button) ||
          !g_module_symbol (xtst, "XTestFakeMotionEvent", (gpointer *) &fake_motion))
        return FALSE;
    }
  return TRUE;
}

/* Moves the pointer to (dx, dy) from the middle of @widget. */
static Display *
xtest_move (GtkWidget *widget,
            int        dx,
            int        dy)
{
  GtkNative *native = gtk_widget_get_native (widget);
  Display *dpy = gdk_x11_display_get_xdisplay (gtk_widget_get_display (widget));
  Window child;
  graphene_point_t p;
  double nx, ny;
  int rx, ry;

  XTranslateCoordinates (dpy, gdk_x11_surface_get_xid (gtk_native_get_surface (native)),
                         DefaultRootWindow (dpy), 0, 0, &rx, &ry, &child);
  gtk_native_get_surface_transform (native, &nx, &ny);
  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native),
                                           &GRAPHENE_POINT_INIT (gtk_widget_get_width (widget) / 2 + dx,
                                                                 gtk_widget_get_height (widget) / 2 + dy),
                                           &p));
  fake_motion (dpy, -1, rx + (int) (p.x + nx), ry + (int) (p.y + ny), 0);
  XFlush (dpy);
  return dpy;
}

/* One notch of the wheel over the middle of @widget, as a mouse gives it. */
static gboolean
wheel (GtkWidget *widget,
       gboolean   control,
       gboolean   up)
{
  Display *dpy;
  KeyCode ctrl;

  if (!xtest_load (widget))
    return FALSE;
  dpy = xtest_move (widget, 0, 0);
  ctrl = XKeysymToKeycode (dpy, XK_Control_L);
  if (control)
    fake_key (dpy, ctrl, True, 0);
  fake_button (dpy, up ? 4 : 5, True, 0);
  fake_button (dpy, up ? 4 : 5, False, 0);
  if (control)
    fake_key (dpy, ctrl, False, 0);
  XFlush (dpy);
  return TRUE;
}

typedef struct {
  BwPreview *preview;
  double from;
} ZoomWait;

static gboolean
zoom_changed (gpointer data)
{
  ZoomWait *w = data;

  return bw_preview_get_zoom (w->preview) != w->from;
}

static gboolean
elapsed (gpointer data)
{
  return g_get_monotonic_time () > *(gint64 *) data;
}
#endif

static void
test_ctrl_scroll (Fixture       *f,
                  gconstpointer  data)
{
#ifdef HAVE_GDK_X11
  double fit = fit_zoom (f);
  ZoomWait w = { f->preview, 0 };
  gint64 until;

  if (!wheel (GTK_WIDGET (f->preview), TRUE, TRUE))
    {
      g_test_skip ("XTest (libXtst.so.6 on an X11 display) is not available");
      return;
    }
  bw_app_test_wait (zoom_changed, &w, 20, "the zoom after Ctrl+wheel up");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), fit * 1.1, 1e-9);
  /* about the pointer, which is at the middle */
  assert_centred (f);

  w.from = bw_preview_get_zoom (f->preview);
  g_assert_true (wheel (GTK_WIDGET (f->preview), TRUE, FALSE));
  bw_app_test_wait (zoom_changed, &w, 20, "the zoom after Ctrl+wheel down");
  g_assert_cmpfloat_with_epsilon (bw_preview_get_zoom (f->preview), fit, 1e-9);

  /* without Ctrl the wheel scrolls, and the zoom stays */
  w.from = bw_preview_get_zoom (f->preview);
  g_assert_true (wheel (GTK_WIDGET (f->preview), FALSE, TRUE));
  until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  bw_app_test_wait (elapsed, &until, 5, "half a second");
  g_assert_cmpfloat (bw_preview_get_zoom (f->preview), ==, w.from);
#else
  g_test_skip ("built without GDK's X11 backend");
#endif
}

/* Each image pixel at (ox, oy) + (x, y) of @render shows the photo left of @divider and the
 * painting right of it, but for the divider's line and its round handle. */
static void
assert_split (GdkTexture *render,
              int         ox,
              int         oy,
              GdkTexture *painting,
              GdkTexture *photo,
              int         divider)
{
  g_autofree guchar *shown = bw_app_test_pixels (render);
  g_autofree guchar *left = bw_app_test_pixels (photo);
  g_autofree guchar *right = bw_app_test_pixels (painting);
  int width = gdk_texture_get_width (render);
  int n_left = 0, n_right = 0;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        const guchar *want = (x < divider ? left : right) + (y * W + x) * 4;
        const guchar *got = shown + ((gsize) (oy + y) * width + ox + x) * 4;

        if (abs (x - divider) <= 2 || (abs (x - divider) <= 16 && abs (y - H / 2) <= 16))
          continue;
        if (memcmp (want, got, 4) != 0)
          g_error ("image pixel %d,%d (divider at %d) shows %02x%02x%02x%02x, not the %s's %02x%02x%02x%02x",
                   x, y, divider, got[0], got[1], got[2], got[3], x < divider ? "photo" : "painting",
                   want[0], want[1], want[2], want[3]);
        if (x < divider)
          n_left++;
        else
          n_right++;
      }
  /* both sides were looked at */
  g_assert_cmpint (n_left, >, 100);
  g_assert_cmpint (n_right, >, 100);
}

/* The button that shows the photo while held. */
static GtkWidget *
compare_button (BwPreview *preview)
{
  for (int i = 0;; i++)
    {
      GtkWidget *button = bw_app_test_find (GTK_WIDGET (preview), GTK_TYPE_BUTTON, i);

      g_assert_nonnull (button);
      if (g_strcmp0 (gtk_widget_get_tooltip_text (button), "Hold to See the Photo") == 0)
        return button;
    }
}

static void
test_split (Fixture       *f,
            gconstpointer  data)
{
  GtkWidget *picture = bw_app_test_find (GTK_WIDGET (f->preview), BW_TYPE_COMPARE_PICTURE, 0);
  GtkGestureDrag *drag = bw_app_test_controller (picture, GTK_TYPE_GESTURE_DRAG);
  g_autoptr(GdkTexture) render = NULL;
  GtkEventController *key;
  GtkWidget *compare;
  gboolean handled = FALSE;
  graphene_point_t at;
  int ox, oy, x, y;

  activate (f, "preview.zoom-original");
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  g_assert_true (bw_app_test_find_image (render, f->painting, &ox, &oy));

  activate (f, "preview.split");
  g_assert_true (bw_preview_get_split (f->preview));
  g_clear_object (&render);
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  assert_split (render, ox, oy, f->painting, f->photo, W / 2);

  /* a press at a quarter of the image moves the divider there */
  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (f->preview), picture,
                                           &GRAPHENE_POINT_INIT (ox + W / 4 + 0.5, oy + H / 2), &at));
  g_signal_emit_by_name (drag, "drag-begin", (double) at.x, (double) at.y);
  g_assert_cmpfloat (fabs (bw_preview_get_split_position (f->preview) - 0.25), <, 1.0 / W);
  g_clear_object (&render);
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  assert_split (render, ox, oy, f->painting, f->photo, W / 4);
  keep (render, "split-quarter.png");

  /* and a drag carries it along */
  g_signal_emit_by_name (drag, "drag-update", (double) W / 2, 0.0);
  g_signal_emit_by_name (drag, "drag-end", (double) W / 2, 0.0);
  g_assert_cmpfloat (fabs (bw_preview_get_split_position (f->preview) - 0.75), <, 1.0 / W);
  g_clear_object (&render);
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  assert_split (render, ox, oy, f->painting, f->photo, 3 * W / 4);

  /* holding the compare button, here with the keyboard (Space on the focused button), still
   * shows the whole photo, and letting go brings the split back */
  compare = compare_button (f->preview);
  key = bw_app_test_controller (compare, GTK_TYPE_EVENT_CONTROLLER_KEY);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_space, 0, 0, &handled);
  g_assert_true (handled);
  g_clear_object (&render);
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  g_assert_true (bw_app_test_find_image (render, f->photo, &x, &y));
  g_assert_cmpint (x, ==, ox);
  g_assert_cmpint (y, ==, oy);
  g_signal_emit_by_name (key, "key-released", GDK_KEY_space, 0, 0);
  g_clear_object (&render);
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  assert_split (render, ox, oy, f->painting, f->photo, 3 * W / 4);

  activate (f, "preview.split");
  g_assert_false (bw_preview_get_split (f->preview));
  g_clear_object (&render);
  render = bw_app_test_render_drawn (GTK_WIDGET (f->preview));
  g_assert_true (bw_app_test_find_image (render, f->painting, &x, &y));
  g_assert_cmpint (x, ==, ox);
  g_assert_cmpint (y, ==, oy);
}

static gboolean
shows_photo (gpointer picture)
{
  return bw_compare_picture_get_show_original (picture);
}

static gboolean
shows_painting (gpointer picture)
{
  return !bw_compare_picture_get_show_original (picture);
}

/* The compare button held with the mouse, through the X server: the photo shows from the
 * press until the release, past the double-click time (after which a click gesture
 * "stops") and through a small movement of the hand, with the button's own click
 * handling on the same press. */
static void
test_hold_compare (Fixture       *f,
                   gconstpointer  data)
{
#ifdef HAVE_GDK_X11
  GtkWidget *picture = bw_app_test_find (GTK_WIDGET (f->preview), BW_TYPE_COMPARE_PICTURE, 0);
  GtkWidget *compare = compare_button (f->preview);
  Display *dpy;
  gint64 until;

  if (!xtest_load (compare))
    {
      g_test_skip ("XTest (libXtst.so.6 on an X11 display) is not available");
      return;
    }
  g_assert_false (bw_compare_picture_get_show_original (BW_COMPARE_PICTURE (picture)));
  dpy = xtest_move (compare, 0, 0);
  fake_button (dpy, 1, True, 0);
  XFlush (dpy);
  bw_app_test_wait (shows_photo, picture, 20, "the photo on the press");

  /* held: a second, far past GTK's double-click time (400 ms by default) */
  until = g_get_monotonic_time () + G_USEC_PER_SEC;
  bw_app_test_wait (elapsed, &until, 5, "a second of holding");
  g_assert_true (bw_compare_picture_get_show_original (BW_COMPARE_PICTURE (picture)));
  /* the hand moves a little, still on the button */
  xtest_move (compare, 3, 2);
  until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  bw_app_test_wait (elapsed, &until, 5, "half a second more");
  g_assert_true (bw_compare_picture_get_show_original (BW_COMPARE_PICTURE (picture)));

  fake_button (dpy, 1, False, 0);
  XFlush (dpy);
  bw_app_test_wait (shows_painting, picture, 20, "the painting on the release");
#else
  g_test_skip ("built without GDK's X11 backend");
#endif
}

static gboolean
controls_shown (gpointer preview)
{
  return bw_preview_get_controls_shown (preview);
}

static gboolean
controls_faded (gpointer preview)
{
  return !bw_preview_get_controls_shown (preview);
}

/* As in Loupe: the zoom and compare buttons show while the pointer moves over the image,
 * fade once it rests (3 s) or leaves, and stay while it is on them. */
static void
test_controls_fade (Fixture       *f,
                    gconstpointer  data)
{
#ifdef HAVE_GDK_X11
  GtkWidget *compare = compare_button (f->preview);
  Display *dpy;
  gint64 moved, faded_after;

  if (!xtest_load (compare))
    {
      g_test_skip ("XTest (libXtst.so.6 on an X11 display) is not available");
      return;
    }
  xtest_move (GTK_WIDGET (f->preview), -40, -30);
  xtest_move (GTK_WIDGET (f->preview), -30, -20);
  moved = g_get_monotonic_time ();
  bw_app_test_wait (controls_shown, f->preview, 5, "the controls on moving");
  bw_app_test_wait (controls_faded, f->preview, 10, "the controls to fade");
  faded_after = g_get_monotonic_time () - moved;
  g_test_message ("faded %.2f s after the pointer rested", faded_after / 1e6);
  /* the rest is 3 s; the motion may have come a moment after it was made */
  g_assert_cmpint (faded_after, >=, 3 * G_USEC_PER_SEC - G_USEC_PER_SEC / 10);

  /* on the controls they stay */
  xtest_move (compare, 0, 0);
  bw_app_test_wait (controls_shown, f->preview, 5, "the controls under the pointer");
  moved = g_get_monotonic_time () + 4 * G_USEC_PER_SEC;
  bw_app_test_wait (elapsed, &moved, 6, "four seconds on the controls");
  g_assert_true (bw_preview_get_controls_shown (f->preview));

  /* leaving the window hides them at once */
  dpy = xtest_move (compare, 0, 0);
  fake_motion (dpy, -1, 1270, 790, 0);
  XFlush (dpy);
  bw_app_test_wait (controls_faded, f->preview, 2, "the controls to fade on leaving");
#else
  g_test_skip ("built without GDK's X11 backend");
#endif
}

/* Without the photo there is nothing to compare: the split action is off. */
static void
test_split_needs_photo (Fixture       *f,
                        gconstpointer  data)
{
  bw_preview_set_original (f->preview, NULL);
  gtk_widget_activate_action (GTK_WIDGET (f->preview), "preview.split", NULL);
  g_assert_false (bw_preview_get_split (f->preview));
  bw_preview_set_original (f->preview, f->photo);
  activate (f, "preview.split");
  g_assert_true (bw_preview_get_split (f->preview));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = bw_app_test_setup_env ();
  gtk_init ();
  adw_init ();

  g_test_add ("/preview/one-to-one", Fixture, NULL, fixture_set_up, test_one_to_one, fixture_tear_down);
  g_test_add ("/preview/zoom-actions", Fixture, NULL, fixture_set_up, test_zoom_actions, fixture_tear_down);
  g_test_add ("/preview/ctrl-scroll", Fixture, NULL, fixture_set_up, test_ctrl_scroll, fixture_tear_down);
  g_test_add ("/preview/split", Fixture, NULL, fixture_set_up, test_split, fixture_tear_down);
  g_test_add ("/preview/hold-compare", Fixture, NULL, fixture_set_up, test_hold_compare, fixture_tear_down);
  g_test_add ("/preview/controls-fade", Fixture, NULL, fixture_set_up, test_controls_fade, fixture_tear_down);
  g_test_add ("/preview/split-needs-photo", Fixture, NULL, fixture_set_up, test_split_needs_photo, fixture_tear_down);
  status = g_test_run ();
  g_free (tmpdir);
  return status;
}
