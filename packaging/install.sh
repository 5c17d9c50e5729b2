#!/bin/sh
# packaging/install.sh: installs tunwarden built from source, with systemd units that run the
# binary where it was installed.
#
#   swift build -c release
#   sudo packaging/install.sh                          # under /usr/local
#   sudo PREFIX=/opt/tunwarden packaging/install.sh    # elsewhere
#
# Installs PREFIX/bin/tunwarden, PREFIX/share/man/man8/tunwarden.8, bash, zsh and fish
# completions under PREFIX/share, and the units tunwarden-audit.service, tunwarden-audit.timer and
# tunwarden-watch.service into UNITDIR, with ExecStart naming PREFIX/bin/tunwarden (the units in
# packaging/systemd name /usr/bin/tunwarden, where the .deb puts it). It does not enable or start
# anything, and writes nothing in /etc unless UNITDIR is there.
#
# Settings, from the environment as with make:
#   PREFIX   where tunwarden goes (default /usr/local); an absolute path of letters, digits and ._+-/
#   UNITDIR  where the units go (default PREFIX/lib/systemd/system when PREFIX is /usr/local or
#            /usr, which systemd searches; /etc/systemd/system otherwise)
#   BINARY   the binary to install (default .build/release/tunwarden of this source tree)
#   DESTDIR  a staging directory put before every path written (for packages and tests); the
#            units still name PREFIX/bin/tunwarden
#
# Exit status: 0 installed, 64 bad usage or settings, 66 no binary to install, other a failed step.
set -eu

usage() { echo "usage: [PREFIX=/usr/local] [UNITDIR=DIR] [BINARY=PATH] [DESTDIR=DIR] packaging/install.sh" >&2; exit 64; }
[ $# -eq 0 ] || usage

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
binary=${BINARY:-$repo/.build/release/tunwarden}
destdir=${DESTDIR:-}

# The prefix is written into ExecStart= unquoted: it must be a plain absolute path.
case $prefix in
  /*) ;;
  *) echo "install.sh: PREFIX must be an absolute path; got '$prefix'" >&2; exit 64 ;;
esac
case $prefix in
  *[!A-Za-z0-9._+/-]*) echo "install.sh: PREFIX may hold only letters, digits and ._+-/ (it goes into the units' ExecStart=); got '$prefix'" >&2; exit 64 ;;
esac
prefix=${prefix%/}
[ -n "$prefix" ] || { echo "install.sh: PREFIX=/ is not a prefix; use /usr (or the default, /usr/local)" >&2; exit 64; }
case $prefix in
  /usr/local | /usr) unitdir=${UNITDIR:-$prefix/lib/systemd/system} ;;
  *) unitdir=${UNITDIR:-/etc/systemd/system} ;;
esac
case $unitdir in
  /*) ;;
  *) echo "install.sh: UNITDIR must be an absolute path; got '$unitdir'" >&2; exit 64 ;;
esac
if [ ! -x "$binary" ]; then
  echo "install.sh: no binary at $binary: build it first (swift build -c release), or name one with BINARY=" >&2
  exit 66
fi

bindir=$prefix/bin
sharedir=$prefix/share

install -d -m 0755 "$destdir$bindir" "$destdir$sharedir/man/man8" "$destdir$unitdir" \
  "$destdir$sharedir/bash-completion/completions" "$destdir$sharedir/zsh/site-functions" \
  "$destdir$sharedir/fish/vendor_completions.d"
install -m 0755 "$binary" "$destdir$bindir/tunwarden"
install -m 0644 "$repo/man/tunwarden.8" "$destdir$sharedir/man/man8/tunwarden.8"
"$binary" --generate-completion-script bash > "$destdir$sharedir/bash-completion/completions/tunwarden"
"$binary" --generate-completion-script zsh > "$destdir$sharedir/zsh/site-functions/_tunwarden"
"$binary" --generate-completion-script fish > "$destdir$sharedir/fish/vendor_completions.d/tunwarden.fish"
chmod 0644 "$destdir$sharedir/bash-completion/completions/tunwarden" "$destdir$sharedir/zsh/site-functions/_tunwarden" \
  "$destdir$sharedir/fish/vendor_completions.d/tunwarden.fish"
for unit in tunwarden-audit.service tunwarden-audit.timer tunwarden-watch.service; do
  sed "s#/usr/bin/tunwarden#$bindir/tunwarden#g" "$repo/packaging/systemd/$unit" > "$destdir$unitdir/$unit"
  chmod 0644 "$destdir$unitdir/$unit"
done

if [ -n "$destdir" ]; then
  echo "Staged $bindir/tunwarden, its man page and completions, and units in $unitdir running it, under $destdir."
  echo "Nothing is installed on this system: copy the tree under $destdir to / (or package it) to install it."
else
  echo "Installed $bindir/tunwarden, its man page and completions, and units in $unitdir running it."
  echo "Next: systemctl daemon-reload, then enable tunwarden-audit.timer or tunwarden-watch.service."
fi
