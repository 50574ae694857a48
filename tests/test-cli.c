/* test-cli.c: brushwork-cli as a user runs it.
 *
 *  - parity: the seed preset for 20 steps on weights written by torch.save and pre-sized PNG
 *    inputs, against tests/oracle/cli_oracle.py: every step's total loss within 1e-3
 *    relative (the bound; measured ~1e-6), and the written PNG against PyTorch's final
 *    image at PSNR >= 40 dB (8-bit rounding alone allows ~59 dB).
 *  - bad input: every wrong file or flag gives a sentence, the documented exit code (1 for
 *    a failure, 2 for a wrong command line), no crash, and no output file left behind.
 *  - Ctrl-C: the image so far is written and the exit status is 130.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <string.h>
#include <unistd.h>

#include "bw-test-util.h"
#include "image/bw-image.h"

#define STEPS 20

static char *oracle_dir;

static char *
in_oracle (const char *name)
{
  return g_build_filename (oracle_dir, name, NULL);
}

static int
run_cli (const char *const *args,
         char             **out,
         char             **err)
{
  return bw_test_run_cli (args, NULL, out, err);
}

static void
test_seed_parity (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *output = in_oracle ("out.png");
  const char *args[] = {
    "--content", content, "--style", style, "--output", output, "--weights", weights,
    "--preset", "seed", "--steps", G_STRINGIFY (STEPS), "--size", "64", "--verbose", NULL
  };
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(BwImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *want = NULL;
  const float *got;
  int steps_seen = 0, n;
  double mse = 0, psnr;

  g_assert_cmpint (run_cli (args, &out, &err), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      int step, total_steps;
      double loss, c, s;

      if (sscanf (lines[i], "step %d/%d loss %lf content %lf style %lf", &step, &total_steps,
                  &loss, &c, &s) == 5)
        {
          g_autofree char *name = g_strdup_printf ("step%d_total", step);
          double want_loss = bw_test_read_value (oracle_dir, name);
          double rel = fabs (loss - want_loss) / fabs (want_loss);

          if (!(rel <= 1e-3))
            g_test_fail_printf ("step %d: loss %.9g, PyTorch %.9g (rel %.3g)", step, loss, want_loss, rel);
          steps_seen++;
        }
    }
  g_assert_cmpint (steps_seen, ==, STEPS);

  image = bw_image_load (output, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (image), ==, 64);
  g_assert_cmpint (bw_image_get_height (image), ==, 48);
  n = 3 * 64 * 48;
  want = bw_test_read_floats (oracle_dir, "final.bin", n);
  got = bw_image_get_data (image);
  for (int i = 0; i < n; i++)
    mse += ((double) got[i] - want[i]) * ((double) got[i] - want[i]);
  mse /= n;
  psnr = 10 * log10 (1.0 / MAX (mse, 1e-20));
  g_test_message ("output against PyTorch after %d seed steps: PSNR %.1f dB", STEPS, psnr);
  g_assert_cmpfloat (psnr, >=, 40.0);
}

typedef struct {
  const char *what;
  const char *content;       /* a file in the oracle dir, or a path that does not exist */
  const char *style;
  const char *weights;
  const char *extra[4];
  int status;
  const char *says;          /* a word the message must contain */
} BadCase;

