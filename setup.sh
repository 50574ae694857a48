#!/bin/bash
# Brushwork's one-step set-up on Debian 12: installs what is missing, builds, then
#   ./setup.sh        stylises the sample pair (the main job)
#   ./setup.sh test   runs the test suite: once with Vulkan validation layers, once under
#                     AddressSanitizer/UBSan
# Root is needed only to install packages (sudo is used when not root).
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-run}

packages=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libgdk-pixbuf-2.0-dev libwebp-dev libvulkan-dev glslc glslang-tools help2man gettext
  libgtk-4-dev libadwaita-1-dev
  mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libsoup-3.0-dev glib-networking
  libjson-glib-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
)
if [ "$mode" = test ]; then
  # PyTorch is the tests' oracle; OpenBLAS keeps it fast
  packages+=(python3-torch python3-torchvision python3-pil libopenblas0-pthread)
  # the app's tests run in a virtual X server and validate the desktop files
  packages+=(xvfb desktop-file-utils appstream libxtst6)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# A build folder without build.ninja is what an interrupted or failed 'meson setup' leaves:
# set it up again from scratch rather than trust it.
# After an install, a build set up before it is set up again: what meson found then (xvfb
# for the app's tests, say) may be there now.
setup_build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    rm -rf "$dir"
    meson setup "$dir" "$@"
  elif [ ${#missing[@]} -gt 0 ]; then
    meson setup --reconfigure "$dir" "$@"
  fi
}

setup_build build
ninja -C build

case "$mode" in
  run)
    # The main job: paint the sample photo in the style of The Starry Night.
    ./build/src/cli/brushwork-cli \
      --content data/samples/chelsea.png --style data/samples/starry-night.jpg \
      --output brushwork-sample.png --size 128 --steps 30
    ;;
  test)
    # Two tests at a time: much of a test is one thread (the sanitizer's checks, the
    # validation layer, LLVM compiling a kernel for lavapipe, Python), so on CI's two cores
    # a pair takes little longer than one. The few that must run alone say so
    # (is_parallel: false).
    BRUSHWORK_VALIDATE=1 meson test -C build --print-errorlogs --num-processes 2 || status=$?
    setup_build build-asan -Db_sanitize=address,undefined -Db_lundef=false
    ninja -C build-asan
    # Mesa's drivers keep data that LeakSanitizer reports once they are unloaded before it
    # looks (lavapipe by the Vulkan loader, swrast by GTK's GL probe): their globals are gone
    # by then, and no suppression can name an unloaded module. Lavapipe loaded from the start
    # stays loaded (ASan must then not insist on coming first); GTK's tests draw with cairo,
    # with GL off: GDK_DEBUG=gl-disable up to GTK 4.14, GDK_DISABLE=gl from 4.16 (Debian 13),
    # which no longer knows the first.
    lavapipe=$(/usr/bin/python3 -c 'import glob, json
for f in sorted(glob.glob("/usr/share/vulkan/icd.d/lvp_icd*.json")):
    print(json.load(open(f))["ICD"]["library_path"]); break')
    no_gl=GDK_DEBUG=gl-disable
    if pkg-config --atleast-version=4.16 gtk4; then no_gl=GDK_DISABLE=gl; fi
    env LD_PRELOAD="$lavapipe" "$no_gl" \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson test -C build-asan --print-errorlogs --num-processes 2 || status=$?
    /usr/bin/python3 tools/test-summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
    exit "${status:-0}"
    ;;
  *)
    echo "usage: $0 [run|test]" >&2
    exit 2
    ;;
esac
