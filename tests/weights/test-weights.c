/* test-weights.c: the weight loaders, on files make_fixtures.py writes with PyTorch.
 *
 * Every good file must give VGG19's 26 conv tensors bit for bit as reference.bin holds them
 * (F16 files as reference-f16.bin: the same values rounded through float16 by PyTorch, so
 * the comparison stays exact). Every bad file must give the expected GError, naming the
 * file. The fuzz case mutates small files and asserts only "an error or a result, no crash";
 * run it under ASan/UBSan (see tests/weights/meson.build).
 *
 * Fixtures: the directory in $BW_WEIGHTS_FIXTURES, or the first argument. Given
 * $BW_WEIGHTS_PYTHON and $BW_WEIGHTS_FIXTURE_SCRIPT, they are (re)written first when missing
 * or older than the script; a stamp file beside the directory records a complete run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "vgg19/bw-vgg19-layers.h"
#include "weights/bw-weights.h"

#define N_TENSORS (BW_VGG19_N_CONVS * 2)

static char *fixtures;
static float *reference;
static float *reference_f16;

static char *
fixture (const char *name)
{
  return g_build_filename (fixtures, name, NULL);
}

static gboolean
need_fixtures (void)
{
  if (fixtures != NULL)
    return TRUE;
  g_test_skip ("no fixtures: set BW_WEIGHTS_FIXTURES or pass the directory");
  return FALSE;
}

static float *
read_reference (const char *name)
{
  g_autofree char *path = fixture (name);
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize len = 0, want = 0;

  for (guint i = 0; i < BW_VGG19_N_CONVS; i++)
    want += ((gsize) bw_vgg19_convs[i].out_channels * bw_vgg19_convs[i].in_channels * 9 +
             bw_vgg19_convs[i].out_channels) * sizeof (float);
  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, want);
  return (float *) data;
}

/* Every one of the 26 tensors: shape, and values bit for bit. */
static void
assert_matches (BwWeights   *w,
                const float *ref,
                const char  *what)
{
  gsize at = 0;

  g_assert_cmpuint (bw_weights_get_n_tensors (w), ==, N_TENSORS);
  for (guint i = 0; i < BW_VGG19_N_CONVS; i++)
    for (int weight = 1; weight >= 0; weight--)
      {
        const BwVgg19Conv *conv = &bw_vgg19_convs[i];
        g_autofree char *name = g_strdup_printf ("features.%d.%s", conv->module,
                                                 weight ? "weight" : "bias");
        gsize n = weight ? (gsize) conv->out_channels * conv->in_channels * 9 : (gsize) conv->out_channels;
        const gint64 *shape = NULL;
        guint n_dims = 0;
        const float *got = bw_weights_lookup (w, name, &shape, &n_dims);

        g_assert_nonnull (got);
        g_assert_cmpuint (n_dims, ==, weight ? 4 : 1);
        g_assert_cmpint (shape[0], ==, conv->out_channels);
        if (weight)
          {
            g_assert_cmpint (shape[1], ==, conv->in_channels);
            g_assert_cmpint (shape[2], ==, 3);
            g_assert_cmpint (shape[3], ==, 3);
          }
        if (memcmp (got, ref + at, n * sizeof (float)) != 0)
          for (gsize k = 0; k < n; k++)
            if (memcmp (&got[k], &ref[at + k], sizeof (float)) != 0)
              g_error ("%s: %s[%" G_GSIZE_FORMAT "] is %.9g, want %.9g",
                       what, name, k, got[k], ref[at + k]);
        at += n;
      }
}

/* Good files. */

typedef struct {
  const char *name;
  gboolean f16;
} Good;

static const Good good_files[] = {
  { "vgg19-full.pth", FALSE },
  { "vgg19-full-legacy.pth", FALSE },
  { "vgg19-features.pth", FALSE },
  { "vgg19-features-legacy.pth", FALSE },
  { "vgg19-features-p4.pth", FALSE },
  { "vgg19-checkpoint.pth", FALSE },
  { "vgg19-strided.pth", FALSE },
  { "vgg19-strided-legacy.pth", FALSE },
  { "vgg19-old-legacy.pth", FALSE },
  { "vgg19-f32.safetensors", FALSE },
  { "vgg19-half.pth", TRUE },
  { "vgg19-f16.safetensors", TRUE },
};

