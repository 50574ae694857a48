/* bw-test-util.h: what every engine test shares: one device, seeded data, tolerant compares. */
#pragma once

#include <glib.h>
#include <math.h>

#include "gpu/bw-device.h"
#include "image/bw-image.h"
#include "vgg19/bw-vgg19-layers.h"
#include "weights/bw-weights.h"

/* The device for this test program; with BRUSHWORK_VALIDATE=1 any validation error fails the
 * test that caused it (checked by bw_test_check_validation()). */
BwDevice *bw_test_device (void);
void      bw_test_check_validation (void);
/* Releases the device (and so writes its pipeline cache). */
void      bw_test_shutdown (void);

/* @n uniform floats in [lo, hi) from a seeded generator. */
float    *bw_test_random (GRand *rand, gsize n, float lo, float hi);

/* Asserts |got - want| <= abs_tol or <= rel_tol * |want| for every element, naming the first
 * element that fails and the worst errors seen. */
void      bw_test_assert_close (const char   *what,
                                const float  *got,
                                const double *want,
                                gsize         n,
                                double        abs_tol,
                                double        rel_tol);

/* Asserts max |got - want| <= rel_tol * max |want|: for deep features and gradients, whose
 * elements near zero have no meaningful relative error. */
void      bw_test_assert_close_normwise (const char   *what,
                                         const float  *got,
                                         const float  *want,
                                         gsize         n,
                                         double        rel_tol);

/* Runs tests/oracle/@script (with the Python that has PyTorch) writing into a new temporary
 * directory, which is returned; fails the test if it cannot. */
char     *bw_test_run_oracle (const char *script,
                              const char *const *args);
/* Reads a raw float32 file of exactly @n floats from @dir. */
float    *bw_test_read_floats (const char *dir,
                               const char *name,
                               gsize       n);
/* Reads "name value" from @dir/values.txt. */
double    bw_test_read_value (const char *dir,
                              const char *name);
/* Deletes @dir and the files in it (not recursive: oracles write flat folders). */
void      bw_test_remove_dir (const char *dir);

/* Runs brushwork-cli (BRUSHWORK_CLI) with @args and @envp (NULL: ours); returns its exit
 * status and what it printed, and fails the test if it died of a signal (a crash or a
 * sanitizer's report). */
int       bw_test_run_cli (const char *const  *args,
                           char              **envp,
                           char              **out,
                           char              **err);
BwWeights *bw_test_weights_from_dir (const char *dir);

/* The PSNR of @b against @a (same size, values in [0, 1]); 200 dB for identical images. */
double    bw_test_image_psnr (BwImage *a,
                              BwImage *b);
