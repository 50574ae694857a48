/* bw-engine.h: what a front end needs from the engine: a device with VGG19 on it, and
 * sessions. The CLI and the app go through this; neither touches Vulkan.
 */
#pragma once

#include "session/bw-session.h"

G_BEGIN_DECLS

#define BW_TYPE_ENGINE (bw_engine_get_type ())
G_DECLARE_FINAL_TYPE (BwEngine, bw_engine, BW, ENGINE, GObject)

/* Opens the Vulkan device (@device_selector: index or part of its name; NULL for
 * BRUSHWORK_DEVICE or the best one) and uploads @weights. */
BwEngine   *bw_engine_new             (const char      *device_selector,
                                       BwWeights       *weights,
                                       GError         **error);
const char *bw_engine_get_device_name (BwEngine        *self);
/* A new stylisation with @params; many may exist, one runs at a time. A lost device is
 * opened anew and painting goes on (bw_session_step()). */
BwSession  *bw_engine_new_session     (BwEngine        *self,
                                       const BwParams  *params);

/* "m:ss", or "h:mm:ss" from an hour: how the front ends show time left. */
char       *bw_engine_format_duration (double           seconds);

G_END_DECLS
