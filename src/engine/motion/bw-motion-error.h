/* bw-motion-error.h: errors of video reading and writing. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BW_MOTION_ERROR (bw_motion_error_quark ())

typedef enum {
  BW_MOTION_ERROR_FORMAT,          /* a file name or kind we do not write */
  BW_MOTION_ERROR_MISSING_PLUGIN,  /* GStreamer lacks an element we need */
  BW_MOTION_ERROR_DECODE,
  BW_MOTION_ERROR_ENCODE,
  BW_MOTION_ERROR_AUDIO,           /* the source's sound cannot be carried over; the video
                                      can still be written without it */
} BwMotionError;

GQuark bw_motion_error_quark (void);

G_END_DECLS
