/* test-translation: the engine's errors reach the app's dialogs in the user's language.
 *
 * /translation/engine-error: with LANGUAGE=de and the "brushwork" domain bound to this
 *   build's catalogs (as the app binds it to the installed ones), the engine's error for a
 *   missing photo is po/de.po's sentence, not the English one.
 */
#include <locale.h>
#include <libintl.h>
#include <glib.h>

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

  /* before setlocale(), which reads it; C.UTF-8 honours LANGUAGE, no German locale needed */
  g_setenv ("LANGUAGE", "de", TRUE);
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  /* the catalogs this build compiled from po/: po/de/LC_MESSAGES/brushwork.mo */
  locale_dir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  bindtextdomain (DOMAIN, locale_dir);
  bind_textdomain_codeset (DOMAIN, "UTF-8");

  g_test_add_func ("/translation/engine-error", test_engine_error);
  return g_test_run ();
}
