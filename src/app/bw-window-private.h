/* bw-window-private.h: what bw-window.c and its siblings (-open, -video, -save, -actions,
 * -settings) share: the instance struct and the functions one calls in another. */
#pragma once

#include "bw-image-pane.h"
#include "bw-loss-plot.h"
#include "bw-region-editor.h"
#include "bw-window.h"

G_BEGIN_DECLS

/* Thumbnails: the photo's is also what the compare button shows, so it is larger. */
#define CONTENT_TEXTURE_SIZE 1024
#define STYLE_TEXTURE_SIZE 256

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
  AdwComboRow *colors_row;
  GtkAdjustment *style_scale_adjustment;
  AdwComboRow *preset_row;
  AdwComboRow *optimizer_row;
  GtkStack *preview_stack;
  BwPreview *preview;
  GtkProgressBar *progress_bar;
  BwLossPlot *loss_plot;
  AdwFlap *flap;
  GtkRevealer *restart_revealer;
  GtkLabel *restart_label;

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
  GPtrArray *temporary_files;  /* pasted or dropped images stored for the worker (GFile) */

  guint restart_source;
  /* a size, preset, optimiser or colour choice the run under way has not taken yet: it
   * restarts once the changes settle, or at Resume (bw-window-settings.c) */
  gboolean restart_pending;
  gboolean reverting;
  BwParams run_params;         /* what the run under way was started with */
  guint run_preset;
  int largest_size;            /* the device's, when the last start was too large */
  guint pulse_source;
  int pending_loads;
  gboolean start_when_loaded;
  gboolean unsaved;
  gboolean close_after_save;
  /* bw-window-regions.c */
  GtkToggleButton *regions_button;
  BwRegionEditor *region_editor;
  GdkTexture *regions_photo;    /* the photo the editor's masks are for */
  gboolean applying_preset;
};

/* What a load was for, carried to its callback. */
typedef struct {
  BwWindow *window;
  GFile *file;
  gboolean as_content;
} BwWindowLoad;

/* bw-window.c */
/* TRUE once the window is closed: a callback of work it started then does nothing more. */
gboolean      _bw_window_is_closed           (BwWindow       *self);
void          _bw_window_show_toast          (BwWindow       *self,
                                              const char     *message);
/* With a button that activates @action_name with @target (floating, taken). */
void          _bw_window_show_toast_with_button (BwWindow    *self,
                                                 const char  *message,
                                                 const char  *button_label,
                                                 const char  *action_name,
                                                 GVariant    *target);
gboolean      _bw_window_is_busy             (BwWindow       *self);
guint         _bw_window_count_styles        (BwWindow       *self);
void          _bw_window_update_actions      (BwWindow       *self);
void          _bw_window_get_params          (BwWindow       *self,
                                              BwParams       *params);
void          _bw_window_queue_restart       (BwWindow       *self);
void          _bw_window_run_start           (BwWindow       *self);
gboolean      _bw_window_check_ready         (BwWindow       *self);
void          _bw_window_get_styles          (BwWindow       *self,
                                              GPtrArray      *files,
                                              GArray         *blends);

/* bw-window-open.c */
/* Counts a load as pending until _bw_window_load_finished(), so a start can wait for it. */
BwWindowLoad *_bw_window_load_new            (BwWindow       *self,
                                              GFile          *file,
                                              gboolean        as_content);
void          _bw_window_load_free           (BwWindowLoad   *load);
void          _bw_window_load_finished       (BwWindow       *self);
void          _bw_window_show_content_frame  (BwWindow       *self,
                                              GdkTexture     *texture);
void          _bw_window_show_open_dialog    (BwWindow       *self,
                                              gboolean        as_content);
void          _bw_window_paste               (BwWindow       *self);
/* Removes the stored pasted images that neither the photo nor a style is any more, once
 * nothing may still read them (no load pending, the worker idle); @all: every one, for a
 * window going away whose worker has stopped. */
void          _bw_window_remove_temporary_files (BwWindow     *self,
                                                 gboolean      all);
void          _bw_window_class_init_open     (GtkWidgetClass *widget_class);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BwWindowLoad, _bw_window_load_free)

/* bw-window-regions.c */
void          _bw_window_init_regions        (BwWindow       *self);
void          _bw_window_class_init_regions  (GtkWidgetClass *widget_class);
/* Each style's region mask, a BwImage or NULL where it has none (the array holds them), or
 * NULL when no region is painted or the photo is a video. */
GPtrArray    *_bw_window_get_masks           (BwWindow       *self);
void          _bw_window_after_start_regions (BwWindow       *self);

/* bw-window-video.c */
void          _bw_window_show_video_dialog   (BwWindow       *self);
void          _bw_window_init_video          (BwWindow       *self);

/* bw-window-save.c */
/* FALSE when another file dialog of the window is open, and this one is not shown. */
gboolean      _bw_window_show_save_dialog    (BwWindow       *self);
/* "content-style": what the save dialogs propose, before the extension. */
char         *_bw_window_dup_default_stem    (BwWindow       *self);
GtkFileChooserNative *_bw_window_new_save_chooser (BwWindow   *self,
                                                   const char *title,
                                                   const char *accept_label,
                                                   const char *name);

/* bw-window-actions.c */
void          _bw_window_class_init_actions  (GtkWidgetClass *widget_class);
void          _bw_window_init_actions        (BwWindow       *self);

/* bw-window-settings.c */
void          _bw_window_bind_settings       (BwWindow       *self);
/* A change of a setting the run cannot take: restarts after a pause, with a note. */
void          _bw_window_settings_changed    (BwWindow       *self);
/* Brings the note and its timer in line with the worker's state. */
void          _bw_window_update_restart      (BwWindow       *self);
void          _bw_window_keep_painting       (BwWindow       *self);
void          _bw_window_restart_now         (BwWindow       *self);
char         *_bw_window_find_weights        (BwWindow       *self);

G_END_DECLS
