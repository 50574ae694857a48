#!/usr/bin/python3
"""`meson install --destdir` gives a tree a packager accepts.

Usage: test-install.py MESON BUILD_ROOT SOURCE_ROOT [--man]; prints TAP.

Installs the build into a temporary DESTDIR (without rebuilding: `meson test` has built it) and
checks the tree: the two programs and nothing else in bindir, the launcher, AppStream file and
settings schema that their validators accept, the icons the launcher names, a compiled
catalogue for each language in po/LINGUAS that translates the app, the man page (with --man,
when help2man was found), nothing outside the prefix, no test or benchmark programs, no
caches that belong to the system's triggers, and no run path into the build folder.
"""
import gettext
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

APP_ID = "io.github.brushwork.Brushwork"
PACKAGE = "brushwork"
PROGRAMS = {"brushwork", "brushwork-cli"}

results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail, False))


def skip(name, why):
    results.append((name, True, why, True))


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)


def one_line(text, limit=600):
    text = " | ".join(l for l in text.strip().splitlines() if l.strip())
    return text if len(text) <= limit else text[:limit] + " …"


def build_options(build_root):
    with open(os.path.join(build_root, "meson-info", "intro-buildoptions.json")) as f:
        return {o["name"]: o["value"] for o in json.load(f)}


def validate(name, tool, args):
    """Runs a validator if it is installed; a validator's absence is a skip, not a pass."""
    path = shutil.which(tool)
    if path is None:
        skip(name, "%s is not installed" % tool)
        return None
    r = run([path] + args)
    check(name, r.returncode == 0, one_line(r.stdout))
    return r


