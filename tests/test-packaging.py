#!/usr/bin/python3
"""Packaging checks that need no network: the Flatpak manifest's shape and permissions.

Prints TAP. A full flatpak-builder run needs the GNOME runtime from the network, which CI
does not have; this checks what a reviewer checks first.
"""
import json
import os
import sys

APP_ID = "io.github.brushwork.Brushwork"
results = []


def check(name, ok, detail=""):
    results.append((name, ok, detail))


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
    check("GNOME 43 runtime (GTK 4.8, libadwaita 1.2, as Debian 12)",
          manifest.get("runtime") == "org.gnome.Platform" and manifest.get("runtime-version") == "43")
    args = manifest.get("finish-args", [])
    check("no file system access (files come through portals and drops)",
          not any(a.startswith("--filesystem") for a in args), " ".join(args))
    check("network only for the weights download", "--share=network" in args)
    check("GPU access for Vulkan", "--device=dri" in args)
    check("no session or system bus holes",
          not any(a.startswith(("--socket=session-bus", "--socket=system-bus", "--talk-name"))
                  for a in args))
    modules = manifest.get("modules", [])
    last = modules[-1] if modules else {}
    check("the app is the last module, built with meson without tests",
          last.get("name") == "brushwork" and last.get("buildsystem") == "meson"
          and "-Dtests=false" in last.get("config-opts", []))
    check("command is the app", manifest.get("command") == "brushwork")

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name, (" # " + detail) if detail and not ok else ""))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