static const BadCase bad_cases[] = {
  { "missing content", "no-such-photo.jpg", "style.png", "vgg19.pth", { NULL }, 1, "does not exist" },
  { "not an image", "notimage.png", "style.png", "vgg19.pth", { NULL }, 1, "not an image" },
  { "0-byte file", "empty.png", "style.png", "vgg19.pth", { NULL }, 1, "not an image" },
  { "huge dimensions", "huge.png", "style.png", "vgg19.pth", { NULL }, 1, "60000" },
  { "truncated PNG", "truncated.png", "style.png", "vgg19.pth", { NULL }, 1, "damaged or incomplete" },
  { "truncated JPEG", "truncated.jpg", "style.png", "vgg19.pth", { NULL }, 1, "damaged or incomplete" },
  { "bad style", "content.png", "empty.png", "vgg19.pth", { NULL }, 1, "empty.png" },
  { "garbage weights", "content.png", "style.png", "garbage.pth", { NULL }, 1, "garbage.pth" },
  { "missing weights", "content.png", "style.png", "no-such-weights.pth", { NULL }, 1, "no-such-weights.pth" },
  { "zero steps", "content.png", "style.png", "vgg19.pth", { "--steps", "0", NULL }, 2, "--steps" },
  { "size not a number", "content.png", "style.png", "vgg19.pth", { "--size", "big", NULL }, 2, "size" },
  { "tiny size", "content.png", "style.png", "vgg19.pth", { "--size", "8", NULL }, 2, "--size" },
  { "unknown preset", "content.png", "style.png", "vgg19.pth", { "--preset", "vangogh", NULL }, 2, "vangogh" },
  { "unknown optimiser", "content.png", "style.png", "vgg19.pth", { "--optimizer", "sgd", NULL }, 2, "sgd" },
  { "negative style weight", "content.png", "style.png", "vgg19.pth", { "--style-weight", "-1", NULL }, 2, "--style-weight" },
  { "unknown flag", "content.png", "style.png", "vgg19.pth", { "--colour", NULL }, 2, "colour" },
  { "unknown layer", "content.png", "style.png", "vgg19.pth", { "--style-layers", "relu1_1,relu9_9:2", NULL }, 2, "relu9_9" },
  /* GOption's -1 and NaN once meant "not given": typed, they are wrong */
  { "size -1", "content.png", "style.png", "vgg19.pth", { "--size", "-1", NULL }, 2, "--size" },
  { "steps -1", "content.png", "style.png", "vgg19.pth", { "--steps", "-1", NULL }, 2, "--steps" },
  { "lr nan", "content.png", "style.png", "vgg19.pth", { "--lr", "nan", NULL }, 2, "--lr" },
  { "content weight nan", "content.png", "style.png", "vgg19.pth", { "--content-weight", "nan", NULL }, 2, "--content-weight" },
  { "style weight inf", "content.png", "style.png", "vgg19.pth", { "--style-weight", "inf", NULL }, 2, "--style-weight" },
  { "size 12.5", "content.png", "style.png", "vgg19.pth", { "--size", "12.5", NULL }, 2, "--size" },
};

static void
test_bad_input (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *bc = &bad_cases[i];
      g_autofree char *content = in_oracle (bc->content);
      g_autofree char *style = in_oracle (bc->style);
      g_autofree char *weights = in_oracle (bc->weights);
      g_autofree char *output = in_oracle ("bad-out.png");
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      g_autofree char *out = NULL, *err = NULL;
      int status;

      g_unlink (output);
      g_ptr_array_add (args, "--content");
      g_ptr_array_add (args, content);
      g_ptr_array_add (args, "--style");
      g_ptr_array_add (args, style);
      g_ptr_array_add (args, "--weights");
      g_ptr_array_add (args, weights);
      g_ptr_array_add (args, "--output");
      g_ptr_array_add (args, output);
      g_ptr_array_add (args, "--steps");
      g_ptr_array_add (args, "1");
      g_ptr_array_add (args, "--size");
      g_ptr_array_add (args, "32");
      for (int j = 0; bc->extra[j]; j++)
        g_ptr_array_add (args, (char *) bc->extra[j]);
      g_ptr_array_add (args, NULL);

      status = run_cli ((const char *const *) args->pdata, &out, &err);
      g_test_message ("%s: exit %d: %s", bc->what, status, g_strstrip (err));
      if (status != bc->status)
        g_test_fail_printf ("%s: exit status %d, expected %d (%s)", bc->what, status, bc->status, err);
      if (strstr (err, bc->says) == NULL)
        g_test_fail_printf ("%s: the message “%s” does not mention “%s”", bc->what, err, bc->says);
      if (g_file_test (output, G_FILE_TEST_EXISTS))
        g_test_fail_printf ("%s: an output file was left behind", bc->what);
    }
}