static void
test_good (gconstpointer data)
{
  const Good *good = data;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) w = NULL;

  if (!need_fixtures ())
    return;
  path = fixture (good->name);
  w = bw_weights_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (w);
  assert_matches (w, good->f16 ? reference_f16 : reference, good->name);
  g_assert_true (bw_weights_check_vgg19 (w, path, &error));
  g_assert_no_error (error);
}

/* rchar in /proc/self/io: bytes this process has read through read() and friends. */
static gboolean
read_bytes_so_far (guint64 *out)
{
  g_autofree char *io = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/io", &io, NULL, NULL))
    return FALSE;
  p = strstr (io, "rchar:");
  if (p == NULL)
    return FALSE;
  *out = g_ascii_strtoull (p + strlen ("rchar:"), NULL, 10);
  return TRUE;
}

/* A full torchvision file is 548 MB, 480 MB of it the classifier: only the 52 MB of convs
 * (and the pickle and directory) may be read. */
static void
test_reads_only_convs (void)
{
  const char *names[] = { "vgg19-full.pth", "vgg19-full-legacy.pth" };

  if (!need_fixtures ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = fixture (names[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(BwWeights) w = NULL;
      guint64 before, after;

      if (!read_bytes_so_far (&before))
        {
          g_test_skip ("no /proc/self/io");
          return;
        }
      w = bw_weights_load (path, &error);
      g_assert_no_error (error);
      g_assert_true (read_bytes_so_far (&after));
      g_test_message ("%s: read %" G_GUINT64_FORMAT " bytes", names[i], after - before);
      g_assert_cmpuint (after - before, <, 56 * 1024 * 1024);
      g_assert_cmpuint (after - before, >=, 51779840);
    }
}

static void
test_load_bytes (void)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) cut = NULL;
  g_autoptr(BwWeights) w = NULL;

  if (!need_fixtures ())
    return;
  path = fixture ("vgg19-features-legacy.pth");
  mapped = g_mapped_file_new (path, FALSE, &error);
  g_assert_no_error (error);
  bytes = g_mapped_file_get_bytes (mapped);
  w = bw_weights_load_bytes (bytes, "memory.pth", BW_WEIGHTS_LOAD_DEFAULT, &error);
  g_assert_no_error (error);
  assert_matches (w, reference, "bytes");
  g_clear_object (&w);

  /* All tensors: the 16 convs' 32, unchecked */
  w = bw_weights_load_bytes (bytes, "memory.pth", BW_WEIGHTS_LOAD_ALL_TENSORS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bw_weights_get_n_tensors (w), ==, 32);
  g_assert_cmpstr (bw_weights_get_name (w, 0), ==, "0.weight");
  g_clear_object (&w);

  cut = g_bytes_new_from_bytes (bytes, 0, g_bytes_get_size (bytes) / 2);
  w = bw_weights_load_bytes (cut, "memory.pth", BW_WEIGHTS_LOAD_DEFAULT, &error);
  g_assert_null (w);
  g_assert_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "“memory.pth” is truncated"));
}

/* Bad files. */

typedef struct {
  const char *name;
  int code;
  const char *says;
} Bad;

