#!/usr/bin/env bash
# Explicit update of an installed dispenser-hub (never run on boot): installs the new version
# side by side under /opt/dispenser-hub/releases, switches the `current` link, restarts the
# service and checks /api/health; if the new version does not come up healthy in time, switches
# back to the previous release and restarts it.
set -euo pipefail

ROOT=""
DRY_RUN=0
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREBUILT=""
HEALTH_URL="http://127.0.0.1:8080/api/health"
TIMEOUT=60
RESTART_CMD="systemctl restart dispenser-hub"
KEEP=3
CHANGES=0

usage() {
  cat <<USAGE
usage: update.sh [--source DIR | --release DIR] [--health-url URL] [--timeout S]
                 [--restart-cmd CMD] [--keep N] [--root DIR] [--dry-run]

  --source DIR       checkout to build and install (default: this script's checkout)
  --release DIR      an already built release directory (package.json, dist/, node_modules/)
  --health-url URL   checked after the restart (default $HEALTH_URL)
  --timeout S        seconds the new version has to become healthy (default $TIMEOUT)
  --restart-cmd CMD  how to restart the hub (default: $RESTART_CMD)
  --keep N           releases kept, the current one included (default $KEEP)
  --root DIR         operate under another root (tests)
  --dry-run          print every change, make none
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="${2:?}"; shift ;;
    --release) PREBUILT="${2:?}"; shift ;;
    --health-url) HEALTH_URL="${2:?}"; shift ;;
    --timeout) TIMEOUT="${2:?}"; shift ;;
    --restart-cmd) RESTART_CMD="${2:?}"; shift ;;
    --keep) KEEP="${2:?}"; shift ;;
    --root) ROOT="${2:?}"; shift ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "update.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/install-common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/install-common.sh"

APP="$ROOT/opt/dispenser-hub"
[ -L "$APP/current" ] || { echo "update.sh: $APP/current is missing: run install-pi.sh first" >&2; exit 1; }
PREVIOUS=$(readlink "$APP/current")
FROM="${PREBUILT:-$SOURCE}"
VERSION=$(version_of "$FROM")
NAME="releases/${VERSION:-unknown}-$(date -u +%Y%m%d%H%M%S)"

healthy() {
  local deadline=$((SECONDS + TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$HEALTH_URL"; then
      return 0
    fi
    sleep 1
  done
  return 1
}

switch_to() {
  # Replace the link atomically: a crash leaves the old or the new link, never none.
  ln -sfn "$1" "$APP/current.new"
  mv -T "$APP/current.new" "$APP/current"
}

step "install $NAME (from $FROM)"
if [ "$DRY_RUN" -eq 1 ]; then
  changed "install $NAME, switch current from $PREVIOUS, restart, check $HEALTH_URL"
  exit 0
fi
if [ -n "$PREBUILT" ]; then
  mkdir -p "$APP/$NAME"
  cp -a "$PREBUILT/." "$APP/$NAME/"
else
  install_release "$SOURCE" "/opt/dispenser-hub/$NAME"
fi

step "switch current: $PREVIOUS -> $NAME, restart"
switch_to "$NAME"
bash -c "$RESTART_CMD"
if healthy; then
  note "healthy: $HEALTH_URL"
  step "keep the newest $KEEP releases"
  # shellcheck disable=SC2012 # release names have no spaces
  ls -1dt "$APP"/releases/*/ | tail -n +"$((KEEP + 1))" | while read -r old; do
    [ "$(basename "$old")" = "$(basename "$PREVIOUS")" ] && continue
    note "remove $old"
    rm -rf "$old"
  done
  echo "updated to $NAME"
  exit 0
fi

step "not healthy within ${TIMEOUT}s: rolling back to $PREVIOUS"
switch_to "$PREVIOUS"
bash -c "$RESTART_CMD"
if healthy; then
  echo "rolled back to $PREVIOUS (the failed release stays in $APP/$NAME for inspection)"
else
  echo "rolled back to $PREVIOUS, but it is not healthy either: check journalctl -u dispenser-hub" >&2
fi
exit 1
