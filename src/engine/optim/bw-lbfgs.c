/* bw-lbfgs.c: the two-loop recursion with vectors on the device.
 *
 * Each dot product is a reduce dispatch and a read-back, so an iteration with a full history
 * of m pairs makes about 2m small submissions; against the network's forward and backward
 * passes that is little.
 */
#include "bw-i18n.h"
#include "bw-lbfgs.h"

#include <math.h>
#include <string.h>

#include "ops/bw-ops.h"

#define TOLERANCE_GRAD 1e-7
#define TOLERANCE_CHANGE 1e-9

struct _BwLbfgs {
  GObject parent_instance;

  BwDevice *device;
  BwTensor *param;
  guint n;                    /* vec4s */
  double lr;
  int history_size;

  BwBuffer *d, *prev_grad, *q;
  BwBuffer **old_dirs;        /* y_i, oldest first; one slot more than the history, where a
                               * new pair waits for its curvature test */
  BwBuffer **old_stps;        /* s_i */
  double *ro, *al;
  int n_old;
  double t, h_diag, prev_loss;
  int n_iter;

  BwBuffer *partials;
  guint n_partials;
};

G_DEFINE_FINAL_TYPE (BwLbfgs, bw_lbfgs, G_TYPE_OBJECT)

static void
bw_lbfgs_finalize (GObject *object)
{
  BwLbfgs *self = BW_LBFGS (object);

  if (self->device)
    {
      bw_device_free_buffer (self->device, self->d);
      bw_device_free_buffer (self->device, self->prev_grad);
      bw_device_free_buffer (self->device, self->q);
      bw_device_free_buffer (self->device, self->partials);
      for (int i = 0; i <= self->history_size; i++)
        {
          bw_device_free_buffer (self->device, self->old_dirs[i]);
          bw_device_free_buffer (self->device, self->old_stps[i]);
        }
    }
  g_free (self->old_dirs);
  g_free (self->old_stps);
  g_free (self->ro);
  g_free (self->al);
  g_clear_object (&self->param);
  g_clear_object (&self->device);
  G_OBJECT_CLASS (bw_lbfgs_parent_class)->finalize (object);
}

static void
bw_lbfgs_class_init (BwLbfgsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_lbfgs_finalize;
}

static void
bw_lbfgs_init (BwLbfgs *self)
{
}

BwLbfgs *
bw_lbfgs_new (BwTensor  *param,
              double     lr,
              int        history_size,
              GError   **error)
{
  g_autoptr(BwLbfgs) self = g_object_new (BW_TYPE_LBFGS, NULL);
  gsize bytes;

  g_return_val_if_fail (history_size >= 1, NULL);

  self->device = g_object_ref (bw_tensor_get_device (param));
  self->param = g_object_ref (param);
  self->n = bw_tensor_get_n_vec4 (param);
  self->lr = lr;
  self->history_size = history_size;
  self->old_dirs = g_new0 (BwBuffer *, history_size + 1);
  self->old_stps = g_new0 (BwBuffer *, history_size + 1);
  self->ro = g_new0 (double, history_size + 1);
  self->al = g_new0 (double, history_size);
  bytes = (gsize) self->n * 16;
  self->n_partials = bw_ops_reduce_n_partials (self->n);
  if (!(self->d = bw_device_alloc_buffer (self->device, bytes, error)) ||
      !(self->prev_grad = bw_device_alloc_buffer (self->device, bytes, error)) ||
      !(self->q = bw_device_alloc_buffer (self->device, bytes, error)) ||
      !(self->partials = bw_device_alloc_buffer (self->device, self->n_partials * sizeof (float), error)))
    return NULL;
  return g_steal_pointer (&self);
}

void
bw_lbfgs_set_lr (BwLbfgs *self,
                 double   lr)
{
  self->lr = lr;
}

/* Runs a reduction now and combines its partials. */
static gboolean
reduce (BwLbfgs   *self,
        BwReduce   mode,
        BwBuffer  *a,
        BwBuffer  *b,
        double    *result,
        GError   **error)
{
  g_autofree float *p = g_new (float, self->n_partials);
  double acc = 0;

  if (!bw_ops_reduce (self->device, mode, a, b, 1.0f, self->n, self->partials, 0, error) ||
      !bw_device_read_buffer (self->device, self->partials, 0, p,
                              self->n_partials * sizeof (float), error))
    return FALSE;
  for (guint i = 0; i < self->n_partials; i++)
    acc = mode == BW_REDUCE_MAX_ABS ? MAX (acc, p[i]) : acc + p[i];
  *result = acc;
  return TRUE;
}

/* out = k * a + c (c may be NULL) */
static gboolean
axpy (BwLbfgs   *self,
      double     k,
      BwBuffer  *a,
      BwBuffer  *c,
      BwBuffer  *out,
      GError   **error)
{
  return bw_ops_eltwise (self->device, a, NULL, c, NULL, (float) k, 1.0f, out, self->n, error);
}

/* Adds (y, s) = (g - prev_g, t d) to the history when its curvature is positive enough,
 * dropping the oldest pair only then, when the history is full (torch's rule). */