static const Bad bad_files[] = {
  { "empty.pth", BW_WEIGHTS_ERROR_FORMAT, "is empty" },
  { "garbage.bin", BW_WEIGHTS_ERROR_FORMAT, "is neither a PyTorch" },
  { "truncated.pth", BW_WEIGHTS_ERROR_FORMAT, "its zip directory is missing" },
  { "truncated-legacy.pth", BW_WEIGHTS_ERROR_FORMAT, "is truncated: tensor features." },
  { "truncated-pickle.pth", BW_WEIGHTS_ERROR_FORMAT, "is truncated: its pickle" },
  { "truncated.safetensors", BW_WEIGHTS_ERROR_FORMAT, "is truncated: tensor " },
  { "truncated-header.safetensors", BW_WEIGHTS_ERROR_FORMAT, "is truncated: its safetensors header" },
  { "evil-global.pth", BW_WEIGHTS_ERROR_FORMAT, "“os.system”" },
  { "evil-global-legacy.pth", BW_WEIGHTS_ERROR_FORMAT, "“os.system”" },
  { "evil-global.pkl", BW_WEIGHTS_ERROR_FORMAT, "“os.system”" },
  { "evil-numpy.pth", BW_WEIGHTS_ERROR_FORMAT, "“numpy.core.multiarray._reconstruct”" },
  { "evil-opcode.pth", BW_WEIGHTS_ERROR_FORMAT, "opcode 0x49" },
  { "deflate.pth", BW_WEIGHTS_ERROR_FORMAT, "compressed" },
  { "bad-count-legacy.pth", BW_WEIGHTS_ERROR_FORMAT, "elements where its pickle says" },
  { "huge-header.safetensors", BW_WEIGHTS_ERROR_FORMAT, "is truncated: its safetensors header" },
  { "huge-offsets.safetensors", BW_WEIGHTS_ERROR_FORMAT, "is truncated: tensor features.0.weight" },
  { "huge-offsets2.safetensors", BW_WEIGHTS_ERROR_FORMAT, "is truncated: tensor features.0.weight" },
  { "huge-shape.safetensors", BW_WEIGHTS_ERROR_FORMAT, "too many elements" },
  { "json-bomb.safetensors", BW_WEIGHTS_ERROR_FORMAT, "nests deeper" },
  { "bad-json.safetensors", BW_WEIGHTS_ERROR_FORMAT, "safetensors header" },
  { "vgg16-features.pth", BW_WEIGHTS_ERROR_NETWORK, "features.16.weight (conv3_4) is missing" },
  { "wrong-shape.safetensors", BW_WEIGHTS_ERROR_NETWORK,
    "has shape [128, 64, 5, 5] where VGG19 has [128, 64, 3, 3]" },
  { "nan-legacy.pth", BW_WEIGHTS_ERROR_NETWORK, "features.10.weight (conv3_1) holds a NaN" },
  { "inf-f16.safetensors", BW_WEIGHTS_ERROR_NETWORK, "features.28.bias (conv5_1) holds a NaN or infinite" },
  { "wrong-dtype.safetensors", BW_WEIGHTS_ERROR_NETWORK, "dtype I32" },
  { "cycle.pth", BW_WEIGHTS_ERROR_NETWORK, "is missing" },
};

/* One sentence that names the file. */
static void
assert_message (const GError *error,
                const char   *name)
{
  g_autofree char *quoted = g_strdup_printf ("“%s”", name);

  g_test_message ("%s: %s", name, error->message);
  g_assert_nonnull (strstr (error->message, quoted));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_true (g_str_has_suffix (error->message, "."));
}

static void
test_bad (gconstpointer data)
{
  const Bad *bad = data;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) w = NULL;

  if (!need_fixtures ())
    return;
  path = fixture (bad->name);
  w = bw_weights_load (path, &error);
  g_assert_null (w);
  g_assert_error (error, BW_WEIGHTS_ERROR, bad->code);
  assert_message (error, bad->name);
  if (strstr (error->message, bad->says) == NULL)
    g_error ("%s: message “%s” does not say “%s”", bad->name, error->message, bad->says);
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) w = bw_weights_load ("/nonexistent/brushwork/vgg19.pth", &error);

  g_assert_null (w);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“vgg19.pth”"));
}

/* Checks on weights built in memory. */
static void
test_check (void)
{
  g_autoptr(BwWeights) w = bw_weights_new ();
  g_autoptr(GError) error = NULL;
  gint64 shape[4] = { 64, 3, 3, 3 };

  bw_weights_insert (w, "features.0.weight", shape, 4, g_new0 (float, 64 * 27));
  g_assert_false (bw_weights_check_vgg19 (w, NULL, &error));
  g_assert_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "In the weights, VGG19's tensor features.0.bias"));
  g_clear_error (&error);

  /* Replacing keeps one entry */
  bw_weights_insert (w, "features.0.weight", shape, 4, g_new0 (float, 64 * 27));
  g_assert_cmpuint (bw_weights_get_n_tensors (w), ==, 1);
  g_assert_null (bw_weights_lookup (w, "features.0.bias", NULL, NULL));
}

