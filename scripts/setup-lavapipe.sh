#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe) for Dawn, so the WebGPU backend runs
# and is tested on machines without a GPU. Debian 12's own lavapipe (Mesa 22.3)
# is refused by Dawn (it lacks shaderUniform*ArrayDynamicIndexing); the Mesa 25
# of bookworm-backports works. This script downloads that package with a
# private apt state (the system's Mesa and apt lists are not touched), unpacks
# it into .lavapipe/ and writes .lavapipe/lvp_icd.json. Use it with
#   export VK_ADD_DRIVER_FILES=$PWD/.lavapipe/lvp_icd.json
# (adds the driver and keeps real GPUs visible). Idempotent: a second run only
# checks. Needs root for the one-time install of the Vulkan loader (libvulkan1)
# and bookworm's mesa-vulkan-drivers, which brings lavapipe's runtime libraries
# (LLVM 15 and friends).
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/.lavapipe"
icd="$dest/lvp_icd.json"
lib="$dest/root/usr/lib/$(uname -m)-linux-gnu/libvulkan_lvp.so"

need=()
for pkg in libvulkan1 mesa-vulkan-drivers; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -f "$icd" ] && [ -f "$lib" ]; then
  echo "lavapipe: $icd"
  exit 0
fi

# The Debian mirror this machine already uses (deb822 .sources or one-line .list).
mirror=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }'
  } | grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true
)
if [ -z "$mirror" ]; then
  echo "setup-lavapipe: no Debian mirror found in /etc/apt/sources.list{,.d/*}" >&2
  exit 1
fi
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

state="$dest/apt"
rm -rf "$dest/root" "$state"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/download"
echo "deb $mirror $codename-backports main" > "$state/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o APT::Sandbox::User=root)
apt-get "${apt_private[@]}" update -qq
(cd "$state/download" && apt-get "${apt_private[@]}" download -qq "mesa-vulkan-drivers/$codename-backports")
dpkg-deb -x "$state"/download/mesa-vulkan-drivers_*.deb "$dest/root"
version=$(dpkg-deb -f "$state"/download/mesa-vulkan-drivers_*.deb Version)
rm -rf "$state"
if [ ! -f "$lib" ]; then
  echo "setup-lavapipe: $lib missing from mesa-vulkan-drivers $version" >&2
  exit 1
fi
cat > "$icd" <<JSON
{
  "file_format_version": "1.0.0",
  "ICD": { "library_path": "$lib", "api_version": "1.3.0" }
}
JSON
echo "lavapipe: mesa-vulkan-drivers $version in $dest; export VK_ADD_DRIVER_FILES=$icd"
