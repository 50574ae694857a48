/* bw-test-quarks.c: GLib's quark array, kept from LeakSanitizer's report (see below). Shared
 * by the engine's and the app's tests: GStreamer's elements alone can pass the mark too. */
#include <string.h>

#include "bw-test-quarks.h"

#ifdef __SANITIZE_ADDRESS__
#include <link.h>
#include <sanitizer/lsan_interface.h>

/* the sanitizers' allocator interface, whose header GCC 12 does not install */
int    __sanitizer_get_ownership      (const volatile void *p);
size_t __sanitizer_get_allocated_size (const volatile void *p);

/* GLib keeps its quarks in an array grown by blocks of 2048 and, for lock-free lookups, drops
 * the old array on purpose when it grows (gquark.c). GTK, libadwaita and GStreamer together
 * pass 2048, so LeakSanitizer reports the first array; its stack ends in g_malloc (GLib has
 * no frame pointers), so no suppression can name it without hiding our own leaks too. So
 * the array is found where GLib points to it, in its data segment, and marked as known;
 * the arrays that replace it are made here with leak checking off, past anything the tests
 * reach. */
static int
ignore_quark_array (struct dl_phdr_info *info,
                    size_t               size,
                    void                *data)
{
  const char *first = g_quark_to_string (1);

  if (strstr (info->dlpi_name, "libglib-2.0.so") == NULL)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
      char **word = (char **) (info->dlpi_addr + ph->p_vaddr);

      if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
        continue;
      for (gsize j = 0; j < ph->p_memsz / sizeof (char *); j++)
        {
          char **array = (char **) word[j];

          /* only a live heap block of one quark block is read */
          if (array && __sanitizer_get_ownership (array) &&
              __sanitizer_get_allocated_size (array) == 2048 * sizeof (char *) &&
              array[0] == NULL && array[1] == first)
            {
              __lsan_ignore_object (array);
              *(gboolean *) data = TRUE;
              return 1;
            }
        }
    }
  return 0;
}
#endif

void
bw_test_grow_quarks (void)
{
#ifdef __SANITIZE_ADDRESS__
  gboolean found = FALSE;
  char name[32];

  dl_iterate_phdr (ignore_quark_array, &found);
  if (!found)
    g_error ("GLib's quark array was not found: LeakSanitizer would report it");
  __lsan_disable ();
  for (int i = 0;; i++)
    {
      g_snprintf (name, sizeof name, "bw-test-quark-%d", i);
      if (g_quark_from_string (name) > 4 * 2048)
        break;
    }
  __lsan_enable ();
#endif
}

