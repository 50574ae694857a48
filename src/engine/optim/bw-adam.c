/* bw-adam.c: Adam's moments live on the device next to the parameter. */
#include "bw-adam.h"

#include "ops/bw-ops.h"

struct _BwAdam {
  GObject parent_instance;

  BwTensor *param;
  BwTensor *m, *v;
  double lr, beta1, beta2, eps;
  guint step;
};

G_DEFINE_FINAL_TYPE (BwAdam, bw_adam, G_TYPE_OBJECT)

static void
bw_adam_finalize (GObject *object)
{
  BwAdam *self = BW_ADAM (object);

  g_clear_object (&self->param);
  g_clear_object (&self->m);
  g_clear_object (&self->v);
  G_OBJECT_CLASS (bw_adam_parent_class)->finalize (object);
}

static void
bw_adam_class_init (BwAdamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_adam_finalize;
}

static void
bw_adam_init (BwAdam *self)
{
  self->beta1 = 0.9;
  self->beta2 = 0.999;
  self->eps = 1e-8;
}

BwAdam *
bw_adam_new (BwTensor  *param,
             double     lr,
             GError   **error)
{
  g_autoptr(BwAdam) self = g_object_new (BW_TYPE_ADAM, NULL);
  BwDevice *dev = bw_tensor_get_device (param);
  int c = bw_tensor_get_channels (param), h = bw_tensor_get_height (param);
  int w = bw_tensor_get_width (param);

  self->param = g_object_ref (param);
  self->lr = lr;
  self->m = bw_tensor_new (dev, c, h, w, error);
  if (self->m == NULL)
    return NULL;
  self->v = bw_tensor_new (dev, c, h, w, error);
  if (self->v == NULL)
    return NULL;
  bw_tensor_clear (self->m);
  bw_tensor_clear (self->v);
  return g_steal_pointer (&self);
}

void
bw_adam_set_lr (BwAdam *self,
                double  lr)
{
  self->lr = lr;
}

gboolean
bw_adam_step (BwAdam    *self,
              BwTensor  *grad,
              GError   **error)
{
  if (!bw_ops_adam (bw_tensor_get_device (self->param), bw_tensor_get_buffer (self->param),
                    bw_tensor_get_buffer (grad), bw_tensor_get_buffer (self->m),
                    bw_tensor_get_buffer (self->v), bw_tensor_get_n_vec4 (self->param),
                    self->lr, self->beta1, self->beta2, self->eps, self->step + 1, error))
    return FALSE;
  self->step++;
  return TRUE;
}

BwTensor *
bw_adam_get_m (BwAdam *self)
{
  return self->m;
}

BwTensor *
bw_adam_get_v (BwAdam *self)
{
  return self->v;
}

guint
bw_adam_get_step (BwAdam *self)
{
  return self->step;
}

void
bw_adam_set_step (BwAdam *self,
                  guint   step)
{
  self->step = step;
}
