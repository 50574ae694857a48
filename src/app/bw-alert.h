/* bw-alert.h: the app's questions and messages over a window, as AdwAlertDialog where
 * libadwaita has it (1.5+) and AdwMessageDialog before (Debian 12's 1.2), so nothing else
 * needs to know which. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

typedef struct {
  const char *id;
  const char *label;           /* with a mnemonic, "_Save…" */
  AdwResponseAppearance appearance;
} BwAlertResponse;

/* Called once, with the id of the response chosen (the close response when dismissed). */
typedef void (*BwAlertAnswered) (const char *response,
                                 gpointer    user_data);

GtkWidget  *bw_alert_ask          (GtkWindow             *parent,
                                   const char            *heading,
                                   const char            *body,
                                   const BwAlertResponse *responses,
                                   gsize                  n_responses,
                                   const char            *default_response,
                                   const char            *close_response,
                                   BwAlertAnswered        answered,
                                   gpointer               user_data);
/* A message with one "Close" response. */
GtkWidget  *bw_alert_tell         (GtkWindow             *parent,
                                   const char            *heading,
                                   const char            *body);

/* For the tests: the alert showing (over any window), with this heading or any when NULL. */
GtkWidget  *bw_alert_find         (const char            *heading);
const char *bw_alert_get_heading  (GtkWidget             *alert);
const char *bw_alert_get_body     (GtkWidget             *alert);
GtkWindow  *bw_alert_get_parent   (GtkWidget             *alert);
/* Clicks the button of @response as a person would; FALSE when there is none. */
gboolean    bw_alert_click        (GtkWidget             *alert,
                                   const char            *response);

G_END_DECLS
