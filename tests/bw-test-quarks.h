/* bw-test-quarks.h: for tests that run under AddressSanitizer with many GLib types loaded. */
#pragma once

#include <glib.h>

/* Marks GLib's first quark array as known to LeakSanitizer and grows the array past what any
 * test reaches, with leak checks off; does nothing in other builds. Call it first in main(). */
void bw_test_grow_quarks (void);
