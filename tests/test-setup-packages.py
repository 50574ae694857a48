#!/usr/bin/python3
"""setup.sh's run mode installs everything this build was configured with.

Usage: test-setup-packages.py SOURCE_ROOT BUILD_ROOT; prints TAP.

What `meson setup` found (the compiler, pkg-config files and the libraries they link, the
programs in meson-logs/meson-log.txt, any header checks) is mapped to its Debian package with
`dpkg -S`, and each package must be in setup.sh's run-mode `packages=(...)` list or pulled in by
one of them (`apt-cache depends --recurse`, without recommends), or be in the base system
(Essential or Priority: required) or build-essential. Otherwise a newcomer's `./setup.sh`
builds something else than this build, or not at all, on a fresh Debian.

Programs that only the tests or `meson install` run are test-mode or optional (OPTIONAL below),
but only while the build itself does not run them (they are not in build.ninja).
"""
import json
import os
import re
import shutil
import subprocess
import sys

# Found by meson but needed neither to configure nor to build: the build must not use them.
OPTIONAL = {
    "Xvfb": "test mode: the app's tests run in a virtual X server",
    "desktop-file-validate": "test mode: the install test validates the launcher",
    "appstreamcli": "test mode: the install test validates the AppStream file",
    "update-desktop-database": "meson install refreshes the launcher cache only if it is there",
    "gtk-update-icon-cache": "meson install refreshes the icon cache only if it is there",
    "gtk4-update-icon-cache": "meson install refreshes the icon cache only if it is there",
}

results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def run_mode_packages(source_root):
    """setup.sh's own lists, evaluated by bash as setup.sh does, for mode=run."""
    script = ('mode=run; eval "$(sed -n "/^packages=(/,/^fi/p" setup.sh)"; '
              'printf "%s\\n" "${packages[@]}"')
    r = subprocess.run(["bash", "-c", script], cwd=source_root, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return [p for p in r.stdout.split() if p] if r.returncode == 0 else []


def closure(packages):
    """The packages, and all they depend on (not recommends), as apt sees them. Not with
    --installed: that drops dependencies on "python3:any" (meson's, on Debian 13); the caller
    keeps the installed ones."""
    if not packages:
        return set()
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + list(packages))
    names = set(packages)
    for line in r.stdout.splitlines():
        # a package (column 0), or a provider of a virtual one (indented, no "Depends:")
        m = re.fullmatch(r"\s*<?([a-z0-9][a-z0-9+.-]*)(:[a-z0-9]+)?>?", line)
        if m:
            names.add(m.group(1))
    return names


def installed_packages():
    r = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n"])
    return {f[0] for f in (l.split() for l in r.stdout.splitlines())
            if len(f) >= 2 and f[1].startswith("ii")}


def base_packages():
    """What every Debian has (Essential, Priority: required) and what building C needs."""
    r = run(["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority} ${db:Status-Abbrev}\n"])
    base = set()
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[3].startswith("ii") and (f[1] == "yes" or f[2] == "required"):
            base.add(f[0])
    return closure(base) | closure(["build-essential"])


def owners(paths):
    """dpkg -S for each path: {path: set of packages}; a path no package owns maps to an empty
    set. Tries the real path and, for merged /usr, the other spelling too."""
    result = {}
    for path in paths:
        tries = [path, os.path.realpath(path)]
        for t in list(tries):
            if t.startswith("/usr/"):
                tries.append(t[4:])
            elif t.startswith(("/bin/", "/sbin/", "/lib")):
                tries.append("/usr" + t)
        pkgs = set()
        for t in dict.fromkeys(tries):
            r = run(["dpkg-query", "-S", t])
            for line in r.stdout.splitlines():
                if line.startswith("diversion "):
                    continue
                who, _, owned = line.rpartition(": ")
                if owned == t:
                    pkgs |= {p.strip().split(":")[0] for p in who.split(",")}
            if pkgs:
                break
        result[path] = pkgs
    return result