/* Runs the CLI on the oracle's photo and painting with @extra flags; returns its status. */
static int
run_small (const char  *style,
           const char  *output,
           const char **extra,
           char       **err)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;

  g_ptr_array_add (args, "--content");
  g_ptr_array_add (args, content);
  g_ptr_array_add (args, "--style");
  g_ptr_array_add (args, (char *) style);
  g_ptr_array_add (args, "--weights");
  g_ptr_array_add (args, weights);
  g_ptr_array_add (args, "--output");
  g_ptr_array_add (args, (char *) output);
  for (int j = 0; extra[j]; j++)
    g_ptr_array_add (args, (char *) extra[j]);
  g_ptr_array_add (args, NULL);
  return run_cli ((const char *const *) args->pdata, &out, err);
}

static void
assert_size (const char *path,
             int         w,
             int         h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = bw_image_load (path, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (image), ==, w);
  g_assert_cmpint (bw_image_get_height (image), ==, h);
}

/* --output naming the photo or a painting (by another name too: a link) is refused before
 * anything is painted, and the file is kept as it was. */
static void
test_output_is_input (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *link = in_oracle ("style-link.png");
  g_autofree char *before = NULL, *after = NULL, *err = NULL;
  const char *extra[] = { "--steps", "1", "--size", "32", NULL };
  gsize n_before, n_after;

  g_assert_true (g_file_get_contents (content, &before, &n_before, NULL));
  g_assert_cmpint (run_small (style, content, extra, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--content"));
  g_assert_true (g_file_get_contents (content, &after, &n_after, NULL));
  g_assert_true (n_before == n_after && memcmp (before, after, n_before) == 0);
  g_clear_pointer (&err, g_free);

  g_unlink (link);
  g_assert_cmpint (symlink (style, link), ==, 0);
  g_assert_cmpint (run_small (style, link, extra, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--style"));
  g_unlink (link);
}

/* An output that is a symbolic link is written through it (the link stays a link), and an
 * existing file keeps its permissions. */
static void
test_output_link (void)
{
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *real = in_oracle ("real-out.png");
  g_autofree char *link = in_oracle ("link-out.png");
  g_autofree char *err = NULL;
  const char *extra[] = { "--steps", "1", "--size", "32", NULL };
  GStatBuf st;

  g_unlink (link);
  g_assert_true (g_file_set_contents (real, "old", 3, NULL));
  g_assert_cmpint (g_chmod (real, 0604), ==, 0);
  g_assert_cmpint (symlink ("real-out.png", link), ==, 0);
  g_assert_cmpint (run_small (style, link, extra, &err), ==, 0);
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpint (g_stat (real, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0604);
  assert_size (real, 32, 32 * 3 / 4);
  g_unlink (link);
  g_unlink (real);
}

/* Coarse to fine: what is written while an early pass runs (--save-every here; Ctrl-C and the
 * timelapse take the same path) is at --size, not the pass's size. */
static void
test_saves_at_output_size (void)
{
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *output = in_oracle ("passes.png");
  g_autofree char *first = in_oracle ("passes-0001.png");
  g_autofree char *err = NULL;
  const char *extra[] = { "--steps", "2", "--size", "64", "--scales", "2", "--save-every", "1",
                          NULL };

  g_assert_cmpint (run_small (style, output, extra, &err), ==, 0);
  assert_size (first, 64, 48);
  assert_size (output, 64, 48);
}

/* A wide painting limits the passes as the photo does: 500 x 50 at --size 256 would be
 * 128 x 13 in a first pass at 128 px, too small for relu5_1 (16 px); it paints in one pass.
 * One too narrow even at the output size is named as the problem. */
static void
test_wide_painting (void)
{
  g_autofree char *wide = in_oracle ("wide.png");
  g_autofree char *narrow = in_oracle ("narrow.png");
  g_autofree char *output = in_oracle ("wide-out.png");
  g_autofree char *err = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(BwImage) w = bw_image_new_take (500, 50, bw_test_random (rand, 3 * 500 * 50, 0, 1));
  g_autoptr(BwImage) n = bw_image_new_take (600, 20, bw_test_random (rand, 3 * 600 * 20, 0, 1));
  const char *extra[] = { "--steps", "2", "--size", "256", NULL };

  g_assert_true (bw_image_save (w, wide, 92, NULL));
  g_assert_true (bw_image_save (n, narrow, 92, NULL));
  g_assert_cmpint (run_small (wide, output, extra, &err), ==, 0);
  assert_size (output, 256, 192);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_small (narrow, output, extra, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "painting of 600×20"));
}

/* A learning rate far too large: the numbers overflow in the second step. The run stops with
 * a sentence and exit 1, and writes the last image with finite numbers (here the photo
 * itself, the one step 1 evaluated) instead of a black one. For both optimisers (L-BFGS's
 * max-abs reduction dropped the NaN and reported convergence). */
static void
test_not_finite (void)
{
  const char *optimizers[] = { "lbfgs", "adam" };

  for (gsize i = 0; i < G_N_ELEMENTS (optimizers); i++)
    {
      g_autofree char *style = in_oracle ("style.png");
      g_autofree char *content = in_oracle ("content.png");
      g_autofree char *output = in_oracle ("overflow.png");
      g_autofree char *err = NULL;
      const char *extra[] = { "--steps", "4", "--size", "32", "--lr", "1e30", "--optimizer",
                              optimizers[i], NULL };
      g_autoptr(BwImage) got = NULL;
      g_autoptr(BwImage) photo = NULL;
      double diff = 0;
      gsize n;

      g_unlink (output);
      g_assert_cmpint (run_small (style, output, extra, &err), ==, 1);
      g_test_message ("%s: %s", optimizers[i], err);
      g_assert_nonnull (strstr (err, "overflowed"));
      got = bw_image_load (output, 0, NULL);
      photo = bw_image_load (content, 32, NULL);
      g_assert_nonnull (got);
      g_assert_cmpint (bw_image_get_width (got), ==, bw_image_get_width (photo));
      n = (gsize) 3 * bw_image_get_width (got) * bw_image_get_height (got);
      for (gsize k = 0; k < n; k++)
        diff = MAX (diff, fabs (bw_image_get_data (got)[k] - bw_image_get_data (photo)[k]));
      /* the photo, up to 8-bit rounding of both files */
      g_assert_cmpfloat (diff, <=, 1.0 / 255 + 1e-6);
    }
}

/* The rescued copy's path, from the CLI's sentence "kept in “PATH”". */
static char *
rescued_path (const char *err)
{
  const char *start = strstr (err, "kept in “");
  const char *end;

  if (start == NULL)
    return NULL;
  start += strlen ("kept in “");
  end = strstr (start, "”");
  return end ? g_strndup (start, end - start) : NULL;
}

static void
assert_rescued (const char *err)
{
  g_autofree char *path = rescued_path (err);

  g_assert_nonnull (path);
  assert_size (path, 32, 24);
  g_unlink (path);
}

/* A save that fails (the disk is full) loses nothing: the sentence names the file and the
 * reason, nothing partial is left, and the painting is written to the cache instead, named
 * in the message; exit 1. Once with the fault injected (BRUSHWORK_FAULT=write@save), once
 * on a real full file system: a 64 KiB tmpfs filled up, in this process's own mount
 * namespace (main() makes one when run as root, as CI runs). */
static char *no_mounts;

static void
test_save_fails (void)
{
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *output = in_oracle ("save-fails.png");
  g_autofree char *err = NULL, *out = NULL;
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "BRUSHWORK_FAULT", "write@save", TRUE);
  g_autofree char *full = NULL, *filler = NULL, *target = NULL;
  const char *args[] = { "--content", content, "--style", style, "--weights", weights,
                         "--output", output, "--steps", "1", "--size", "32", NULL };
  const char *extra[] = { "--steps", "1", "--size", "32", NULL };
  g_autofree char *zeros = g_malloc0 (4096);
  g_autoptr(GDir) dir = NULL;
  FILE *f;

  g_unlink (output);
  g_assert_cmpint (bw_test_run_cli (args, env, &out, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "save-fails.png"));
  g_assert_nonnull (strstr (err, g_strerror (ENOSPC)));
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
  assert_rescued (err);
  g_clear_pointer (&err, g_free);

  if (no_mounts != NULL)
    {
      g_test_skip (no_mounts);
      return;
    }
  full = g_dir_make_tmp ("brushwork-full-XXXXXX", NULL);
  g_assert_cmpint (mount ("tmpfs", full, "tmpfs", 0, "size=64k"), ==, 0);
  filler = g_build_filename (full, "filler", NULL);
  f = fopen (filler, "w");
  g_assert_nonnull (f);
  while (fwrite (zeros, 1, 4096, f) == 4096 && fflush (f) == 0)
    ;
  fclose (f);
  target = g_build_filename (full, "painting.png", NULL);
  g_assert_cmpint (run_small (style, target, extra, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "painting.png"));
  g_assert_nonnull (strstr (err, g_strerror (ENOSPC)));
  assert_rescued (err);
  /* nothing partial: the filler alone */
  dir = g_dir_open (full, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (dir), ==, "filler");
  g_assert_null (g_dir_read_name (dir));
  g_clear_pointer (&dir, g_dir_close);
  g_assert_cmpint (umount2 (full, MNT_DETACH), ==, 0);
  g_rmdir (full);
}

/* Without a Vulkan driver the CLI says what to install, and exits 1. */
static void
test_no_driver (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *output = in_oracle ("no-driver.png");
  const char *args[] = {
    "--content", content, "--style", style, "--output", output, "--weights", weights, NULL
  };
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree char *out = NULL, *err = NULL;

  /* the loader finds no driver when pointed at a manifest that does not exist */
  envp = g_environ_setenv (envp, "VK_ICD_FILENAMES", "/nonexistent/icd.json", TRUE);
  envp = g_environ_setenv (envp, "VK_DRIVER_FILES", "/nonexistent/icd.json", TRUE);
  envp = g_environ_unsetenv (envp, "BRUSHWORK_VALIDATE");
  g_assert_cmpint (bw_test_run_cli (args, envp, &out, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "mesa-vulkan-drivers"));
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

/* Ctrl-C stops after the current step, writes the image so far and exits with 130. */
static void
test_interrupt (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *output = in_oracle ("interrupted.png");
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = NULL;
  char *line;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           g_getenv ("BRUSHWORK_CLI"), "--content", content, "--style", style,
                           "--weights", weights, "--output", output, "--preset", "seed",
                           "--steps", "100000", "--size", "32", "--verbose", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  /* wait for the first step, then interrupt */
  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, &error)) != NULL)
    {
      gboolean stepped = g_str_has_prefix (line, "step ");
      g_free (line);
      if (stepped)
        break;
    }
  g_assert_no_error (error);
  g_subprocess_send_signal (proc, SIGINT);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 130);
  image = bw_image_load (output, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (image), ==, 32);
}

