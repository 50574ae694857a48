/* test-translation: the engine's errors reach the app's dialogs in the user's language.
 *
 * /translation/engine-error: in a German locale, with LANGUAGE=de and the "brushwork" domain bound to this
 *   build's catalogs (as the app binds it to the installed ones), the engine's error for a
 *   missing photo is po/de.po's sentence, not the English one.
 */
#include <locale.h>
#include <libintl.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

/* glibc's C.UTF-8 locale, compiled (Debian 12 and 13) */
#define C_UTF8_DIR "/usr/lib/locale/C.utf8"

#include "image/bw-image.h"

/* the app's domain (src/app/meson.build), which the engine's sentences use too */
#define DOMAIN "brushwork"

static void
test_engine_error (void)
{
  g_autofree char *missing = g_build_filename (g_get_tmp_dir (), "brushwork-no-such-photo.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(BwImage) image = bw_image_load (missing, 0, &error);
  g_autofree char *german = g_strdup_printf ("„%s“ existiert nicht. Prüfen Sie den Dateinamen.",
                                             missing);

  g_assert_null (image);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, german);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *locale_dir = NULL;
  g_autofree char *locales = g_dir_make_tmp ("brushwork-locales-XXXXXX", NULL);
  g_autofree char *german = locales ? g_build_filename (locales, "de_DE.utf8", NULL) : NULL;
  int status;

  /* before setlocale(), which reads it */
  g_setenv ("LANGUAGE", "de", TRUE);
  /* A German locale, which a minimal Debian lacks: glibc's C.UTF-8 under that name. Up to
   * glibc 2.36 (Debian 12) C.UTF-8 itself honoured LANGUAGE; 2.41 (Debian 13) ignores it
   * there, as in "C". */
  if (german && symlink (C_UTF8_DIR, german) == 0)
    g_setenv ("LOCPATH", locales, TRUE);
  if (!setlocale (LC_ALL, "de_DE.UTF-8"))
    setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  /* the catalogs this build compiled from po/: po/de/LC_MESSAGES/brushwork.mo */
  locale_dir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  bindtextdomain (DOMAIN, locale_dir);
  bind_textdomain_codeset (DOMAIN, "UTF-8");

  g_test_add_func ("/translation/engine-error", test_engine_error);
  status = g_test_run ();
  if (german)
    {
      g_unlink (german);
      g_rmdir (locales);
    }
  return status;
}
