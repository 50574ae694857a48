/* bw-texture.c: images as GdkTextures, made off the main thread. */
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "bw-texture.h"
#include "motion/bw-video-reader.h"

GdkTexture *
bw_texture_new_for_image (BwImage *image)
{
  g_autoptr(GBytes) rgb = bw_image_to_rgb8 (image);
  int width = bw_image_get_width (image);

  return gdk_memory_texture_new (width, bw_image_get_height (image), GDK_MEMORY_R8G8B8,
                                 rgb, (gsize) width * 3);
}

typedef struct {
  GFile *file;
  int size;
  double seconds;
} LoadRequest;

typedef struct {
  GdkTexture *texture;
  double duration;
} Loaded;

static void
load_request_free (LoadRequest *request)
{
  g_object_unref (request->file);
  g_free (request);
}

static void
loaded_free (Loaded *loaded)
{
  g_clear_object (&loaded->texture);
  g_free (loaded);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadRequest *request = task_data;
  g_autofree char *path = g_file_get_path (request->file);
  g_autoptr(BwImage) image = NULL;
  g_autoptr(GError) error = NULL;
  Loaded *loaded;
  int size = request->size, width = 0, height = 0;
  double duration = 0;

  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (request->file);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("“%s” is not a local file. Save it to a folder first, then open it from there."),
                               uri);
      return;
    }
  if (bw_video_reader_is_video (path))
    {
      image = bw_video_reader_get_frame_at (path, request->size, request->seconds, &duration, &error);
      if (image == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }
  else
    {
      /* a thumbnail only ever shrinks: a small image keeps its own pixels */
      if (size > 0 && gdk_pixbuf_get_file_info (path, &width, &height) && MAX (width, height) <= size)
        size = 0;
      image = bw_image_load (path, size, &error);
    }
  if (image == NULL)
    {
      g_autofree char *name = g_file_get_basename (request->file);

      if (g_error_matches (error, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE))
        g_task_return_new_error (task, BW_IMAGE_ERROR, BW_IMAGE_ERROR_UNREADABLE,
                                 _("“%s” is not an image Brushwork can read. Choose a PNG, JPEG, WebP or TIFF file, or a video."),
                                 name);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  loaded = g_new0 (Loaded, 1);
  loaded->texture = bw_texture_new_for_image (image);
  loaded->duration = duration;
  g_task_return_pointer (task, loaded, (GDestroyNotify) loaded_free);
}

void
bw_texture_load_frame_async (GFile               *file,
                             int                  size,
                             double               seconds,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  LoadRequest *request = g_new0 (LoadRequest, 1);

  request->file = g_object_ref (file);
  request->size = size;
  request->seconds = seconds;
  g_task_set_source_tag (task, bw_texture_load_frame_async);
  g_task_set_task_data (task, request, (GDestroyNotify) load_request_free);
  g_task_run_in_thread (task, load_thread);
}

GdkTexture *
bw_texture_load_frame_finish (GAsyncResult  *result,
                              double        *duration,
                              GError       **error)
{
  Loaded *loaded = g_task_propagate_pointer (G_TASK (result), error);
  GdkTexture *texture;

  if (loaded == NULL)
    return NULL;
  if (duration)
    *duration = loaded->duration;
  texture = g_steal_pointer (&loaded->texture);
  loaded_free (loaded);
  return texture;
}

void
bw_texture_load_async (GFile               *file,
                       int                  size,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  bw_texture_load_frame_async (file, size, 0, cancellable, callback, user_data);
}

GdkTexture *
bw_texture_load_finish (GAsyncResult  *result,
                        GError       **error)
{
  return bw_texture_load_frame_finish (result, NULL, error);
}

void
bw_texture_remove_temporary (GFile *file)
{
  g_autoptr(GFile) dir = NULL;

  g_return_if_fail (G_IS_FILE (file));

  dir = g_file_get_parent (file);
  g_file_delete (file, NULL, NULL);
  if (dir)
    g_file_delete (dir, NULL, NULL);
}

static void
remove_unclaimed (gpointer file)
{
  bw_texture_remove_temporary (file);
  g_object_unref (file);
}

static void
save_temporary_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GdkTexture *texture = task_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("brushwork-XXXXXX", &error);
  g_autofree char *path = NULL;

  if (dir == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* the file's stem names the default output, so call it what it is */
  path = g_build_filename (dir, "pasted.png", NULL);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_unlink (path);
      g_rmdir (dir);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("The pasted image could not be stored in “%s”. Check that the disk is not full."),
                               dir);
      return;
    }
  /* a file the caller never takes (the save was cancelled meanwhile) is removed with the
   * task */
  g_task_return_pointer (task, g_file_new_for_path (path), remove_unclaimed);
}

void
bw_texture_save_temporary_async (GdkTexture          *texture,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, bw_texture_save_temporary_async);
  g_task_set_task_data (task, g_object_ref (texture), g_object_unref);
  g_task_run_in_thread (task, save_temporary_thread);
}

GFile *
bw_texture_save_temporary_finish (GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