/* BF16, F64 and F16 corner cases, from a safetensors file built here. */
static void
test_dtypes (void)
{
  static const char header[] =
    "{\"bf\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
    "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]},"
    "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[12,20]},"
    "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[20,28]},"
    "\"a\\u00e9\\\"\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[28,32]}}";
  /* bf16 1.5, -2; f64 0.1; f16 1.0, smallest subnormal, -inf, 65504; i64 7; f32 3.25 */
  static const guint8 data[] = {
    0xc0, 0x3f, 0x00, 0xc0,
    0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f,
    0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc, 0xff, 0x7b,
    7, 0, 0, 0, 0, 0, 0, 0,
    0x00, 0x00, 0x50, 0x40,
  };
  g_autoptr(GByteArray) file = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) w = NULL;
  guint8 len_le[8] = { 0 };
  const float *v;
  const gint64 *shape;
  guint n_dims;

  len_le[0] = (sizeof header - 1) & 0xff;
  len_le[1] = (sizeof header - 1) >> 8;
  g_byte_array_append (file, len_le, 8);
  g_byte_array_append (file, (const guint8 *) header, sizeof header - 1);
  g_byte_array_append (file, data, sizeof data);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&file));

  w = bw_weights_load_bytes (bytes, "dtypes.safetensors", BW_WEIGHTS_LOAD_ALL_TENSORS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bw_weights_get_n_tensors (w), ==, 4);   /* not the I64 */
  g_assert_null (bw_weights_lookup (w, "i", NULL, NULL));
  v = bw_weights_lookup (w, "bf", NULL, NULL);
  g_assert_cmpfloat (v[0], ==, 1.5f);
  g_assert_cmpfloat (v[1], ==, -2.0f);
  v = bw_weights_lookup (w, "d", NULL, NULL);
  g_assert_cmpfloat (v[0], ==, (float) 0.1);
  v = bw_weights_lookup (w, "h", &shape, &n_dims);
  g_assert_cmpuint (n_dims, ==, 2);
  g_assert_cmpint (shape[1], ==, 2);
  g_assert_cmpfloat (v[0], ==, 1.0f);
  g_assert_cmpfloat (v[1], ==, 5.9604644775390625e-08f);
  g_assert_true (isinf (v[2]) && v[2] < 0);
  g_assert_cmpfloat (v[3], ==, 65504.0f);
  v = bw_weights_lookup (w, "a\xc3\xa9\"", NULL, &n_dims);   /* JSON escapes decoded */
  g_assert_nonnull (v);
  g_assert_cmpuint (n_dims, ==, 0);
  g_assert_cmpfloat (v[0], ==, 3.25f);

  /* The VGG19 loader names what it would have needed */
  g_clear_object (&w);
  w = bw_weights_load_bytes (bytes, "dtypes.safetensors", BW_WEIGHTS_LOAD_DEFAULT, &error);
  g_assert_null (w);
  g_assert_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK);
  assert_message (error, "dtypes.safetensors");
}

/* Save, reload, compare; the save leaves no temporary file behind. */
static void
test_save (void)
{
  g_autofree char *src = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BwWeights) w = NULL;
  g_autoptr(BwWeights) again = NULL;
  g_autoptr(GDir) listing = NULL;
  const char *entry;
  guint n_entries = 0;

  if (!need_fixtures ())
    return;
  src = fixture ("vgg19-half.pth");
  w = bw_weights_load (src, &error);
  g_assert_no_error (error);

  dir = g_dir_make_tmp ("bw-weights-XXXXXX", &error);
  g_assert_no_error (error);
  out = g_build_filename (dir, "saved.safetensors", NULL);
  g_assert_true (g_file_set_contents (out, "old", -1, NULL));
  g_assert_true (bw_weights_save_safetensors (w, out, &error));
  g_assert_no_error (error);

  listing = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (listing)) != NULL)
    {
      g_assert_cmpstr (entry, ==, "saved.safetensors");
      n_entries++;
    }
  g_assert_cmpuint (n_entries, ==, 1);

  again = bw_weights_load (out, &error);
  g_assert_no_error (error);
  assert_matches (again, reference_f16, "saved");
  g_assert_cmpint (g_unlink (out), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  /* Into a directory that does not exist */
  g_assert_false (bw_weights_save_safetensors (w, "/nonexistent/brushwork/out.safetensors", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "“out.safetensors”"));
}

