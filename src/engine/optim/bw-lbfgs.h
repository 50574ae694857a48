/* bw-lbfgs.h: L-BFGS on a device tensor, following torch.optim.LBFGS without line search.
 *
 * One call of bw_lbfgs_step() is one of LBFGS's inner iterations: torch's step(closure) with
 * max_iter = N does what N calls do here, each given the gradient and loss at the current
 * parameter (the closure's result). Vectors stay on the device; only dot products come back.
 */
#pragma once

#include "tensor/bw-tensor.h"

G_BEGIN_DECLS

#define BW_TYPE_LBFGS (bw_lbfgs_get_type ())
G_DECLARE_FINAL_TYPE (BwLbfgs, bw_lbfgs, BW, LBFGS, GObject)

/* torch's defaults: lr 1, history_size 100, tolerance_grad 1e-7, tolerance_change 1e-9. */
BwLbfgs  *bw_lbfgs_new       (BwTensor  *param,
                              double     lr,
                              int        history_size,
                              GError   **error);
void      bw_lbfgs_set_lr    (BwLbfgs   *self,
                              double     lr);
/* Updates the parameter from @grad and @loss at it. Sets @converged (and leaves the
 * parameter alone) when torch would have stopped: gradient or change below tolerance. */
gboolean  bw_lbfgs_step      (BwLbfgs   *self,
                              BwTensor  *grad,
                              double     loss,
                              gboolean  *converged,
                              GError   **error);

G_END_DECLS
