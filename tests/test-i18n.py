#!/usr/bin/python3
"""Translations are up to date with the sources.

Regenerates the template from po/POTFILES.in into a temporary folder with xgettext, with the
options of meson's i18n module (its 'glib' preset), and checks, for each language in
po/LINGUAS, that its .po file translates every string of the template, none of them fuzzy, and
keeps no string the sources no longer have. Also checks that every source file with a string
marked for translation is listed in po/POTFILES.in.

Usage: test-i18n.py [SOURCE_ROOT]; prints TAP. When it fails because of a new or changed
string, run `meson compile -C BUILDDIR brushwork-update-po` and translate what it marks.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

PACKAGE = "brushwork"

# meson's i18n.gettext(preset: 'glib') (mesonbuild/modules/i18n.py, PRESET_ARGS), which is what
# po/meson.build asks for; the flags decide which strings are checked as printf formats.
XGETTEXT_ARGS = [
    "--from-code=UTF-8", "--add-comments", "-k_",
    "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2", "--keyword=g_dngettext:2,3", "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format", "--flag=C_:2:pass-c-format", "--flag=NC_:2:pass-c-format",
    "--flag=g_dngettext:2:pass-c-format", "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format", "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format", "--flag=g_set_error:4:c-format",
    "--flag=g_markup_printf_escaped:1:c-format", "--flag=g_log:3:c-format",
    "--flag=g_print:1:c-format", "--flag=g_printerr:1:c-format", "--flag=g_printf:1:c-format",
    "--flag=g_fprintf:2:c-format", "--flag=g_sprintf:2:c-format", "--flag=g_snprintf:3:c-format",
]

# A call of a gettext function on a string literal, in C.
C_MARK = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|Q_|ngettext|g_dngettext|g_dpgettext2|'
                    r'g_dcgettext|dgettext|gettext|pgettext)\s*\(\s*"')
UI_MARK = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"', re.IGNORECASE)
SCHEMA_MARK = re.compile(r"<(?:summary|description)>")

results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)


def read_list(path):
    """The non-comment words of a POTFILES.in or LINGUAS file."""
    words = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            words += line.split()
    return words


def marked_sources(root):
    """Source files, relative to root, that mark a string for translation."""
    found = set()
    patterns = [("src/**/*.c", C_MARK), ("src/**/*.h", C_MARK), ("ui/**/*.ui", UI_MARK),
                ("data/*.gschema.xml", SCHEMA_MARK)]
    for pattern, mark in patterns:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            with open(path, encoding="utf-8") as f:
                if mark.search(f.read()):
                    found.add(os.path.relpath(path, root))
    # launchers and AppStream files are translated whole
    for pattern in ("data/*.desktop.in", "data/*.metainfo.xml.in", "data/*.appdata.xml.in"):
        found.update(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, pattern)))
    return found


def unquote(s):
    return bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def read_po(path):
    """{(msgctxt, msgid): (translated, fuzzy)} for the live entries of a .po or .pot file."""
    entries = {}
    entry = None
    field = None

    def finish():
        if entry is not None and entry.get("msgid", "") != "":
            strs = [v for k, v in entry.items() if k.startswith("msgstr")]
            key = (entry.get("msgctxt"), entry["msgid"])
            entries[key] = (bool(strs) and all(strs), entry.get("fuzzy", False))

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("#~"):
                continue
            if line.startswith("#,"):
                finish()
                entry, field = {"fuzzy": "fuzzy" in line[2:].replace(",", " ").split()}, None
                continue
            if not line or line.startswith("#"):
                continue
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if m:
                if m.group(1) in ("msgctxt", "msgid") and entry is not None and (
                        "msgid" in entry or m.group(1) in entry):
                    finish()
                    entry = None
                if entry is None:
                    entry = {}
                field = m.group(1)
                entry[field] = unquote(m.group(2))
            elif line.startswith('"') and field is not None:
                entry[field] += unquote(line[1:-1])
    finish()
    return entries


def show(keys):
    return "; ".join(("%s|%s" % k if k[0] else k[1]) for k in sorted(keys, key=str)[:5]) + \
        (" …" if len(keys) > 5 else "")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    po_dir = os.path.join(root, "po")
    absent_tools = [t for t in ("xgettext", "msgmerge", "msgfmt") if shutil.which(t) is None]
    if absent_tools:
        print("1..0 # SKIP %s not installed (Debian: gettext)" % " and ".join(absent_tools))
        return 0

    potfiles = read_list(os.path.join(po_dir, "POTFILES.in"))
    missing_files = [p for p in potfiles if not os.path.isfile(os.path.join(root, p))]
    check("every file in po/POTFILES.in exists", not missing_files, " ".join(missing_files))
    unlisted = sorted(marked_sources(root) - set(potfiles))
    check("every source file with translatable strings is in po/POTFILES.in", not unlisted,
          "add " + " ".join(unlisted))

    linguas = read_list(os.path.join(po_dir, "LINGUAS"))
    po_files = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(po_dir, "*.po")))
    check("po/LINGUAS lists exactly the po/*.po files", sorted(linguas) == po_files,
          "LINGUAS: %s, files: %s" % (" ".join(linguas), " ".join(po_files)))
    check("there is at least one translation", linguas)

    with tempfile.TemporaryDirectory(prefix="brushwork-i18n-") as tmp:
        pot = os.path.join(tmp, PACKAGE + ".pot")
        r = run(["xgettext", "--package-name=" + PACKAGE, "-f", os.path.join(po_dir, "POTFILES.in"),
                 "-D", root, "-o", pot] + XGETTEXT_ARGS)
        check("xgettext makes the template", r.returncode == 0 and os.path.isfile(pot),
              r.stdout.strip().replace("\n", " | "))
        template = read_po(pot) if os.path.isfile(pot) else {}
        check("the template has strings", len(template) > 0, "%d" % len(template))

        for lang in linguas:
            po = os.path.join(po_dir, lang + ".po")
            if not os.path.isfile(po):
                check("%s.po exists" % lang, False)
                continue
            entries = read_po(po)
            absent = set(template) - set(entries)
            check("%s.po has every string of the sources" % lang, not absent,
                  "%d missing, run brushwork-update-po: %s" % (len(absent), show(absent)))
            untranslated = {k for k in template if k in entries and not entries[k][0]}
            check("%s.po translates every string" % lang, not untranslated,
                  "%d untranslated: %s" % (len(untranslated), show(untranslated)))
            fuzzy = {k for k in template if k in entries and entries[k][1]}
            check("%s.po has no fuzzy translation" % lang, not fuzzy,
                  "%d fuzzy: %s" % (len(fuzzy), show(fuzzy)))
            stale = set(entries) - set(template)
            check("%s.po keeps no string the sources dropped" % lang, not stale,
                  "%d stale, run brushwork-update-po: %s" % (len(stale), show(stale)))
            # the template's flags say which strings are printf formats: merge, then check
            merged = os.path.join(tmp, lang + ".po")
            r = run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged, po, pot])
            r2 = run(["msgfmt", "--check", "--statistics", "-o", os.devnull, merged]) \
                if r.returncode == 0 else r
            check("%s.po passes msgfmt --check with the template's format flags" % lang,
                  r2.returncode == 0, r2.stdout.strip().replace("\n", " | "))

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                (" # " + detail) if detail and not ok else ""))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