def found_items(source_root, build_root):
    """(kind, name, path, needed by the build?) for what meson found."""
    items = []
    info = os.path.join(build_root, "meson-info")
    with open(os.path.join(build_root, "build.ninja")) as f:
        ninja = f.read()
    # run targets (meson-internal__*: the screenshots under Xvfb, the translation updates) run
    # only when a developer names them, never in `ninja`: they are not the build
    ninja = re.sub(r"^build meson-internal__[^\n]*\n(?:[ \t][^\n]*\n)*", "", ninja, flags=re.M)
    with open(os.path.join(build_root, "meson-logs", "meson-log.txt")) as f:
        log = f.read()

    # the compiler: "C compiler for the host machine: cc (gcc 12.2.0 ...)"
    for lang, exe in set(re.findall(r"^(\S+) compiler for the \S+ machine: (\S+)", log, re.M)):
        path = shutil.which(exe)
        if path:
            items.append(("compiler", lang, path, True))

    # dependencies: their pkg-config files and the libraries they link
    with open(os.path.join(info, "intro-dependencies.json")) as f:
        deps = json.load(f)
    for dep in deps:
        r = run(["pkg-config", "--path", dep["name"]])
        if r.returncode == 0 and r.stdout.strip():
            items.append(("pkg-config", dep["name"], r.stdout.strip(), True))
        for arg in dep.get("link_args", []):
            if arg.startswith("/") and os.path.exists(arg):
                items.append(("library", dep["name"], arg, True))

    # programs: meson's own lines, "Program X found: YES (PATH ...)", "Found ninja-V at PATH",
    # "Found pkg-config: YES (PATH) V"
    progs = re.findall(r"^Program (\S+) found: YES \(([^)\s]+)", log, re.M)
    progs += [("ninja", p) for p in re.findall(r"^Found ninja-\S+ at (\S+)", log, re.M)]
    progs += [("pkg-config", p) for p in re.findall(r"^Found pkg-config: YES \(([^)\s]+)\)", log, re.M)]
    for name, path in progs:
        if not path.startswith("/") or path.startswith((build_root, source_root)):
            continue  # the project's own scripts
        # needed if a build command runs it
        needed = re.search(r"(^|[\s'\"])" + re.escape(path) + r"($|[\s'\"])", ninja, re.M)
        items.append(("program", os.path.basename(name), path, bool(needed)))

    # header checks, found in the compiler's include path
    headers = set(re.findall(r'^Has header "([^"]+)" ?: YES', log, re.M))
    if headers:
        r = run(["cc", "-xc", "-E", "-v", "/dev/null"])
        dirs = re.findall(r"^ (/\S+)$", r.stderr, re.M)
        for h in sorted(headers):
            for d in dirs:
                if os.path.exists(os.path.join(d, h)):
                    items.append(("header", h, os.path.join(d, h), True))
                    break
    return items


def main():
    source_root, build_root = (os.path.realpath(a) for a in sys.argv[1:3])
    if not (shutil.which("dpkg-query") and shutil.which("apt-cache")):
        print("1..0 # SKIP not a Debian system (no dpkg-query or apt-cache): setup.sh is for Debian")
        return 0

    packages = run_mode_packages(source_root)
    check("setup.sh's run-mode package list could be read", packages,
          "bash could not evaluate the packages=(...) lines of %s/setup.sh" % source_root)
    not_installed = [p for p in packages
                     if "install ok installed" not in run(["dpkg-query", "-W", "-f", "${Status}", p]).stdout]
    check("every run-mode package is installed (this build is what setup.sh gives)",
          not not_installed, "not installed: %s; run ./setup.sh" % " ".join(not_installed))

    # installed ones only, as alternatives in Depends that were not taken are in the closure
    allowed = (closure(packages) | base_packages()) & installed_packages()
    items = found_items(source_root, build_root)
    paths = owners(sorted({i[2] for i in items}))

    seen = set()
    for kind, name, path, needed in items:
        if path in seen:
            continue  # a library that several dependencies link is checked once
        seen.add(path)
        pkgs = paths[path]
        what = "%s %s (%s)" % (kind, name, path)
        if kind == "program" and name in OPTIONAL:
            check("%s is optional (%s): the build does not run it" % (what, OPTIONAL[name]),
                  not needed, "build.ninja runs it, so setup.sh's run mode must install %s: add "
                  "it to packages=(...), or stop the build using it" % (" or ".join(sorted(pkgs)) or "it"))
            continue
        if not pkgs:
            check("%s comes from a Debian package" % what, False,
                  "no package owns it, so a fresh Debian lacks it; install it from Debian")
            continue
        ok = pkgs & allowed
        check("%s: %s is installed by setup.sh's run mode" % (what, " or ".join(sorted(pkgs))), ok,
              "not in setup.sh's packages=(...) nor pulled in by them: add %s there"
              % sorted(pkgs)[0])

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                 (" # " + detail) if detail and not ok else ""))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