static gboolean
update_history (BwLbfgs   *self,
                BwBuffer  *g,
                GError   **error)
{
  BwBuffer *y = self->old_dirs[self->n_old], *s = self->old_stps[self->n_old];
  double ys, yy;

  if (y == NULL)
    {
      y = self->old_dirs[self->n_old] = bw_device_alloc_buffer (self->device, (gsize) self->n * 16, error);
      if (y == NULL)
        return FALSE;
      s = self->old_stps[self->n_old] = bw_device_alloc_buffer (self->device, (gsize) self->n * 16, error);
      if (s == NULL)
        return FALSE;
    }
  if (!bw_ops_eltwise (self->device, g, self->prev_grad, NULL, NULL, 1.0f, 1.0f, y, self->n, error) ||
      !axpy (self, self->t, self->d, NULL, s, error) ||
      !reduce (self, BW_REDUCE_DOT, y, s, &ys, error))
    return FALSE;
  if (!(ys > 1e-10))
    return TRUE;
  if (!reduce (self, BW_REDUCE_DOT, y, y, &yy, error))
    return FALSE;
  self->ro[self->n_old] = 1.0 / ys;
  self->h_diag = ys / yy;
  if (self->n_old < self->history_size)
    {
      self->n_old++;
      return TRUE;
    }
  /* full: the oldest pair goes, and its buffers become the spare slot */
  y = self->old_dirs[0];
  s = self->old_stps[0];
  memmove (self->old_dirs, self->old_dirs + 1, self->history_size * sizeof (BwBuffer *));
  memmove (self->old_stps, self->old_stps + 1, self->history_size * sizeof (BwBuffer *));
  memmove (self->ro, self->ro + 1, self->history_size * sizeof (double));
  self->old_dirs[self->history_size] = y;
  self->old_stps[self->history_size] = s;
  return TRUE;
}

gboolean
bw_lbfgs_step (BwLbfgs   *self,
               BwTensor  *grad,
               double     loss,
               gboolean  *converged,
               GError   **error)
{
  BwBuffer *g = bw_tensor_get_buffer (grad);
  BwBuffer *x = bw_tensor_get_buffer (self->param);
  double max_g, gtd;

  *converged = FALSE;
  if (!reduce (self, BW_REDUCE_MAX_ABS, g, NULL, &max_g, error))
    return FALSE;
  /* a NaN is dropped by the max-abs reduction and would read as convergence */
  if (!isfinite (loss) || !isfinite (max_g))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The optimiser's numbers overflowed: the learning rate or a weight is too "
                     "large for this picture. Lower it and paint again."));
      return FALSE;
    }
  if (max_g <= TOLERANCE_GRAD)
    {
      *converged = TRUE;
      return TRUE;
    }
  if (self->n_iter > 0)
    {
      double max_step;

      /* torch's tests after its previous update, made here where their inputs meet */
      if (!reduce (self, BW_REDUCE_MAX_ABS, self->d, NULL, &max_step, error))
        return FALSE;
      if (max_step * fabs (self->t) <= TOLERANCE_CHANGE || fabs (loss - self->prev_loss) < TOLERANCE_CHANGE)
        {
          *converged = TRUE;
          return TRUE;
        }
    }
  self->n_iter++;

  if (self->n_iter == 1)
    {
      if (!axpy (self, -1.0, g, NULL, self->d, error))
        return FALSE;
      self->n_old = 0;
      self->h_diag = 1.0;
    }
  else
    {
      if (!update_history (self, g, error) ||
          !axpy (self, -1.0, g, NULL, self->q, error))
        return FALSE;
      for (int i = self->n_old - 1; i >= 0; i--)
        {
          double dot;
          if (!reduce (self, BW_REDUCE_DOT, self->old_stps[i], self->q, &dot, error))
            return FALSE;
          self->al[i] = dot * self->ro[i];
          if (!axpy (self, -self->al[i], self->old_dirs[i], self->q, self->q, error))
            return FALSE;
        }
      /* d = r = q * H_diag */
      if (!axpy (self, self->h_diag, self->q, NULL, self->d, error))
        return FALSE;
      for (int i = 0; i < self->n_old; i++)
        {
          double dot, be_i;
          if (!reduce (self, BW_REDUCE_DOT, self->old_dirs[i], self->d, &dot, error))
            return FALSE;
          be_i = dot * self->ro[i];
          if (!axpy (self, self->al[i] - be_i, self->old_stps[i], self->d, self->d, error))
            return FALSE;
        }
    }

  /* prev_flat_grad = g; prev_loss = loss */
  if (!axpy (self, 1.0, g, NULL, self->prev_grad, error))
    return FALSE;
  self->prev_loss = loss;

  if (self->n_iter == 1)
    {
      double sum_abs;
      if (!reduce (self, BW_REDUCE_SUM_ABS, g, NULL, &sum_abs, error))
        return FALSE;
      self->t = MIN (1.0, 1.0 / sum_abs) * self->lr;
    }
  else
    self->t = self->lr;

  if (!reduce (self, BW_REDUCE_DOT, g, self->d, &gtd, error))
    return FALSE;
  if (gtd > -TOLERANCE_CHANGE)
    {
      *converged = TRUE;
      return TRUE;
    }
  /* x += t d */
  return axpy (self, self->t, self->d, x, x, error) && bw_device_submit (self->device, error);
}