/* The manifest's ranges hold exactly the reference's bytes (for F32 files). */
static void
test_manifest (void)
{
  const char *names[] = { "vgg19-full-legacy.pth", "vgg19-full.pth", "vgg19-f32.safetensors" };

  if (!need_fixtures ())
    return;
  for (guint f = 0; f < G_N_ELEMENTS (names); f++)
    {
      g_autofree char *path = fixture (names[f]);
      g_autoptr(GError) error = NULL;
      g_autofree char *json = bw_weights_make_manifest (path, &error);
      g_autoptr(GRegex) re = NULL;
      g_autoptr(GMatchInfo) match = NULL;
      g_autoptr(GMappedFile) mapped = NULL;
      const guint8 *file;
      gsize at = 0;
      guint n = 0;

      g_assert_no_error (error);
      g_assert_nonnull (json);
      if (f == 0)
        g_test_message ("%.400s", json);
      mapped = g_mapped_file_new (path, FALSE, &error);
      g_assert_no_error (error);
      file = (const guint8 *) g_mapped_file_get_contents (mapped);

      re = g_regex_new ("\\{\"name\": \"([^\"]+)\", \"dtype\": \"F32\", \"shape\": \\[[0-9, ]+\\], "
                        "\"offset\": ([0-9]+), \"length\": ([0-9]+), \"sha256\": \"([0-9a-f]{64})\"\\}",
                        0, 0, &error);
      g_assert_no_error (error);
      g_regex_match (re, json, 0, &match);
      for (; g_match_info_matches (match); g_match_info_next (match, NULL), n++)
        {
          const BwVgg19Conv *conv = &bw_vgg19_convs[n / 2];
          g_autofree char *name = g_match_info_fetch (match, 1);
          g_autofree char *offset_s = g_match_info_fetch (match, 2);
          g_autofree char *length_s = g_match_info_fetch (match, 3);
          g_autofree char *sha = g_match_info_fetch (match, 4);
          g_autofree char *want_name = g_strdup_printf ("features.%d.%s", conv->module,
                                                        n % 2 == 0 ? "weight" : "bias");
          g_autofree char *want_sha = NULL;
          guint64 offset = g_ascii_strtoull (offset_s, NULL, 10);
          guint64 length = g_ascii_strtoull (length_s, NULL, 10);

          g_assert_cmpstr (name, ==, want_name);
          g_assert_cmpuint (offset + length, <=, g_mapped_file_get_length (mapped));
          g_assert_cmpuint (length % 4, ==, 0);
          g_assert_cmpint (memcmp (file + offset, reference + at, length), ==, 0);
          want_sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) (reference + at),
                                                  length);
          g_assert_cmpstr (sha, ==, want_sha);
          at += length / 4;
        }
      g_assert_cmpuint (n, ==, N_TENSORS);
    }
}

/* Fuzz: truncations and random byte changes of small files, in both load modes. Asserts only
 * that each load gives an error or weights, never both, never neither, never a crash. */
static void
try_load (GBytes *bytes)
{
  for (int mode = 0; mode < 2; mode++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BwWeights) w = bw_weights_load_bytes (bytes, "fuzz.pth",
                                                      mode ? BW_WEIGHTS_LOAD_ALL_TENSORS : 0,
                                                      &error);

      g_assert_true ((w == NULL) != (error == NULL));
      if (error != NULL)
        g_assert_true (error->domain == BW_WEIGHTS_ERROR);
      if (w != NULL)
        for (guint i = 0; i < bw_weights_get_n_tensors (w); i++)
          g_assert_nonnull (bw_weights_lookup (w, bw_weights_get_name (w, i), NULL, NULL));
    }
}

/* $BW_WEIGHTS_FUZZ_SECONDS (default 10) bounds the time; $BW_WEIGHTS_FUZZ_SEED changes the
 * seed. With a time given, random changes go on until it is spent. */
