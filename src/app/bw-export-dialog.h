/* bw-export-dialog.h: Export Animation: the recorded painting as a video, at the frame rate
 * and length the user picks. */
#pragma once

#include <adwaita.h>

#include "motion/bw-frame-recorder.h"

G_BEGIN_DECLS

#define BW_TYPE_EXPORT_DIALOG (bw_export_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BwExportDialog, bw_export_dialog, BW, EXPORT_DIALOG, AdwWindow)

/* @suggested_name: the file name the save dialog offers, without extension (such as
 * "chelsea-painted"); NULL for a generic one. Emits ::exported (GFile *file) when a video was
 * written, then closes. Closing it during an export cancels the export, which leaves no file. */
BwExportDialog *bw_export_dialog_new       (GtkWindow       *parent,
                                            BwFrameRecorder *recording,
                                            const char      *suggested_name);

/* Starts writing @file with the format, frame rate and length shown, in the format @file's
 * name ends with; progress, failure and ::exported follow as for the Export button. This is
 * what the save dialog's response calls (after adding the chosen format's extension to a name
 * without one). Does nothing while an export runs. */
void            bw_export_dialog_export_to (BwExportDialog  *self,
                                            GFile           *file);

G_END_DECLS
