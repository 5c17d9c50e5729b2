#!/bin/sh
# commit.sh REPO OUTDIR: writes OUTDIR/BuildCommit.swift with the abbreviated commit REPO is
# checked out at, or nil when REPO is not the top of a git checkout (a release tarball, or a
# tarball unpacked inside some other repository) or git is absent. The file is rewritten only
# when its text changes, so that an unchanged commit rebuilds nothing.
repo=$1
out=$2
commit=
if top=$(git -c safe.directory="$repo" -C "$repo" rev-parse --show-toplevel 2>/dev/null) &&
   [ "$(cd "$top" && pwd -P)" = "$(cd "$repo" && pwd -P)" ]; then
  commit=$(git -c safe.directory="$repo" -C "$repo" rev-parse --short=7 HEAD 2>/dev/null) || commit=
fi
case $commit in
  '' | *[!0-9a-f]*) value=nil ;;
  *) value="\"$commit\"" ;;
esac
text="// Generated before each build by Plugins/BuildInfoPlugin/commit.sh; not kept in git.
let generatedCommit: String? = $value"
mkdir -p "$out" || exit 1
if [ ! -f "$out/BuildCommit.swift" ] || [ "$(cat "$out/BuildCommit.swift")" != "$text" ]; then
  printf '%s\n' "$text" > "$out/BuildCommit.swift"
fi
