/* bw-engine.c: see bw-engine.h. */
#include "bw-engine.h"

#include <math.h>

struct _BwEngine {
  GObject parent_instance;

  BwDevice *device;
  BwVgg19 *vgg;
  /* to open the device anew after it was lost: the conv layers' weights stay on the host
   * (~80 MB), which spares reading the file again */
  char *device_selector;
  BwWeights *weights;
};

G_DEFINE_FINAL_TYPE (BwEngine, bw_engine, G_TYPE_OBJECT)

static void
bw_engine_finalize (GObject *object)
{
  BwEngine *self = BW_ENGINE (object);

  g_clear_object (&self->vgg);
  g_clear_object (&self->device);
  g_clear_object (&self->weights);
  g_free (self->device_selector);
  G_OBJECT_CLASS (bw_engine_parent_class)->finalize (object);
}

static void
bw_engine_class_init (BwEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_engine_finalize;
}

static void
bw_engine_init (BwEngine *self)
{
}

BwEngine *
bw_engine_new (const char  *device_selector,
               BwWeights   *weights,
               GError     **error)
{
  g_autoptr(BwEngine) self = g_object_new (BW_TYPE_ENGINE, NULL);

  self->device = bw_device_new (device_selector, error);
  if (self->device == NULL)
    return NULL;
  self->vgg = bw_vgg19_new (self->device, weights, error);
  if (self->vgg == NULL)
    return NULL;
  self->device_selector = g_strdup (device_selector);
  self->weights = g_object_ref (weights);
  return g_steal_pointer (&self);
}

const char *
bw_engine_get_device_name (BwEngine *self)
{
  return bw_device_get_name (self->device);
}

/* A session's reopen function: the device opened anew with the weights uploaded again, once
 * for all the sessions that were on the lost one; later sessions start there. */
static BwVgg19 *
reopen (gpointer   data,
        GError   **error)
{
  BwEngine *self = data;

  if (bw_device_is_lost (self->device))
    {
      g_autoptr(BwDevice) device = bw_device_new (self->device_selector, error);
      g_autoptr(BwVgg19) vgg = device ? bw_vgg19_new (device, self->weights, error) : NULL;

      if (vgg == NULL)
        return NULL;
      g_set_object (&self->device, device);
      g_set_object (&self->vgg, vgg);
    }
  return g_object_ref (self->vgg);
}

BwSession *
bw_engine_new_session (BwEngine       *self,
                       const BwParams *params)
{
  BwSession *session = bw_session_new (self->vgg, params);

  bw_session_set_reopen_func (session, reopen, g_object_ref (self), g_object_unref);
  return session;
}

char *
bw_engine_format_duration (double seconds)
{
  int s = (int) lround (MAX (seconds, 0));

  if (s >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return g_strdup_printf ("%d:%02d", s / 60, s % 60);
}
