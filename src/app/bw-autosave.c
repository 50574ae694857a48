/* bw-autosave.c: see bw-autosave.h. */
#include "bw-autosave.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bw-texture.h"

#define GROUP "Painting"

char *
bw_autosave_get_dir (void)
{
  return g_build_filename (g_get_user_state_dir (), "brushwork", "autosave", NULL);
}

static char *
path_for (const char *id,
          const char *extension)
{
  g_autofree char *dir = bw_autosave_get_dir ();
  g_autofree char *name = g_strconcat (id, extension, NULL);

  return g_build_filename (dir, name, NULL);
}

BwAutosave *
bw_autosave_new (const char     *content,
                 double          position,
                 GPtrArray      *styles,
                 GArray         *blends,
                 const BwParams *params)
{
  BwAutosave *self = g_new0 (BwAutosave, 1);

  self->id = g_uuid_string_random ();
  self->content = g_strdup (content);
  self->position = position;
  self->styles = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < styles->len; i++)
    g_ptr_array_add (self->styles, g_strdup (g_ptr_array_index (styles, i)));
  self->blends = g_array_copy (blends);
  self->params = *params;
  self->image = path_for (self->id, ".png");
  return self;
}

BwAutosave *
bw_autosave_copy (const BwAutosave *self)
{
  BwAutosave *copy = bw_autosave_new (self->content, self->position, self->styles,
                                      self->blends, &self->params);

  g_free (copy->id);
  copy->id = g_strdup (self->id);
  g_free (copy->image);
  copy->image = g_strdup (self->image);
  copy->step = self->step;
  return copy;
}

void
bw_autosave_free (BwAutosave *self)
{
  if (self == NULL)
    return;
  g_free (self->id);
  g_free (self->content);
  g_clear_pointer (&self->styles, g_ptr_array_unref);
  g_clear_pointer (&self->blends, g_array_unref);
  g_free (self->image);
  g_free (self);
}

static gboolean
write_png (BwImage     *image,
           const char  *path,
           GError     **error)
{
  g_autoptr(GdkTexture) texture = bw_texture_new_for_image (image);
  g_autoptr(GBytes) png = gdk_texture_save_to_png_bytes (texture);

  /* g_file_set_contents: a temporary file, then renamed */
  return g_file_set_contents (path, g_bytes_get_data (png, NULL), g_bytes_get_size (png), error);
}

/* The image first, then the key file that points at it: a crash between the two leaves the
 * last key file with a newer image, never a key file without one. */
gboolean
bw_autosave_write (BwAutosave  *self,
                   BwImage     *image,
                   int          step,
                   GError     **error)
{
  g_autoptr(GKeyFile) keys = g_key_file_new ();
  g_autofree char *dir = bw_autosave_get_dir ();
  g_autofree char *ini = path_for (self->id, ".ini");
  const BwParams *p = &self->params;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s", dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (!write_png (image, self->image, error))
    return FALSE;
  self->step = step;
  g_key_file_set_integer (keys, GROUP, "pid", getpid ());
  g_key_file_set_string (keys, GROUP, "content", self->content);
  g_key_file_set_double (keys, GROUP, "position", self->position);
  g_key_file_set_string_list (keys, GROUP, "styles",
                              (const char *const *) self->styles->pdata, self->styles->len);
  g_key_file_set_double_list (keys, GROUP, "blends", (double *) self->blends->data,
                              self->blends->len);
  g_key_file_set_integer (keys, GROUP, "step", step);
  g_key_file_set_string (keys, GROUP, "image", self->image);
  /* what the window's controls set; the rest follows from the preset */
  g_key_file_set_string (keys, GROUP, "preset", p->gram_mode == BW_GRAM_SEED ? "seed" : "default");
  g_key_file_set_integer (keys, GROUP, "size", p->size);
  g_key_file_set_integer (keys, GROUP, "steps", p->steps);
  g_key_file_set_double (keys, GROUP, "content-weight", p->content_weight);
  g_key_file_set_double (keys, GROUP, "style-weight", p->style_weight);
  g_key_file_set_double (keys, GROUP, "tv-weight", p->tv_weight);
  g_key_file_set_string (keys, GROUP, "optimizer", p->optimizer == BW_OPTIMIZER_ADAM ? "adam" : "lbfgs");
  g_key_file_set_double (keys, GROUP, "lr", p->lr);
  g_key_file_set_boolean (keys, GROUP, "preserve-colors", p->preserve_colors);
  g_key_file_set_boolean (keys, GROUP, "histogram-colors", p->transfer_histogram);
  g_key_file_set_double (keys, GROUP, "style-scale", p->style_scale);
  return g_key_file_save_to_file (keys, ini, error);
}

void
bw_autosave_remove (BwAutosave *self)
{
  g_autofree char *ini = path_for (self->id, ".ini");

  /* the key file first: without it the image is never offered */
  g_unlink (ini);
  g_unlink (self->image);
}

