/* bw-image-pane.c: a place for an image: a thumbnail, or a prompt to drop or open one.
 *
 * The pane only says what it was given (::open, ::files-dropped, ::texture-dropped); the
 * window decides what the files are for and reads them off the main thread.
 */
#include <glib/gi18n.h>

#include "bw-image-pane.h"

struct _BwImagePane
{
  GtkWidget parent_instance;

  GtkStack *stack;
  GtkPicture *picture;
  GtkLabel *title_label;
  GtkButton *open_button;
  GtkButton *replace_button;

  GdkTexture *texture;
  char *title;
  char *button_label;
};

G_DEFINE_FINAL_TYPE (BwImagePane, bw_image_pane, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_TITLE,
  PROP_BUTTON_LABEL,
  N_PROPS
};

enum {
  SIGNAL_OPEN,
  SIGNAL_FILES_DROPPED,
  SIGNAL_TEXTURE_DROPPED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         BwImagePane   *self)
{
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      if (files == NULL)
        return FALSE;
      g_signal_emit (self, signals[SIGNAL_FILES_DROPPED], 0, files);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      GSList files = { g_value_get_object (value), NULL };

      g_signal_emit (self, signals[SIGNAL_FILES_DROPPED], 0, &files);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE))
    {
      g_signal_emit (self, signals[SIGNAL_TEXTURE_DROPPED], 0, g_value_get_object (value));
      return TRUE;
    }
  return FALSE;
}

static void
on_open_clicked (BwImagePane *self)
{
  g_signal_emit (self, signals[SIGNAL_OPEN], 0);
}

static void
bw_image_pane_dispose (GObject *object)
{
  BwImagePane *self = BW_IMAGE_PANE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_IMAGE_PANE);
  /* a widget, unlike a window, unparents its own children */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  g_clear_object (&self->texture);
  G_OBJECT_CLASS (bw_image_pane_parent_class)->dispose (object);
}

static void
bw_image_pane_finalize (GObject *object)
{
  BwImagePane *self = BW_IMAGE_PANE (object);

  g_free (self->title);
  g_free (self->button_label);
  G_OBJECT_CLASS (bw_image_pane_parent_class)->finalize (object);
}

static void
bw_image_pane_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  BwImagePane *self = BW_IMAGE_PANE (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_BUTTON_LABEL:
      g_value_set_string (value, self->button_label);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_image_pane_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  BwImagePane *self = BW_IMAGE_PANE (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      bw_image_pane_set_texture (self, g_value_get_object (value));
      break;
    case PROP_TITLE:
      g_free (self->title);
      self->title = g_value_dup_string (value);
      gtk_label_set_label (self->title_label, self->title);
      break;
    case PROP_BUTTON_LABEL:
      g_free (self->button_label);
      self->button_label = g_value_dup_string (value);
      gtk_button_set_label (self->open_button, self->button_label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->open_button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, self->button_label, -1);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_image_pane_class_init (BwImagePaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bw_image_pane_dispose;
  object_class->finalize = bw_image_pane_finalize;
  object_class->get_property = bw_image_pane_get_property;
  object_class->set_property = bw_image_pane_set_property;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUTTON_LABEL] =
    g_param_spec_string ("button-label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_OPEN] =
    g_signal_new ("open", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /**
   * BwImagePane::files-dropped:
   * @files: (element-type GFile): the files, in the order given
   */
  signals[SIGNAL_FILES_DROPPED] =
    g_signal_new ("files-dropped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_TEXTURE_DROPPED] =
    g_signal_new ("texture-dropped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, GDK_TYPE_TEXTURE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-image-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, BwImagePane, stack);
  gtk_widget_class_bind_template_child (widget_class, BwImagePane, picture);
  gtk_widget_class_bind_template_child (widget_class, BwImagePane, title_label);
  gtk_widget_class_bind_template_child (widget_class, BwImagePane, open_button);
  gtk_widget_class_bind_template_child (widget_class, BwImagePane, replace_button);
  gtk_widget_class_bind_template_callback (widget_class, on_open_clicked);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "bw-image-pane");
}

static void
bw_image_pane_init (BwImagePane *self)
{
  GtkDropTarget *target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE, GDK_TYPE_TEXTURE };

  gtk_widget_init_template (GTK_WIDGET (self));

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}

GdkTexture *
bw_image_pane_get_texture (BwImagePane *self)
{
  g_return_val_if_fail (BW_IS_IMAGE_PANE (self), NULL);
  return self->texture;
}

void
bw_image_pane_set_texture (BwImagePane *self,
                           GdkTexture  *texture)
{
  g_return_if_fail (BW_IS_IMAGE_PANE (self));

  if (!g_set_object (&self->texture, texture))
    return;
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  gtk_stack_set_visible_child_name (self->stack, texture ? "image" : "empty");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}
