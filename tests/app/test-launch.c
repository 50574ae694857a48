/* test-launch: the app started the way the README says, from a build folder, as a person
 * would: no variables of the test's own that make it work.
 *
 *   test-launch BRUSHWORK_EXE MESON BUILD_DIR --tap
 *
 * /launch/devenv: `meson devenv -C BUILD_DIR brushwork` shows the window and says nothing
 *   about the settings schema (the devenv points GLib at the build's compiled schema).
 * /launch/build-folder: `BUILD_DIR/src/app/brushwork` shows the window too, although no
 *   schema is installed: it falls back to settings in memory and says so once.
 *
 * The window is found on the X server (a top-level window named "Brushwork", mapped), not
 * through GTK: the app runs in its own process. The environment is the machine's basics only
 * (PATH, DISPLAY, XAUTHORITY, LANG, sanitizer options); HOME and the XDG folders point to a
 * temporary folder so that the test writes nothing into the user's.
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <glib.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *brushwork_exe;
static const char *meson_exe;
static const char *build_dir;
static char *tmpdir;

#define SCHEMA_SENTENCE "settings schema is not installed"

static gboolean
window_is_brushwork (Display *display,
                     Window   window)
{
  XWindowAttributes attributes;
  char *name = NULL;
  gboolean found = FALSE;

  if (!XGetWindowAttributes (display, window, &attributes) || attributes.map_state != IsViewable)
    return FALSE;
  if (XFetchName (display, window, &name) && name != NULL)
    found = strcmp (name, "Brushwork") == 0;
  if (name != NULL)
    XFree (name);
  return found;
}

/* A mapped top-level window named Brushwork, at any depth below the root (no window manager
 * runs under xvfb-run, so top-levels are the root's children; a reparenting one would nest). */
static gboolean
find_window (Display *display,
             Window   window,
             int      depth)
{
  Window root, parent, *children = NULL;
  unsigned int n = 0;
  gboolean found = FALSE;

  if (window_is_brushwork (display, window))
    return TRUE;
  if (depth > 3 || !XQueryTree (display, window, &root, &parent, &children, &n))
    return FALSE;
  for (unsigned int i = 0; i < n && !found; i++)
    found = find_window (display, children[i], depth + 1);
  if (children != NULL)
    XFree (children);
  return found;
}

static char **
launch_environment (void)
{
  const char *keep[] = { "PATH", "DISPLAY", "XAUTHORITY", "LANG",
                         "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
  g_autofree char *home = g_build_filename (tmpdir, "home", NULL);
  g_autofree char *runtime = g_build_filename (tmpdir, "runtime", NULL);
  GPtrArray *env = g_ptr_array_new ();

  g_mkdir_with_parents (home, 0700);
  g_mkdir_with_parents (runtime, 0700);
  for (gsize i = 0; i < G_N_ELEMENTS (keep); i++)
    if (g_getenv (keep[i]) != NULL)
      g_ptr_array_add (env, g_strdup_printf ("%s=%s", keep[i], g_getenv (keep[i])));
  g_ptr_array_add (env, g_strdup_printf ("HOME=%s", home));
  g_ptr_array_add (env, g_strdup_printf ("XDG_CONFIG_HOME=%s/config", home));
  g_ptr_array_add (env, g_strdup_printf ("XDG_CACHE_HOME=%s/cache", home));
  g_ptr_array_add (env, g_strdup_printf ("XDG_DATA_HOME=%s/data", home));
  g_ptr_array_add (env, g_strdup_printf ("XDG_STATE_HOME=%s/state", home));
  g_ptr_array_add (env, g_strdup_printf ("XDG_RUNTIME_DIR=%s", runtime));
  g_ptr_array_add (env, NULL);
  return (char **) g_ptr_array_free (env, FALSE);
}

static void
lead_own_group (gpointer data)
{
  setpgid (0, 0);
}

/* Starts argv, waits until its window shows (or it exits, or a minute passes: the sanitizer
 * build starts slowly), then ends it and returns what it wrote on stderr. */
static char *
launch_and_find_window (const char * const *argv)
{
  g_auto(GStrv) env = launch_environment ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err_path = g_build_filename (tmpdir, "stderr.txt", NULL);
  GPid pid;
  int err_fd, status = 0;
  Display *display;
  gboolean shown = FALSE, exited = FALSE;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  char *stderr_text = NULL;

  err_fd = g_open (err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (err_fd, >=, 0);
  g_spawn_async_with_pipes_and_fds (NULL, argv, (const char * const *) env,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                    lead_own_group, NULL, -1, -1, err_fd, NULL, NULL, 0,
                                    &pid, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  close (err_fd);

  display = XOpenDisplay (NULL);
  g_assert_nonnull (display);
  while (!shown && !exited && g_get_monotonic_time () < deadline)
    {
      g_usleep (100 * 1000);
      shown = find_window (display, DefaultRootWindow (display), 0);
      exited = waitpid (pid, &status, WNOHANG) == pid;
    }
  XCloseDisplay (display);

  if (!exited)
    {
      /* meson devenv runs the app as its child: end the whole group it leads */
      kill (-pid, SIGTERM);
      waitpid (pid, &status, 0);
    }
  g_spawn_close_pid (pid);
  g_file_get_contents (err_path, &stderr_text, NULL, NULL);
  if (!shown)
    g_error ("%s did not show its window (%s); it wrote:\n%s", argv[0],
             exited ? "it exited" : "a minute passed", stderr_text);
  return stderr_text;
}

static guint
count (const char *haystack,
       const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_devenv (void)
{
  const char *argv[] = { meson_exe, "devenv", "-C", build_dir, "brushwork", NULL };
  g_autofree char *err = launch_and_find_window (argv);

  g_assert_cmpuint (count (err, SCHEMA_SENTENCE), ==, 0);
}

static void
test_build_folder (void)
{
  const char *argv[] = { brushwork_exe, NULL };
  g_autofree char *err = launch_and_find_window (argv);

  g_assert_cmpuint (count (err, SCHEMA_SENTENCE), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (argc != 4)
    g_error ("usage: test-launch BRUSHWORK_EXE MESON BUILD_DIR");
  brushwork_exe = argv[1];
  meson_exe = argv[2];
  build_dir = argv[3];
  tmpdir = g_dir_make_tmp ("brushwork-launch-XXXXXX", NULL);

  g_test_add_func ("/launch/devenv", test_devenv);
  g_test_add_func ("/launch/build-folder", test_build_folder);
  status = g_test_run ();
  {
    const char *rm[] = { "rm", "-rf", tmpdir, NULL };
    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  g_free (tmpdir);
  return status;
}
