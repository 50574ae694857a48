/* bw-i18n.h: the engine's sentences for users (its errors) are marked for translation in the
 * app's gettext domain, "brushwork", whatever program links the engine: the app binds that
 * domain to its catalogs, so its dialogs show them translated. The engine is built without
 * GETTEXT_PACKAGE, so it is named here. Include it from .c files only. */
#pragma once

#ifndef GETTEXT_PACKAGE
#define GETTEXT_PACKAGE "brushwork"
#endif
#include <glib/gi18n-lib.h>
