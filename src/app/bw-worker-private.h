/* bw-worker-private.h: what bw-worker.c and its siblings (-video, -autosave) share: the
 * messages, the reports, the thread's state and the functions one calls in another. */
#pragma once

#include "bw-autosave.h"
#include "bw-worker.h"
#include "motion/bw-video-job.h"

G_BEGIN_DECLS

typedef enum {
  MSG_WEIGHTS_PATH,
  MSG_START,
  MSG_VIDEO,
  MSG_PAUSE,
  MSG_RESUME,
  MSG_STOP,
  MSG_SET_WEIGHTS,
  MSG_SET_N_STEPS,
  MSG_RESTORE,
  MSG_FORGET_AUTOSAVE,
  MSG_QUIT,
} MessageKind;

typedef struct {
  MessageKind kind;
  BwParams params;
  char *path;            /* weights, or the content image or video */
  double position;       /* the video frame to paint, in seconds */
  char *output;          /* MSG_VIDEO: the stylised video */
  GPtrArray *styles;     /* paths */
  GArray *blends;        /* doubles */
  GPtrArray *masks;      /* per style, its region mask over the photo (BwImage) or NULL */
  double weights[3];
  int n_steps;           /* MSG_SET_N_STEPS; MSG_VIDEO: of the frames after the first */
  BwAutosave *autosave;  /* MSG_RESTORE */
} Message;

typedef enum {
  REPORT_STATE,
  REPORT_PROGRESS,
  REPORT_FRAME,
  REPORT_FINISHED,
  REPORT_FAILED,
  REPORT_DEVICE,
  REPORT_RECORDING,
  REPORT_WARNING,
  REPORT_DONE,           /* the thread has ended */
} ReportKind;

typedef struct {
  BwWorker *worker;      /* a reference, dropped on the main thread */
  ReportKind kind;
  BwWorkerState state;
  int step;
  int n_steps;
  int frame;
  int n_frames;
  BwLossValues losses;
  double seconds_left;
  gboolean completed;
  BwImage *image;
  GdkTexture *texture;
  BwFrameRecorder *recording;
  GError *error;
  int largest_size;      /* REPORT_FAILED: the largest size that fits, or 0 */
  char *text;
} Report;

/* What only the thread touches. */
typedef struct {
  char *weights_path;
  BwEngine *engine;
  BwSession *session;
  BwFrameRecorder *recording;
  int n_steps;
  gboolean paused;
  int largest_size;      /* of the last start too large for the device */
  /* while a video is stylised (bw_video_job_run() holds the thread) */
  BwVideoJob *video;
  GCancellable *video_cancellable;
  GQueue deferred;       /* messages that end the video, handled after it */
  /* the photo's painting in progress, kept on disk (bw-autosave.h); the one it replaces,
   * removed once the new one is written */
  BwAutosave *autosave, *autosave_old;
  gint64 autosaved_at;
  /* a restored painting (MSG_RESTORE): the next start with the same photo and paintings
   * goes on from its image and step */
  BwAutosave *restored;
  BwImage *restored_image;
  int step_offset;       /* the steps the restored painting had done */
} ThreadState;

struct _BwWorker
{
  GObject parent_instance;

  GThread *thread;
  gboolean shutting_down;
  GApplication *held;    /* held from shutdown until the thread has ended */
  GAsyncQueue *queue;
  /* frames the main thread has not shown yet; the thread skips frames while one waits, so a
   * slow main loop never falls behind the engine */
  gint frames_pending;

  /* main thread only */
  BwWorkerState state;
  int step;
  int n_steps;
  int frame;
  int n_frames;
  BwLossValues losses;
  double seconds_left;
  BwImage *image;
  GdkTexture *texture;
  BwFrameRecorder *recording;
  char *device_name;
  int largest_size;
  BwParams sent_params;  /* of the last start */
  GPtrArray *sent_masks; /* of the last start, or NULL */
};

/* bw-worker.c */
void       _bw_worker_message_free  (Message            *msg);
/* Worker thread: hands a report to the main thread, where it is applied in order. */
void       _bw_worker_post          (BwWorker           *self,
                                     Report             *report);
void       _bw_worker_post_state    (BwWorker           *self,
                                     BwWorkerState       state);
void       _bw_worker_post_failure  (BwWorker           *self,
                                     ThreadState        *ts,
                                     GError             *error);
void       _bw_worker_post_frame    (BwWorker           *self,
                                     BwSession          *session,
                                     BwImage            *image,
                                     gboolean            always);
void       _bw_worker_post_text     (BwWorker           *self,
                                     ReportKind          kind,
                                     const char         *text);
void       _bw_worker_end_run       (BwWorker           *self,
                                     ThreadState        *ts,
                                     gboolean            completed);
BwEngine  *_bw_worker_open_engine   (BwWorker           *self,
                                     ThreadState        *ts,
                                     GError            **error);
GPtrArray *_bw_worker_load_styles   (Message            *msg,
                                     GError            **error);
void       _bw_worker_on_device_lost (BwSession         *session,
                                      int                losses,
                                      BwWorker          *self);
void       _bw_worker_on_replanned  (BwSession          *session,
                                     BwWorker           *self);

/* bw-worker-autosave.c */
void       _bw_worker_autosave_now    (ThreadState      *ts);
/* after a step: the first one, and then every AUTOSAVE_SECONDS, or @always */
void       _bw_worker_autosave_maybe  (ThreadState      *ts,
                                       gboolean          always);
void       _bw_worker_autosave_forget (ThreadState      *ts);
gboolean   _bw_worker_same_painting   (const BwAutosave *restored,
                                       const Message    *msg);
void       _bw_worker_restore         (BwWorker         *self,
                                       ThreadState      *ts,
                                       Message          *msg);

/* bw-worker-video.c */
void       _bw_worker_run_video       (BwWorker         *self,
                                       ThreadState      *ts,
                                       Message          *msg);

G_END_DECLS
