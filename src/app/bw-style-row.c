/* bw-style-row.c: one style image in the list: its thumbnail, blend weight, a remove button. */
#include <glib/gi18n.h>

#include "bw-style-row.h"

struct _BwStyleRow
{
  AdwActionRow parent_instance;

  GtkPicture *thumbnail;
  GtkScale *blend_scale;

  GFile *file;
};

G_DEFINE_FINAL_TYPE (BwStyleRow, bw_style_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_FILE,
  PROP_TEXTURE,
  PROP_BLEND,
  N_PROPS
};

enum {
  SIGNAL_REMOVE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
on_remove_clicked (BwStyleRow *self)
{
  g_signal_emit (self, signals[SIGNAL_REMOVE], 0);
}

static void
on_blend_changed (BwStyleRow *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BLEND]);
}

static void
bw_style_row_constructed (GObject *object)
{
  BwStyleRow *self = BW_STYLE_ROW (object);
  g_autofree char *name = g_file_get_basename (self->file);
  g_autofree char *label = g_strdup_printf (_("Blend of %s"), name);

  G_OBJECT_CLASS (bw_style_row_parent_class)->constructed (object);

  /* a file name is not markup */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), name);
  /* the title shows one line, cut short: the whole name on hovering */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->blend_scale),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static void
bw_style_row_dispose (GObject *object)
{
  BwStyleRow *self = BW_STYLE_ROW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), BW_TYPE_STYLE_ROW);
  g_clear_object (&self->file);
  G_OBJECT_CLASS (bw_style_row_parent_class)->dispose (object);
}

static void
bw_style_row_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  BwStyleRow *self = BW_STYLE_ROW (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;
    case PROP_TEXTURE:
      g_value_set_object (value, gtk_picture_get_paintable (self->thumbnail));
      break;
    case PROP_BLEND:
      g_value_set_double (value, bw_style_row_get_blend (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_style_row_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  BwStyleRow *self = BW_STYLE_ROW (object);

  switch (prop_id)
    {
    case PROP_FILE:
      self->file = g_value_dup_object (value);
      break;
    case PROP_TEXTURE:
      gtk_picture_set_paintable (self->thumbnail, g_value_get_object (value));
      break;
    case PROP_BLEND:
      bw_style_row_set_blend (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bw_style_row_class_init (BwStyleRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = bw_style_row_constructed;
  object_class->dispose = bw_style_row_dispose;
  object_class->get_property = bw_style_row_get_property;
  object_class->set_property = bw_style_row_set_property;

  properties[PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BLEND] =
    g_param_spec_double ("blend", NULL, NULL, 0, 1, 1,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_REMOVE] =
    g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/brushwork/Brushwork/bw-style-row.ui");
  gtk_widget_class_bind_template_child (widget_class, BwStyleRow, thumbnail);
  gtk_widget_class_bind_template_child (widget_class, BwStyleRow, blend_scale);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_blend_changed);
}

static void
bw_style_row_init (BwStyleRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

BwStyleRow *
bw_style_row_new (GFile      *file,
                  GdkTexture *texture)
{
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  return g_object_new (BW_TYPE_STYLE_ROW, "file", file, "texture", texture, NULL);
}

GFile *
bw_style_row_get_file (BwStyleRow *self)
{
  g_return_val_if_fail (BW_IS_STYLE_ROW (self), NULL);
  return self->file;
}

double
bw_style_row_get_blend (BwStyleRow *self)
{
  g_return_val_if_fail (BW_IS_STYLE_ROW (self), 1);
  return gtk_range_get_value (GTK_RANGE (self->blend_scale));
}

void
bw_style_row_set_blend (BwStyleRow *self,
                        double      blend)
{
  g_return_if_fail (BW_IS_STYLE_ROW (self));
  gtk_range_set_value (GTK_RANGE (self->blend_scale), blend);
}
