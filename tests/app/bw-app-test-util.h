/* bw-app-test-util.h: what the app tests share: weights, a clean environment, snapshots. */
#pragma once

#include <gtk/gtk.h>

#include "bw-application.h"

/* Points XDG_CONFIG_HOME at a new temporary folder and XDG_CACHE_HOME at
 * BRUSHWORK_TEST_CACHE (compiled pipelines are reused between runs); returns the folder.
 * Call it before GTK and GStreamer start (under AddressSanitizer it makes room for their
 * quarks first). */
char       *bw_app_test_setup_env       (void);
/* An application that takes no D-Bus name (tests run side by side, and CI may have no
 * session bus), painting at @size px for @steps steps with @optimizer ("lbfgs" or "adam"), the
 * default preset and its weights: a test that moves a slider leaves no trace in the next. */
BwApplication *bw_app_test_new_app   (int         size,
                                      int         steps,
                                      const char *optimizer);
/* Writes VGG19-shaped conv weights, seeded, to @dir/test-weights.safetensors once. */
char       *bw_app_test_make_weights    (const char *dir);
/* A sample image from data/samples. */
char       *bw_app_test_sample          (const char *name);
/* Renders @widget as it is on screen now; NULL before its first frame. */
GdkTexture *bw_app_test_render          (GtkWidget  *widget);
/* Mean absolute difference of two textures' bytes, 0-255; G_MAXDOUBLE if sizes differ. */
double      bw_app_test_texture_diff    (GdkTexture *a,
                                         GdkTexture *b);
/* Runs the main loop until @done returns TRUE, failing the test after @timeout_s. */
void        bw_app_test_wait            (gboolean  (*done) (gpointer),
                                         gpointer    data,
                                         double      timeout_s,
                                         const char *what);
/* Saves @window's painting to @file through the save action's code and waits for it. */
void        bw_app_test_save            (gpointer    window,
                                         GFile      *file);
/* The first descendant of @widget of @type, in depth-first order, after @after. */
GtkWidget  *bw_app_test_find            (GtkWidget  *widget,
                                         GType       type,
                                         int         index);

/* The texture's pixels as GDK downloads them: 4 bytes each, rows of width * 4 bytes. */
guchar     *bw_app_test_pixels          (GdkTexture *texture);
/* Where @needle appears pixel for pixel, unscaled, in @haystack; FALSE if nowhere. */
gboolean    bw_app_test_find_image      (GdkTexture *haystack,
                                         GdkTexture *needle,
                                         int        *x,
                                         int        *y);
/* Runs the main loop until @widget's toplevel has laid out and drawn a frame, then renders
 * @widget as bw_app_test_render() does. */
GdkTexture *bw_app_test_render_drawn    (GtkWidget  *widget);
/* The first widget of @type inside the AdwPreferencesRow titled @title (untranslated). */
GtkWidget  *bw_app_test_find_in_row     (GtkWidget  *widget,
                                         const char *title,
                                         GType       type);
/* Drops @path on @pane as a file manager's drag delivers it, and asserts it was taken. */
void        bw_app_test_drop_file       (GtkWidget  *pane,
                                         const char *path);
/* GTK's own file dialog, shown (the tests run without portals), or NULL; and the two as
 * conditions for bw_app_test_wait(). */
GtkWidget  *bw_app_test_find_file_chooser   (void);
gboolean    bw_app_test_has_file_chooser    (gpointer    data);
gboolean    bw_app_test_has_no_file_chooser (gpointer    data);
/* The alert (bw-alert.h) showing, any heading, into *(GtkWidget **) @data: a condition
 * for bw_app_test_wait(). */
gboolean    bw_app_test_has_alert           (gpointer    data);
/* A condition for bw_app_test_wait(): @widget is at most @width wide. */
typedef struct {
  GtkWidget *widget;
  int width;
} BwAppTestWidth;
gboolean    bw_app_test_is_narrow           (gpointer    data);
/* Answers @window's file dialog (GTK's own: no portal under Xvfb) with @name in
 * @folder. */
void        bw_app_test_accept_file_chooser (gpointer    window,
                                             const char *folder,
                                             const char *name);
/* The first controller of @type on @widget; fails the test if there is none. */
gpointer    bw_app_test_controller      (GtkWidget  *widget,
                                         GType       type);