/* The device lost at step 3 of 6: one line says so, painting goes on (the steps counted on,
 * each once) and the file is the one an uninterrupted run writes: Adam's state is kept on
 * the host, so the same operations run from the same state; at most one 8-bit rounding step
 * apart, for a device whose sums are not deterministic (lavapipe's are: none). Lost three
 * times: exit 1 with the lost device's sentence, and the image of the last finished step
 * written. */
static void
test_device_lost (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *want_path = in_oracle ("lost-want.png");
  g_autofree char *got_path = in_oracle ("lost-got.png");
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "BRUSHWORK_FAULT", "device-lost@3", TRUE);
  g_auto(GStrv) env3 = g_environ_setenv (g_get_environ (), "BRUSHWORK_FAULT", "device-lost@3x3", TRUE);
  g_auto(GStrv) lines = NULL;
  g_autoptr(BwImage) want = NULL, got = NULL;
  g_autoptr(GError) error = NULL;
  const char *args[] = { "--content", content, "--style", style, "--weights", weights,
                         "--output", NULL, "--steps", "6", "--size", "32", "--preset", "seed",
                         "--verbose", NULL };
  int seen = 0;
  double worst = 0;

  args[7] = want_path;
  g_assert_cmpint (bw_test_run_cli (args, NULL, &out, &err), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  args[7] = got_path;
  g_assert_cmpint (bw_test_run_cli (args, env, &out, &err), ==, 0);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "The graphics device was lost; painting goes on from step 2"));
  lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      int step, total;

      if (sscanf (lines[i], "step %d/%d", &step, &total) == 2)
        g_assert_cmpint (step, ==, ++seen);
    }
  g_assert_cmpint (seen, ==, 6);
  want = bw_image_load (want_path, 0, &error);
  g_assert_no_error (error);
  got = bw_image_load (got_path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bw_image_get_width (got), ==, bw_image_get_width (want));
  g_assert_cmpint (bw_image_get_height (got), ==, bw_image_get_height (want));
  for (gsize i = 0; i < (gsize) 3 * bw_image_get_width (want) * bw_image_get_height (want); i++)
    worst = MAX (worst, fabs (bw_image_get_data (got)[i] - bw_image_get_data (want)[i]));
  g_test_message ("lost at step 3: at most %g from the uninterrupted run", worst);
  g_assert_cmpfloat (worst, <=, 1.0 / 255 + 1e-6);
  g_unlink (got_path);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (bw_test_run_cli (args, env3, &out, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "The graphics device stopped working"));
  g_assert_nonnull (strstr (err, "The image so far is in"));
  assert_size (got_path, bw_image_get_width (want), bw_image_get_height (want));
  g_unlink (got_path);
  g_unlink (want_path);
}