def check_tree(dest, prefix, opts, source_root, want_man):
    top = dest + prefix
    rel = {k: os.path.relpath(os.path.join(prefix, opts[k]), prefix)
           for k in ("bindir", "datadir", "mandir", "localedir", "libdir", "libexecdir")}
    files = []
    for dirpath, dirnames, filenames in os.walk(dest):
        files += [os.path.join(dirpath, n) for n in filenames + dirnames
                  if not os.path.isdir(os.path.join(dirpath, n))]
    in_prefix = [f.startswith(top.rstrip("/") + "/") for f in files]
    outside = [os.path.relpath(f, dest) for f, ok in zip(files, in_prefix) if not ok]
    check("nothing is installed outside the prefix %s" % prefix, not outside, " ".join(outside))
    inside = sorted(os.path.relpath(f, top) for f, ok in zip(files, in_prefix) if ok)

    bindir = os.path.join(top, rel["bindir"])
    installed_programs = set(os.listdir(bindir)) if os.path.isdir(bindir) else set()
    check("bindir holds brushwork and brushwork-cli and nothing else",
          installed_programs == PROGRAMS, " ".join(sorted(installed_programs)))
    for p in sorted(PROGRAMS):
        path = os.path.join(bindir, p)
        mode = os.stat(path).st_mode if os.path.exists(path) else 0
        check("%s is an executable file, not writable by others" % p,
              stat.S_ISREG(mode) and mode & 0o111 == 0o111 and not mode & 0o022, oct(mode))
    tests = [f for f in inside if re.search(r"(^|/)(test-|bw-bench|bw-test|bench$)", f)
             or os.path.basename(f).startswith("test")]
    check("no test or benchmark program is installed", not tests, " ".join(tests))
    stray = [f for f in inside if f.startswith((rel["libdir"] + "/", rel["libexecdir"] + "/",
                                                "include/"))]
    check("no libraries, headers or helpers are installed", not stray, " ".join(stray))

    readelf = shutil.which("readelf")
    if readelf is None:
        skip("the programs have no run path into the build folder", "readelf is not installed")
    else:
        bad = []
        for p in sorted(PROGRAMS & installed_programs):
            r = run([readelf, "-d", os.path.join(bindir, p)])
            for m in re.finditer(r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[(.*)\]",
                                 r.stdout):
                bad.append("%s: %s" % (p, m.group(1)))
        check("the programs have no run path into the build folder", not bad, " ".join(bad))

    datadir = os.path.join(top, rel["datadir"])
    desktop = os.path.join(datadir, "applications", APP_ID + ".desktop")
    check("share/applications/%s.desktop is installed" % APP_ID, os.path.isfile(desktop))
    keys = {}
    if os.path.isfile(desktop):
        validate("the launcher passes desktop-file-validate", "desktop-file-validate", [desktop])
        with open(desktop, encoding="utf-8") as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.rstrip("\n").split("=", 1)
                    keys[k.strip()] = v.strip()
        exec_program = keys.get("Exec", "").split(" ")[0]
        check("the launcher runs an installed program", exec_program in installed_programs,
              "Exec=" + keys.get("Exec", ""))
        check("the launcher's icon is the app id", keys.get("Icon") == APP_ID, keys.get("Icon", ""))

    icons = os.path.join(datadir, "icons", "hicolor")
    for path in ("scalable/apps/%s.svg" % APP_ID, "symbolic/apps/%s-symbolic.svg" % APP_ID):
        full = os.path.join(icons, path)
        ok = os.path.isfile(full)
        if ok:
            try:
                ok = ET.parse(full).getroot().tag.endswith("svg")
            except ET.ParseError:
                ok = False
        check("icon share/icons/hicolor/%s is installed and is SVG" % path, ok)

    metainfo = os.path.join(datadir, "metainfo", APP_ID + ".metainfo.xml")
    check("share/metainfo/%s.metainfo.xml is installed" % APP_ID, os.path.isfile(metainfo))
    summary = None
    if os.path.isfile(metainfo):
        validate("the AppStream file passes appstreamcli validate --no-net", "appstreamcli",
                 ["validate", "--no-net", "--no-color", metainfo])
        root = ET.parse(metainfo).getroot()
        lang = "{http://www.w3.org/XML/1998/namespace}lang"
        check("its id is the app id", root.findtext("id") == APP_ID, root.findtext("id") or "")
        launchables = [e.text for e in root.iter("launchable") if e.get("type") == "desktop-id"]
        check("its launchable is the installed launcher", launchables == [APP_ID + ".desktop"],
              " ".join(map(str, launchables)))
        binaries = {e.text for e in root.iter("binary")}
        check("the programs it provides are installed", binaries and binaries <= installed_programs,
              " ".join(sorted(map(str, binaries))))
        summary = next((e.text for e in root.iter("summary") if e.get(lang) is None), None)

    schemas = os.path.join(datadir, "glib-2.0", "schemas")
    check("share/glib-2.0/schemas/%s.gschema.xml is installed" % APP_ID,
          os.path.isfile(os.path.join(schemas, APP_ID + ".gschema.xml")))
    if os.path.isdir(schemas):
        validate("the installed schemas compile (glib-compile-schemas --strict)",
                 "glib-compile-schemas", ["--strict", "--dry-run", schemas])
    caches = [f for f in ("glib-2.0/schemas/gschemas.compiled", "icons/hicolor/icon-theme.cache",
                          "applications/mimeinfo.cache")
              if os.path.exists(os.path.join(datadir, f))]
    check("no caches the system rebuilds (schemas, icons, MIME) under DESTDIR", not caches,
          " ".join(caches))

    linguas = []
    with open(os.path.join(source_root, "po", "LINGUAS"), encoding="utf-8") as f:
        for line in f:
            linguas += line.split("#", 1)[0].split()
    for lang in linguas:
        mo = os.path.join(top, rel["localedir"], lang, "LC_MESSAGES", PACKAGE + ".mo")
        check("share/locale/%s/LC_MESSAGES/%s.mo is installed" % (lang, PACKAGE), os.path.isfile(mo))
        if os.path.isfile(mo) and summary:
            with open(mo, "rb") as f:
                catalogue = gettext.GNUTranslations(f)
            translated = catalogue.gettext(summary)
            check("the %s catalogue translates the app's summary" % lang, translated != summary,
                  "%r" % translated)
        if keys:
            check("the launcher carries the %s translation" % lang,
                  any(k.startswith(("Comment[%s]" % lang, "Comment[%s_" % lang)) for k in keys),
                  "no Comment[%s]: is the merged launcher out of date?" % lang)

    man = os.path.join(top, rel["mandir"], "man1", "brushwork-cli.1")
    if want_man:
        ok = os.path.isfile(man)
        if ok:
            with open(man, encoding="utf-8", errors="replace") as f:
                text = f.read()
            ok = (re.search(r"^\.TH BRUSHWORK-CLI", text, re.M)
                      and re.search(r"(\\-|-){2}content\b", text))
        check("man page share/man/man1/brushwork-cli.1 is installed and documents the options", ok)
    else:
        skip("man page share/man/man1/brushwork-cli.1", "help2man was not found at configure time")

    known = ("%s/" % rel["bindir"], "%s/applications/" % rel["datadir"],
             "%s/metainfo/" % rel["datadir"], "%s/glib-2.0/schemas/" % rel["datadir"],
             "%s/icons/hicolor/" % rel["datadir"], "%s/" % rel["localedir"], "%s/man1/" % rel["mandir"])
    unknown = [f for f in inside if not f.startswith(known)]
    check("nothing else is installed (add new files to this test)", not unknown, " ".join(unknown))


def main():
    if len(sys.argv) < 4:
        print("usage: %s MESON BUILD_ROOT SOURCE_ROOT [--man]" % sys.argv[0], file=sys.stderr)
        return 2
    meson, build_root, source_root = sys.argv[1:4]
    want_man = "--man" in sys.argv[4:]
    opts = build_options(build_root)
    prefix = opts["prefix"]

    with tempfile.TemporaryDirectory(prefix="brushwork-install-") as dest:
        env = dict(os.environ)
        env.pop("DESTDIR", None)
        r = run([meson, "install", "-C", build_root, "--no-rebuild", "--destdir", dest], env=env)
        check("meson install --destdir succeeds", r.returncode == 0, one_line(r.stdout[-2000:]))
        if r.returncode == 0:
            check_tree(dest, prefix, opts, source_root, want_man)

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail, skipped) in enumerate(results, 1):
        if skipped:
            print("ok %d - %s # SKIP %s" % (i, name, detail))
            continue
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                (" # " + detail) if detail and not ok else ""))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
