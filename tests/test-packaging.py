#!/usr/bin/python3
"""Packaging checks that need no network: the Flatpak manifest's shape, permissions and sources.

Prints TAP. A full flatpak-builder run needs the GNOME runtime from the network, which CI
does not have; this checks what a reviewer checks first.
"""
import json
import os
import re
import sys

APP_ID = "io.github.brushwork.Brushwork"
results = []


def check(name, ok, detail=""):
    results.append((name, ok, detail))


def all_modules(modules, base):
    """Every module, nested ones and those in separate files (paths relative to base) included."""
    for m in modules:
        if isinstance(m, str):
            try:
                with open(os.path.join(base, m)) as f:
                    m = json.load(f)
            except (OSError, ValueError) as e:
                check("module file %s is readable JSON" % m, False, str(e))
                continue
        yield m
        yield from all_modules(m.get("modules", []), base)


def unpinned(source):
    """Why a source could change under the same manifest, or None if it cannot."""
    kind = source.get("type")
    if kind == "git":
        if not re.fullmatch(r"[0-9a-f]{40}", source.get("commit", "")):
            return "git %s has no full commit" % source.get("url", "?")
    elif kind in ("archive", "file") and "url" in source:
        if not re.fullmatch(r"[0-9a-f]{64}", source.get("sha256", "")):
            return "%s has no sha256" % source["url"]
    elif kind in ("bzr", "svn"):
        if not source.get("revision"):
            return "%s %s has no revision" % (kind, source.get("url", "?"))
    return None


def main():
    root = os.environ.get("BRUSHWORK_TEST_SRCDIR", os.path.dirname(os.path.abspath(__file__)))
    root = os.path.dirname(root.rstrip("/"))
    path = os.path.join(root, "flatpak", APP_ID + ".json")
    try:
        with open(path) as f:
            manifest = json.load(f)
        check("manifest is valid JSON", True)
    except (OSError, ValueError) as e:
        check("manifest is valid JSON", False, str(e))
        manifest = {}

    check("app id", manifest.get("id") == APP_ID, manifest.get("id", ""))
    # GNOME 43 is end of life; 48 has Debian 13's GTK 4.18 and libadwaita 1.7 (meson.build
    # pins the API to Debian 12's, which newer runtimes keep)
    check("GNOME 48 runtime and SDK (GTK 4.18, libadwaita 1.7, as Debian 13)",
          manifest.get("runtime") == "org.gnome.Platform" and manifest.get("runtime-version") == "48"
          and manifest.get("sdk") == "org.gnome.Sdk")
    args = manifest.get("finish-args", [])
    check("no file system access (files come through portals and drops)",
          not any(a.startswith("--filesystem") for a in args), " ".join(args))
    check("network only for the weights download", "--share=network" in args)
    check("GPU access for Vulkan, and no other devices",
          "--device=dri" in args and not any(a.startswith("--device=") and a != "--device=dri"
                                             for a in args))
    check("Wayland, with X11 only as a fallback, and IPC for X11's shared memory",
          {"--socket=wayland", "--socket=fallback-x11", "--share=ipc"} <= set(args)
          and "--socket=x11" not in args)
    check("no session or system bus holes",
          not any(a.startswith(("--socket=session-bus", "--socket=system-bus", "--talk-name"))
                  for a in args))
    modules = manifest.get("modules", [])
    last = modules[-1] if modules else {}
    check("the app is the last module, built with meson without tests",
          last.get("name") == "brushwork" and last.get("buildsystem") == "meson"
          and "-Dtests=false" in last.get("config-opts", []))
    check("command is the app", manifest.get("command") == "brushwork")

    sources = [src for m in all_modules(modules, os.path.dirname(path))
               for src in m.get("sources", []) if isinstance(src, dict)]
    git = [src for src in sources if src.get("type") == "git"]
    check("there are git sources to check (the shaderc module)", git)
    problems = [why for why in map(unpinned, sources) if why]
    check("every source that is downloaded is pinned (git: a commit; archives: a sha256)",
          not problems, "; ".join(problems))

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name, (" # " + detail) if detail and not ok else ""))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
