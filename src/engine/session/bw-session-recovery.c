/* bw-session-recovery.c: a session goes on after its device is lost, from the last finished
 * step, which it keeps on the host (a lost device's memory cannot be read), or after the
 * device ran out of memory, from the same step within a smaller plan. */
#include "bw-session-private.h"

#include <math.h>
#include <string.h>

#include "optim/bw-adam.h"
#include "optim/bw-lbfgs.h"
#include "bw-i18n.h"

void
_bw_session_clear_saved (BwSession *self)
{
  g_clear_pointer (&self->saved.x, g_free);
  g_clear_pointer (&self->saved.adam_m, g_free);
  g_clear_pointer (&self->saved.adam_v, g_free);
}

/* After a lost device. */

void
bw_session_set_reopen_func (BwSession           *self,
                            BwSessionReopenFunc  func,
                            gpointer             user_data,
                            GDestroyNotify       destroy)
{
  if (self->reopen_destroy)
    self->reopen_destroy (self->reopen_data);
  self->reopen = func;
  self->reopen_data = user_data;
  self->reopen_destroy = destroy;
}

int
bw_session_get_device_losses (BwSession *self)
{
  return self->device_losses;
}

static guint8 *
save_tensor (BwSession  *self,
             BwTensor   *tensor,
             GError    **error)
{
  BwBuffer *buffer = bw_tensor_get_buffer (tensor);
  g_autofree guint8 *data = g_malloc (self->saved.size);

  if (!bw_device_read_buffer (self->device, buffer, 0, data, self->saved.size, error))
    return NULL;
  return g_steal_pointer (&data);
}

/* After each step, when a reopen function is set: the image to go on from (L-BFGS: the best
 * one evaluated, as the user sees it; its history starts again) and Adam's state (exactly
 * as it was). A readback of one to three images, against a step's forward and backward
 * passes through VGG19. */
gboolean
_bw_session_save_step (BwSession  *self,
                       GError    **error)
{
  BwTensor *image = self->lbfgs && self->have_best ? self->best : self->x;

  if (self->reopen == NULL)
    return TRUE;
  _bw_session_clear_saved (self);
  self->saved.size = bw_tensor_get_buffer (image)->size;
  self->saved.width = bw_tensor_get_width (image);
  self->saved.height = bw_tensor_get_height (image);
  self->saved.pass = self->pass;
  self->saved.step = self->step;
  if (!(self->saved.x = save_tensor (self, image, error)))
    return FALSE;
  if (self->adam)
    {
      self->saved.adam_step = bw_adam_get_step (self->adam);
      if (!(self->saved.adam_m = save_tensor (self, bw_adam_get_m (self->adam), error)) ||
          !(self->saved.adam_v = save_tensor (self, bw_adam_get_v (self->adam), error)))
        {
          _bw_session_clear_saved (self);
          return FALSE;
        }
    }
  return TRUE;
}

/* The saved image in [0, 1], for a device lost for good. */
BwImage *
_bw_session_saved_image (BwSession *self)
{
  gsize hw = (gsize) self->saved.width * self->saved.height;
  const float *packed = (const float *) self->saved.x;
  const float *mean = bw_vgg19_get_mean (self->vgg);
  float *data = g_new (float, 3 * hw);

  /* the tensor's layout (bw_tensor_download()): channels in fours, interleaved */
  for (int c = 0; c < 3; c++)
    for (gsize i = 0; i < hw; i++)
      {
        float v = packed[i * 4 + c] * bw_vgg19_std[c] + mean[c];

        data[c * hw + i] = isnan (v) ? 0.0f : CLAMP (v, 0.0f, 1.0f);
      }
  return bw_image_new_take (self->saved.width, self->saved.height, data);
}

static gboolean
restore_tensor (BwSession     *self,
                BwTensor      *tensor,
                const guint8  *data,
                GError       **error)
{
  return bw_device_write_buffer (self->device, bw_tensor_get_buffer (tensor), 0, data,
                                 self->saved.size, error);
}

/* Everything the session holds on the lost device is dropped, and the pass of the saved
 * step is set up again on @vgg's device, the targets computed anew, with the saved state. */
static gboolean
move_to (BwSession  *self,
         BwVgg19    *vgg,
         GError    **error)
{
  _bw_session_clear_device_state (self);
  g_set_object (&self->vgg, vgg);
  g_set_object (&self->device, bw_vgg19_get_device (vgg));

  self->step = self->saved.step;
  bw_device_set_step (self->device, self->step);
  if (!_bw_session_start_pass (self, self->saved.pass, NULL, error) ||
      !restore_tensor (self, self->x, self->saved.x, error))
    goto failed;
  if (self->adam)
    {
      if (!restore_tensor (self, bw_adam_get_m (self->adam), self->saved.adam_m, error) ||
          !restore_tensor (self, bw_adam_get_v (self->adam), self->saved.adam_v, error))
        goto failed;
      bw_adam_set_step (self->adam, self->saved.adam_step);
    }
  return TRUE;

failed:
  bw_device_discard (self->device);
  return FALSE;
}

/* @error is the step's: a lost device is replaced and the session moved there from its
 * last finished step, up to BW_SESSION_MAX_DEVICE_LOSSES; else FALSE, with @error kept or
 * replaced by what went wrong while moving. */
gboolean
_bw_session_go_on_after_loss (BwSession  *self,
                              GError    **error)
{
  while (g_error_matches (*error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST) &&
         self->reopen != NULL && self->saved.x != NULL)
    {
      g_autoptr(BwVgg19) vgg = NULL;

      self->device_losses++;
      if (self->device_losses >= BW_SESSION_MAX_DEVICE_LOSSES)
        return FALSE;
      g_clear_error (error);
      vgg = self->reopen (self->reopen_data, error);
      if (vgg != NULL && move_to (self, vgg, error))
        return TRUE;
    }
  return FALSE;
}

/* @error is the step's, out of device memory: the session is planned again within a budget
 * below the failed plan by a quarter of what the planner can shrink (the activations, by
 * tiles, and the L-BFGS history; the weights and the images stay), and set up again from
 * the last finished step on the same device. Cut again while setting up runs out of memory
 * too; FALSE, with a sentence, when the planner finds nothing within the cut, or after
 * BW_SESSION_MAX_REPLANS. */
gboolean
_bw_session_go_on_after_oom (BwSession  *self,
                             GError    **error)
{
  g_autoptr(BwVgg19) vgg = g_object_ref (self->vgg);
  int step = self->saved.step + 1;
  /* the pass the step ran in, or was entering */
  int pass = self->pass;

  if (self->saved.x == NULL)
    return FALSE;
  while (self->replans < BW_SESSION_MAX_REPLANS &&
         g_error_matches (*error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY))
    {
      guint64 shrinkable = self->plan.activations + self->plan.optimiser;

      /* the planner itself found nothing within the last cut: cutting more cannot help */
      if (self->memory_cap > 0 && self->plan.bytes > self->memory_cap)
        break;
      self->memory_cap = self->plan.bytes - shrinkable / 4;
      self->replans++;
      g_clear_error (error);
      if (move_to (self, vgg, error))
        {
          /* back in the pass before: the one the step enters next must fit too, or the
           * painting would go on only to stop there */
          if (pass == self->pass || _bw_session_pass_fits (self, pass, error))
            return TRUE;
          break;
        }
    }
  if (g_error_matches (*error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY))
    {
      g_clear_error (error);
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                   _("The graphics device ran out of memory at step %d, and this size does "
                     "not fit in less. Close other programs that use the graphics device, "
                     "or choose a smaller size."), step);
    }
  return FALSE;
}