static gboolean
process_is_gone (int pid)
{
  if (pid <= 0)
    return TRUE;
  if (pid == getpid ())
    return FALSE;
  return kill (pid, 0) != 0 && errno == ESRCH;
}

/* NULL for a key file that is not a whole autosave, or one whose process still runs. */
static BwAutosave *
read_abandoned (const char *ini)
{
  g_autoptr(GKeyFile) keys = g_key_file_new ();
  g_autoptr(BwAutosave) self = g_new0 (BwAutosave, 1);
  g_autofree char *preset = NULL, *optimizer = NULL;
  g_autofree double *blends = NULL;
  g_auto(GStrv) styles = NULL;
  g_autoptr(GError) error = NULL;
  gsize n_styles = 0, n_blends = 0;
  BwParams *p = &self->params;

  if (!g_key_file_load_from_file (keys, ini, G_KEY_FILE_NONE, NULL) ||
      !process_is_gone (g_key_file_get_integer (keys, GROUP, "pid", NULL)))
    return NULL;
  self->styles = g_ptr_array_new_with_free_func (g_free);
  self->blends = g_array_new (FALSE, FALSE, sizeof (double));
  self->content = g_key_file_get_string (keys, GROUP, "content", &error);
  self->image = g_key_file_get_string (keys, GROUP, "image", &error);
  styles = g_key_file_get_string_list (keys, GROUP, "styles", &n_styles, &error);
  blends = g_key_file_get_double_list (keys, GROUP, "blends", &n_blends, &error);
  preset = g_key_file_get_string (keys, GROUP, "preset", &error);
  optimizer = g_key_file_get_string (keys, GROUP, "optimizer", &error);
  if (error != NULL || n_styles != n_blends || !bw_params_init_preset (p, preset) ||
      !g_file_test (self->image, G_FILE_TEST_IS_REGULAR))
    return NULL;
  for (gsize i = 0; i < n_styles; i++)
    g_ptr_array_add (self->styles, g_strdup (styles[i]));
  g_array_append_vals (self->blends, blends, n_blends);
  self->position = g_key_file_get_double (keys, GROUP, "position", NULL);
  self->step = g_key_file_get_integer (keys, GROUP, "step", NULL);
  p->size = g_key_file_get_integer (keys, GROUP, "size", NULL);
  p->steps = g_key_file_get_integer (keys, GROUP, "steps", NULL);
  p->content_weight = g_key_file_get_double (keys, GROUP, "content-weight", NULL);
  p->style_weight = g_key_file_get_double (keys, GROUP, "style-weight", NULL);
  p->tv_weight = g_key_file_get_double (keys, GROUP, "tv-weight", NULL);
  p->optimizer = g_strcmp0 (optimizer, "adam") == 0 ? BW_OPTIMIZER_ADAM : BW_OPTIMIZER_LBFGS;
  p->lr = g_key_file_get_double (keys, GROUP, "lr", NULL);
  p->preserve_colors = g_key_file_get_boolean (keys, GROUP, "preserve-colors", NULL);
  p->transfer_histogram = g_key_file_get_boolean (keys, GROUP, "histogram-colors", NULL);
  if (g_key_file_has_key (keys, GROUP, "style-scale", NULL))
    p->style_scale = g_key_file_get_double (keys, GROUP, "style-scale", NULL);
  if (p->size <= 0 || p->steps <= 0 || self->step < 0)
    return NULL;
  return g_steal_pointer (&self);
}

BwAutosave *
bw_autosave_find_abandoned (void)
{
  g_autofree char *dir = bw_autosave_get_dir ();
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  BwAutosave *newest = NULL;
  gint64 newest_time = 0;
  const char *name;

  while (listing && (name = g_dir_read_name (listing)))
    {
      g_autofree char *ini = NULL;
      BwAutosave *found;
      GStatBuf st;

      if (!g_str_has_suffix (name, ".ini"))
        continue;
      ini = g_build_filename (dir, name, NULL);
      found = read_abandoned (ini);
      if (found == NULL || g_stat (ini, &st) != 0)
        {
          bw_autosave_free (found);
          continue;
        }
      found->id = g_strndup (name, strlen (name) - 4);
      if (newest == NULL || st.st_mtime > newest_time)
        {
          bw_autosave_free (newest);
          newest = found;
          newest_time = st.st_mtime;
        }
      else
        bw_autosave_free (found);
    }
  return newest;
}

char *
bw_autosave_rescue (BwImage     *image,
                    const char  *output,
                    GError     **error)
{
  g_autofree char *base = g_path_get_basename (output);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "brushwork", "rescued", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *name = g_strdup_printf ("%s-%s", stamp, base);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s", dir,
                   g_strerror (saved_errno));
      return NULL;
    }
  if (!bw_image_save (image, path, 92, error))
    return NULL;
  return g_steal_pointer (&path);
}
