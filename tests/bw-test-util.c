/* bw-test-util.c: see bw-test-util.h. */
#include "bw-test-util.h"

#include <glib/gstdio.h>

static BwDevice *device;
static guint seen_errors;

BwDevice *
bw_test_device (void)
{
  if (device == NULL)
    {
      g_autoptr(GError) error = NULL;

      device = bw_device_new (NULL, &error);
      g_assert_no_error (error);
      g_test_message ("device: %s%s", bw_device_get_name (device),
                      bw_device_is_validating (device) ? " (validating)" : "");
    }
  return device;
}

void
bw_test_check_validation (void)
{
  guint now = bw_device_get_validation_errors (bw_test_device ());

  if (now != seen_errors)
    {
      guint delta = now - seen_errors;
      seen_errors = now;
      g_test_fail_printf ("%u Vulkan validation error(s) in this test", delta);
    }
}

void
bw_test_shutdown (void)
{
  g_clear_object (&device);
}

float *
bw_test_random (GRand *rand,
                gsize  n,
                float  lo,
                float  hi)
{
  float *out = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    out[i] = (float) g_rand_double_range (rand, lo, hi);
  return out;
}

void
bw_test_assert_close (const char   *what,
                      const float  *got,
                      const double *want,
                      gsize         n,
                      double        abs_tol,
                      double        rel_tol)
{
  double worst_abs = 0, worst_rel = 0;
  gssize first_bad = -1;

  for (gsize i = 0; i < n; i++)
    {
      double err = fabs ((double) got[i] - want[i]);
      double rel = want[i] != 0 ? err / fabs (want[i]) : (err == 0 ? 0 : INFINITY);

      if (!(err <= abs_tol || rel <= rel_tol) && first_bad < 0)
        first_bad = i;
      worst_abs = MAX (worst_abs, err);
      if (err > abs_tol)
        worst_rel = MAX (worst_rel, rel);
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " values, max abs err %.3g, max rel err (beyond abs "
                  "tol) %.3g", what, n, worst_abs, worst_rel);
  if (first_bad >= 0)
    g_test_fail_printf ("%s: element %" G_GSSIZE_FORMAT " is %.9g, expected %.9g (abs tol %g, "
                        "rel tol %g); worst abs %.3g", what, first_bad, got[first_bad],
                        want[first_bad], abs_tol, rel_tol, worst_abs);
}

void
bw_test_assert_close_normwise (const char   *what,
                               const float  *got,
                               const float  *want,
                               gsize         n,
                               double        rel_tol)
{
  double max_want = 0, max_err = 0;
  gsize worst = 0;

  for (gsize i = 0; i < n; i++)
    {
      double err = fabs ((double) got[i] - want[i]);
      max_want = MAX (max_want, fabs (want[i]));
      if (err > max_err || isnan (err))
        {
          max_err = isnan (err) ? INFINITY : err;
          worst = i;
        }
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " values, max |want| %.4g, max abs err %.3g "
                  "(%.3g of max)", what, n, max_want, max_err, max_want > 0 ? max_err / max_want : 0);
  if (!(max_err <= rel_tol * max_want))
    g_test_fail_printf ("%s: element %" G_GSIZE_FORMAT " is %.9g, expected %.9g; max abs err "
                        "%.3g exceeds %g x max |want| = %.3g", what, worst, got[worst],
                        want[worst], max_err, rel_tol, rel_tol * max_want);
}

char *
bw_test_run_oracle (const char         *script,
                    const char *const  *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *srcdir = g_getenv ("BRUSHWORK_TEST_SRCDIR");
  const char *python = g_getenv ("BRUSHWORK_PYTHON");
  g_autofree char *path = NULL;
  g_autofree char *err_out = NULL;
  char *dir;
  int status = 0;

  g_assert_nonnull (srcdir);
  dir = g_dir_make_tmp ("brushwork-oracle-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (srcdir, "oracle", script, NULL);
  g_ptr_array_add (argv, (char *) (python ? python : "/usr/bin/python3"));
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, dir);
  for (int i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                     NULL, &err_out, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("The PyTorch oracle %s failed (%s); it needs /usr/bin/python3 with python3-torch "
             "and python3-torchvision: %s", script, error->message, err_out ? err_out : "");
  return dir;
}

float *
bw_test_read_floats (const char *dir,
                     const char *name,
                     gsize       n)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, n * sizeof (float));
  return (float *) contents;
}

double
bw_test_read_value (const char *dir,
                    const char *name)
{
  g_autofree char *path = g_build_filename (dir, "values.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      g_auto(GStrv) parts = g_strsplit (lines[i], " ", 2);
      if (parts[0] && parts[1] && g_str_equal (parts[0], name))
        return g_ascii_strtod (parts[1], NULL);
    }
  g_error ("values.txt has no %s", name);
  return NAN;
}

void
bw_test_remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

int
bw_test_run_cli (const char *const  *args,
                 char              **envp,
                 char              **out,
                 char              **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("BRUSHWORK_CLI");
  int status = 0;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, envp, 0, NULL, NULL, out, err, &status, &error);
  g_assert_no_error (error);
  if (!WIFEXITED (status))
    {
      g_test_fail_printf ("brushwork-cli %s died: %s", args[0], *err);
      return -1;
    }
  return WEXITSTATUS (status);
}

/* The network's weights the oracle wrote (weights.bin: each conv's weight then bias, in
 * order), under torchvision's names. */
BwWeights *
bw_test_weights_from_dir (const char *dir)
{
  gsize total = 0, offset = 0;
  g_autofree float *all = NULL;
  BwWeights *w = bw_weights_new ();

  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    total += (gsize) bw_vgg19_convs[i].out_channels * (bw_vgg19_convs[i].in_channels * 9 + 1);
  all = bw_test_read_floats (dir, "weights.bin", total);
  for (int i = 0; i < BW_VGG19_N_CONVS; i++)
    {
      const BwVgg19Conv *c = &bw_vgg19_convs[i];
      gint64 wshape[4] = { c->out_channels, c->in_channels, 3, 3 };
      gint64 bshape[1] = { c->out_channels };
      gsize nw = (gsize) c->out_channels * c->in_channels * 9;
      g_autofree char *wname = g_strdup_printf ("features.%d.weight", c->module);
      g_autofree char *bname = g_strdup_printf ("features.%d.bias", c->module);

      bw_weights_insert (w, wname, wshape, 4, g_memdup2 (all + offset, nw * sizeof (float)));
      offset += nw;
      bw_weights_insert (w, bname, bshape, 1, g_memdup2 (all + offset, c->out_channels * sizeof (float)));
      offset += c->out_channels;
    }
  return w;
}

double
bw_test_image_psnr (BwImage *a,
                    BwImage *b)
{
  gsize n = (gsize) 3 * bw_image_get_width (a) * bw_image_get_height (a);
  const float *pa = bw_image_get_data (a), *pb = bw_image_get_data (b);
  double mse = 0;

  g_assert_cmpint (bw_image_get_width (a), ==, bw_image_get_width (b));
  g_assert_cmpint (bw_image_get_height (a), ==, bw_image_get_height (b));
  for (gsize i = 0; i < n; i++)
    mse += (pa[i] - pb[i]) * (double) (pa[i] - pb[i]);
  return 10 * log10 (1.0 / MAX (mse / n, 1e-20));
}