/* Out of memory where the second coarse-to-fine pass (64x48, seed preset) allocates, and no
 * smaller plan fits that size (session: /session/fault/oom-gives-up): exit 1 with the
 * sentence, which says what to do, and the image of the last finished step written, at the
 * output size. */
static void
test_out_of_memory (void)
{
  g_autofree char *content = in_oracle ("content.png");
  g_autofree char *style = in_oracle ("style.png");
  g_autofree char *weights = in_oracle ("vgg19.pth");
  g_autofree char *got_path = in_oracle ("oom-got.png");
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "BRUSHWORK_FAULT", "oom@3", TRUE);
  const char *args[] = { "--content", content, "--style", style, "--weights", weights,
                         "--output", got_path, "--steps", "4", "--size", "64", "--scales", "2",
                         "--preset", "seed", NULL };

  g_assert_cmpint (bw_test_run_cli (args, env, &out, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "The graphics device ran out of memory at step 3"));
  g_assert_nonnull (strstr (err, "The image so far is in"));
  assert_size (got_path, 64, 48);
  g_unlink (got_path);
}

int
main (int   argc,
      char *argv[])
{
  const char *args[] = { "--steps", G_STRINGIFY (STEPS), NULL };
  int ret;

  /* /cli/save-fails mounts a small tmpfs, in a mount namespace of this process alone so that
   * no mount outlives it or shows outside; unshare() must come before any thread */
  if (geteuid () != 0)
    no_mounts = g_strdup ("not root, so no small tmpfs can be mounted to fill up");
  else if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    no_mounts = g_strdup_printf ("no mount namespace of its own (%s)", g_strerror (errno));
  g_test_init (&argc, &argv, NULL);
  oracle_dir = bw_test_run_oracle ("cli_oracle.py", args);
  g_test_add_func ("/cli/seed-parity", test_seed_parity);
  g_test_add_func ("/cli/bad-input", test_bad_input);
  g_test_add_func ("/cli/interrupt", test_interrupt);
  g_test_add_func ("/cli/no-vulkan-driver", test_no_driver);
  g_test_add_func ("/cli/output-is-input", test_output_is_input);
  g_test_add_func ("/cli/output-link", test_output_link);
  g_test_add_func ("/cli/saves-at-output-size", test_saves_at_output_size);
  g_test_add_func ("/cli/wide-painting", test_wide_painting);
  g_test_add_func ("/cli/not-finite", test_not_finite);
  g_test_add_func ("/cli/save-fails", test_save_fails);
  g_test_add_func ("/cli/device-lost", test_device_lost);
  g_test_add_func ("/cli/out-of-memory", test_out_of_memory);
  ret = g_test_run ();
  bw_test_remove_dir (oracle_dir);
  g_free (oracle_dir);
  g_free (no_mounts);
  return ret;
}
