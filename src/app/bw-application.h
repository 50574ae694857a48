/* bw-application.h: the app: command line, actions, shortcuts, settings. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BW_TYPE_APPLICATION (bw_application_get_type ())
G_DECLARE_FINAL_TYPE (BwApplication, bw_application, BW, APPLICATION, AdwApplication)

BwApplication *bw_application_new          (void);
GSettings     *bw_application_get_settings (BwApplication *self);

G_END_DECLS