static void
test_fuzz (void)
{
  const char *names[] = {
    "tiny.pth", "tiny-legacy.pth", "tiny-p4.pth", "tiny-strided-legacy.pth",
    "tiny.safetensors", "tiny-f16.safetensors",
  };
  const char *seconds_s = g_getenv ("BW_WEIGHTS_FUZZ_SECONDS");
  const char *seed_s = g_getenv ("BW_WEIGHTS_FUZZ_SEED");
  double seconds = seconds_s != NULL ? g_ascii_strtod (seconds_s, NULL) : 10.0;
  guint max_changes = seconds_s != NULL ? G_MAXUINT : 3000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed_s != NULL ? atoi (seed_s) : 4242);
  g_autoptr(GTimer) timer = g_timer_new ();
  guint n_variants = 0;

  if (!need_fixtures ())
    return;
  for (guint f = 0; f < G_N_ELEMENTS (names); f++)
    {
      g_autofree char *path = fixture (names[f]);
      g_autoptr(GError) error = NULL;
      g_autoptr(BwWeights) w = NULL;
      g_autofree guint8 *data = NULL;
      g_autoptr(GBytes) whole = NULL;
      double until = seconds * (f + 1) / G_N_ELEMENTS (names);
      gsize len = 0;

      g_file_get_contents (path, (char **) &data, &len, &error);
      g_assert_no_error (error);
      whole = g_bytes_new (data, len);

      /* The original loads in full */
      w = bw_weights_load_bytes (whole, names[f], BW_WEIGHTS_LOAD_ALL_TENSORS, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (bw_weights_get_n_tensors (w), ==, 4);

      /* Every truncation */
      for (gsize cut = 0; cut < len && g_timer_elapsed (timer, NULL) < until; cut++, n_variants++)
        {
          g_autoptr(GBytes) part = g_bytes_new_from_bytes (whole, 0, cut);

          try_load (part);
        }

      /* Random changes of 1-4 bytes; half of them within the first 512 (the headers) */
      for (guint v = 0; v < max_changes && g_timer_elapsed (timer, NULL) < until; v++, n_variants++)
        {
          g_autofree guint8 *copy = g_memdup2 (data, len);
          g_autoptr(GBytes) mutated = NULL;
          int n_changes = g_rand_int_range (rand, 1, 5);

          for (int c = 0; c < n_changes; c++)
            {
              gsize limit = v % 2 == 0 ? MIN (len, 512) : len;
              gsize at = g_rand_int_range (rand, 0, limit);

              if (g_rand_boolean (rand))
                copy[at] ^= 1u << g_rand_int_range (rand, 0, 8);
              else
                copy[at] = g_rand_int_range (rand, 0, 256);
            }
          mutated = g_bytes_new_take (g_steal_pointer (&copy), len);
          try_load (mutated);
        }
    }
  g_test_message ("%u variants in %.1f s", n_variants, g_timer_elapsed (timer, NULL));
}

static gint64
mtime (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_mtime : -1;
}

/* Runs make_fixtures.py when its output is missing or stale. */
static void
make_fixtures (const char *dir)
{
  const char *python = g_getenv ("BW_WEIGHTS_PYTHON");
  const char *script = g_getenv ("BW_WEIGHTS_FIXTURE_SCRIPT");
  g_autofree char *stamp = g_strconcat (dir, ".stamp", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *args[5];
  int status = 0;

  if (python == NULL || script == NULL)
    return;
  if (mtime (stamp) >= 0 && mtime (stamp) >= mtime (script) && g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  g_unlink (stamp);
  args[0] = python;
  args[1] = script;
  args[2] = dir;
  args[3] = stamp;
  args[4] = NULL;
  g_test_message ("writing fixtures: %s %s %s", python, script, dir);
  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("make_fixtures.py failed:\n%s%s", out, err);
}

int
main (int    argc,
      char **argv)
{
  const char *dir;

  g_test_init (&argc, &argv, NULL);

  dir = g_getenv ("BW_WEIGHTS_FIXTURES");
  if (argc > 1)
    dir = argv[1];
  if (dir != NULL)
    make_fixtures (dir);
  if (dir != NULL && g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      fixtures = g_strdup (dir);
      reference = read_reference ("reference.bin");
      reference_f16 = read_reference ("reference-f16.bin");
    }

  /* First, while nothing else has been read */
  g_test_add_func ("/weights/reads-only-convs", test_reads_only_convs);
  for (guint i = 0; i < G_N_ELEMENTS (good_files); i++)
    {
      g_autofree char *name = g_strdup_printf ("/weights/good/%s", good_files[i].name);

      g_test_add_data_func (name, &good_files[i], test_good);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autofree char *name = g_strdup_printf ("/weights/bad/%s", bad_files[i].name);

      g_test_add_data_func (name, &bad_files[i], test_bad);
    }
  g_test_add_func ("/weights/bad/missing-file", test_missing_file);
  g_test_add_func ("/weights/load-bytes", test_load_bytes);
  g_test_add_func ("/weights/check", test_check);
  g_test_add_func ("/weights/dtypes", test_dtypes);
  g_test_add_func ("/weights/save", test_save);
  g_test_add_func ("/weights/manifest", test_manifest);
  g_test_add_func ("/weights/fuzz", test_fuzz);

  {
    int ret = g_test_run ();

    g_free (reference);
    g_free (reference_f16);
    g_free (fixtures);
    return ret;
  }
}
