/* bw-adam.h: Adam on a device tensor, with torch.optim.Adam's update rule. */
#pragma once

#include "tensor/bw-tensor.h"

G_BEGIN_DECLS

#define BW_TYPE_ADAM (bw_adam_get_type ())
G_DECLARE_FINAL_TYPE (BwAdam, bw_adam, BW, ADAM, GObject)

/* Optimises @param in place; betas (0.9, 0.999) and eps 1e-8 as PyTorch's defaults. */
BwAdam  *bw_adam_new      (BwTensor  *param,
                           double     lr,
                           GError   **error);
void     bw_adam_set_lr   (BwAdam    *self,
                           double     lr);
/* Records one step with gradient @grad (the shape of the parameter). */
gboolean bw_adam_step     (BwAdam    *self,
                           BwTensor  *grad,
                           GError   **error);
/* Its state, for a copy kept on the host to go on with on another device
 * (bw-session.c, after a lost device): the moments and the steps taken. */
BwTensor *bw_adam_get_m    (BwAdam    *self);
BwTensor *bw_adam_get_v    (BwAdam    *self);
guint    bw_adam_get_step (BwAdam    *self);
void     bw_adam_set_step (BwAdam    *self,
                           guint      step);

G_END_DECLS
