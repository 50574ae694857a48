/* bw-alert.c: see bw-alert.h. libadwaita 1.5 deprecated AdwMessageDialog, and on GTK 4.18
 * its heading warns while measured; AdwAlertDialog replaces it, but Debian 12's libadwaita
 * (1.2) lacks it, hence the two branches, kept to this file. */
/* This file alone may call past Debian 12's libadwaita (the build's ADW_VERSION_MAX_ALLOWED),
 * and only behind ADW_CHECK_VERSION. */
#undef ADW_VERSION_MAX_ALLOWED
#include "bw-alert.h"

#include <glib/gi18n.h>

#define BW_ALERT_NEW (ADW_CHECK_VERSION (1, 5, 0))

typedef struct {
  BwAlertAnswered answered;
  gpointer user_data;
} Answer;

static void
answer_free (gpointer  data,
             GClosure *closure)
{
  g_free (data);
}

static void
on_response (GtkWidget  *alert,
             const char *response,
             Answer     *answer)
{
#if !BW_ALERT_NEW
  /* The dialog, a window of its own, outlives this handler; left transient for a parent
   * the answer may destroy, it would let go of a parent already finalised. */
  gtk_window_set_transient_for (GTK_WINDOW (alert), NULL);
#endif
  if (answer->answered)
    answer->answered (response, answer->user_data);
}

GtkWidget *
bw_alert_ask (GtkWindow             *parent,
              const char            *heading,
              const char            *body,
              const BwAlertResponse *responses,
              gsize                  n_responses,
              const char            *default_response,
              const char            *close_response,
              BwAlertAnswered        answered,
              gpointer               user_data)
{
  Answer *answer = g_new0 (Answer, 1);
  GtkWidget *alert;

  answer->answered = answered;
  answer->user_data = user_data;
#if BW_ALERT_NEW
  alert = GTK_WIDGET (adw_alert_dialog_new (heading, body));
  for (gsize i = 0; i < n_responses; i++)
    {
      adw_alert_dialog_add_response (ADW_ALERT_DIALOG (alert), responses[i].id, responses[i].label);
      adw_alert_dialog_set_response_appearance (ADW_ALERT_DIALOG (alert), responses[i].id,
                                                responses[i].appearance);
    }
  if (default_response)
    adw_alert_dialog_set_default_response (ADW_ALERT_DIALOG (alert), default_response);
  if (close_response)
    adw_alert_dialog_set_close_response (ADW_ALERT_DIALOG (alert), close_response);
  g_signal_connect_data (alert, "response", G_CALLBACK (on_response), answer, answer_free, 0);
  adw_dialog_present (ADW_DIALOG (alert), GTK_WIDGET (parent));
#else
  alert = adw_message_dialog_new (parent, heading, body);
  for (gsize i = 0; i < n_responses; i++)
    {
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (alert), responses[i].id, responses[i].label);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (alert), responses[i].id,
                                                  responses[i].appearance);
    }
  if (default_response)
    adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (alert), default_response);
  if (close_response)
    adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (alert), close_response);
  g_signal_connect_data (alert, "response", G_CALLBACK (on_response), answer, answer_free, 0);
  gtk_window_present (GTK_WINDOW (alert));
#endif
  return alert;
}

GtkWidget *
bw_alert_tell (GtkWindow  *parent,
               const char *heading,
               const char *body)
{
  const BwAlertResponse close = { "close", _("_Close"), ADW_RESPONSE_DEFAULT };

  return bw_alert_ask (parent, heading, body, &close, 1, "close", "close", NULL, NULL);
}

const char *
bw_alert_get_heading (GtkWidget *alert)
{
#if BW_ALERT_NEW
  return adw_alert_dialog_get_heading (ADW_ALERT_DIALOG (alert));
#else
  return adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (alert));
#endif
}

const char *
bw_alert_get_body (GtkWidget *alert)
{
#if BW_ALERT_NEW
  return adw_alert_dialog_get_body (ADW_ALERT_DIALOG (alert));
#else
  return adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (alert));
#endif
}

GtkWindow *
bw_alert_get_parent (GtkWidget *alert)
{
#if BW_ALERT_NEW
  return GTK_WINDOW (gtk_widget_get_root (alert));
#else
  return gtk_window_get_transient_for (GTK_WINDOW (alert));
#endif
}

GtkWidget *
bw_alert_find (const char *heading)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i);
      GtkWidget *alert = NULL;

#if BW_ALERT_NEW
      /* one closing has already left the window's visible dialog */
      if (ADW_IS_APPLICATION_WINDOW (w))
        alert = GTK_WIDGET (adw_application_window_get_visible_dialog (ADW_APPLICATION_WINDOW (w)));
      if (alert && !ADW_IS_ALERT_DIALOG (alert))
        alert = NULL;
#else
      if (ADW_IS_MESSAGE_DIALOG (w))
        alert = w;
#endif
      if (alert && gtk_widget_get_visible (alert) &&
          (heading == NULL || g_strcmp0 (bw_alert_get_heading (alert), heading) == 0))
        return alert;
    }
  return NULL;
}

static GtkWidget *
find_button (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *button = find_button (child, label);

      if (button)
        return button;
    }
  return NULL;
}

gboolean
bw_alert_click (GtkWidget  *alert,
                const char *response)
{
  const char *label;
  GtkWidget *button;

#if BW_ALERT_NEW
  if (!adw_alert_dialog_has_response (ADW_ALERT_DIALOG (alert), response))
    return FALSE;
  label = adw_alert_dialog_get_response_label (ADW_ALERT_DIALOG (alert), response);
#else
  if (!adw_message_dialog_has_response (ADW_MESSAGE_DIALOG (alert), response))
    return FALSE;
  label = adw_message_dialog_get_response_label (ADW_MESSAGE_DIALOG (alert), response);
#endif
  button = find_button (alert, label);
  if (button == NULL || !gtk_widget_is_sensitive (button))
    return FALSE;
  /* what a click ends in, at once (activating would wait for the button's animation) */
  g_signal_emit_by_name (button, "clicked");
  return TRUE;
}
