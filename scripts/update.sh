#!/usr/bin/env bash
# Explicit update of an installed dispenser-hub (never run on boot): installs the new version
# side by side under /opt/dispenser-hub/releases, switches the `current` link, restarts the
# service and polls /api/health; if the new version does not come up healthy in time, switches
# back to the previous release and restarts that. The failed release is kept for inspection.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT=""
DRY_RUN=0
SOURCE="$(dirname "$HERE")"
PREBUILT=""
HEALTH_URL=""
TIMEOUT=60
SETTLE=3
RESTART_CMD=""
KEEP=3
CHANGES=0

usage() {
  cat <<USAGE
usage: update.sh [--source DIR | --release DIR] [--health-url URL] [--timeout S] [--settle N]
                 [--restart-cmd CMD] [--keep N] [--root DIR] [--dry-run]

  --source DIR       checkout to build and install (default: this script's checkout)
  --release DIR      an already built release directory (package.json, dist/, node_modules/)
  --health-url URL   polled after the restart (default: http://127.0.0.1:<HUB_HTTP_PORT of
                     /etc/dispenser-hub/hub.env, 8080 when unset>/api/health)
  --timeout S        seconds the new version has to become healthy (default $TIMEOUT)
  --settle N         healthy answers in a row, 1 s apart, that count as healthy (default $SETTLE)
  --restart-cmd CMD  how to restart the hub (default: \$SYSTEMCTL restart dispenser-hub,
                     SYSTEMCTL defaulting to systemctl)
  --keep N           releases kept, the current and the previous one included (default $KEEP)
  --root DIR         operate under another root (tests; needs --restart-cmd or SYSTEMCTL)
  --dry-run          print every change, make none
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="${2:?--source needs a directory}"; shift ;;
    --release) PREBUILT="${2:?--release needs a directory}"; shift ;;
    --health-url) HEALTH_URL="${2:?--health-url needs a URL}"; shift ;;
    --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift ;;
    --settle) SETTLE="${2:?--settle needs a count}"; shift ;;
    --restart-cmd) RESTART_CMD="${2:?--restart-cmd needs a command}"; shift ;;
    --keep) KEEP="${2:?--keep needs a count}"; shift ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "update.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/install-common.sh
. "$HERE/lib/install-common.sh"

if [ -z "$RESTART_CMD" ]; then
  # Under --root the real systemctl would restart this machine's hub: a test must say what to run.
  if [ -n "$ROOT" ] && [ -z "${SYSTEMCTL:-}" ]; then
    echo "update.sh: --root needs --restart-cmd CMD or SYSTEMCTL=<stand-in>" >&2
    exit 2
  fi
  RESTART_CMD="${SYSTEMCTL:-systemctl} restart dispenser-hub"
fi
if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "update.sh: run as root (or use --root DIR)" >&2
  exit 1
fi
[ "$KEEP" -ge 2 ] || { echo "update.sh: --keep must be 2 or more (current and previous)" >&2; exit 2; }

# hub_setting KEY DEFAULT: KEY's value in hub.env (the hub's own settings file), else DEFAULT.
hub_setting() {
  local value=""
  [ ! -r "$ROOT/etc/dispenser-hub/hub.env" ] || value=$(sed -n "s/^$1=\(.*\)$/\1/p" "$ROOT/etc/dispenser-hub/hub.env" | tail -n 1)
  value="${value%\"}"
  value="${value#\"}"
  echo "${value:-$2}"
}
if [ -z "$HEALTH_URL" ]; then
  HTTP_PORT=$(hub_setting HUB_HTTP_PORT 8080)
  HTTP_HOST=$(hub_setting HUB_HTTP_HOST 127.0.0.1)
  case "$HTTP_HOST" in 0.0.0.0|::|"") HTTP_HOST=127.0.0.1 ;; esac
  [[ "$HTTP_PORT" =~ ^[0-9]{1,5}$ ]] || { echo "update.sh: HUB_HTTP_PORT in hub.env is \"$HTTP_PORT\", not a port" >&2; exit 1; }
  [[ "$HTTP_HOST" =~ ^[0-9A-Fa-f.:]+$ ]] || { echo "update.sh: HUB_HTTP_HOST in hub.env is \"$HTTP_HOST\", not an address" >&2; exit 1; }
  [[ "$HTTP_HOST" != *:* ]] || HTTP_HOST="[$HTTP_HOST]"
  HEALTH_URL="http://$HTTP_HOST:$HTTP_PORT/api/health"
fi

APP="$ROOT/opt/dispenser-hub"
[ -L "$APP/current" ] || { echo "update.sh: $APP/current is missing: run install-pi.sh first" >&2; exit 1; }
PREVIOUS=$(readlink "$APP/current")
FROM="${PREBUILT:-$SOURCE}"
VERSION=$(version_of "$FROM")
NAME="releases/${VERSION:-unknown}-$(date -u +%Y%m%d%H%M%S)"

# healthy VERSION: SETTLE good answers in a row before TIMEOUT. An answer naming another version
# is not good: that is the old process still (or again) serving.
healthy() {
  local want="$1" deadline=$((SECONDS + TIMEOUT)) good=0
  while [ $SECONDS -lt $deadline ]; do
    if node -e '
      const [url, want] = process.argv.slice(1)
      fetch(url, { signal: AbortSignal.timeout(3000) }).then(async (r) => {
        const body = r.ok ? await r.json().catch(() => ({})) : undefined
        process.exit(body && !(want && body.version && body.version !== want) ? 0 : 1)
      }, () => process.exit(1))' "$HEALTH_URL" "$want"; then
      good=$((good + 1))
      [ "$good" -lt "$SETTLE" ] || return 0
    else
      good=0
    fi
    sleep 1
  done
  return 1
}

restart() {
  bash -c "$RESTART_CMD" || note "restart command failed (exit $?): $RESTART_CMD"
}

# link_to TARGET NAME: replace APP/NAME atomically: a crash leaves the old or the new link, never none.
link_to() {
  ln -sfn "$1" "$APP/$2.new"
  mv -T "$APP/$2.new" "$APP/$2"
}

switch_to() {
  # sync first: the release's files must be on disk before a link that a power cut could keep points
  # at them; sync after: the link itself survives one (issue 15).
  sync
  link_to "$1" current
  sync
}

# Keeps the current release, the previous one and the newest others up to KEEP in all.
prune_releases() {
  local dir name others=0
  while read -r dir; do
    name="releases/$(basename "$dir")"
    if [ "$name" = "$NAME" ] || [ "$name" = "$PREVIOUS" ]; then continue; fi
    others=$((others + 1))
    [ "$others" -gt $((KEEP - 2)) ] || continue
    note "removed $name"
    rm -rf "$dir"
  done < <(find "$APP/releases" -mindepth 1 -maxdepth 1 -type d ! -name '*.staging' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
}

if [ -z "$PREBUILT" ] && [ -f "$APP/$PREVIOUS/.source-sha256" ] && [ "$(cat "$APP/$PREVIOUS/.source-sha256")" = "$(source_digest "$SOURCE")" ]; then
  echo "unchanged: $PREVIOUS was built from the same sources; nothing to update"
  exit 0
fi

if [ "$DRY_RUN" -eq 1 ]; then
  step "dry run: nothing below is changed"
  changed "install|installed" "$NAME from $FROM"
  changed "link|linked" "/opt/dispenser-hub/current -> $NAME (now $PREVIOUS)"
  changed "run|ran" "$RESTART_CMD, then poll $HEALTH_URL for up to ${TIMEOUT}s"
  note "(previous -> $PREVIOUS for the boot fallback; sync before and after the switch)"
  note "and if it is not healthy: link current back to $PREVIOUS and run $RESTART_CMD again"
  exit 0
fi

exec 9>"$APP/.update.lock"
flock -n 9 || { echo "update.sh: another update is running" >&2; exit 1; }

step "install $NAME (from $FROM)"
if [ -n "$PREBUILT" ]; then
  rm -rf "$APP/$NAME.staging"
  cp -a "$PREBUILT/." "$APP/$NAME.staging/"
  mv "$APP/$NAME.staging" "$APP/$NAME"
  touch "$APP/$NAME"
else
  install_release "$SOURCE" "/opt/dispenser-hub/$NAME"
fi

step "switch current: $PREVIOUS -> $NAME, restart"
# The boot fallback (dispenser-hub-fallback.service) goes back to `previous` if the new release
# keeps failing to start after a reboot or power cut, when this script is no longer running.
link_to "$PREVIOUS" previous
switch_to "$NAME"
restart
if healthy "$VERSION"; then
  note "healthy: $HEALTH_URL"
  step "keep $KEEP releases"
  prune_releases
  echo "updated to $NAME"
  exit 0
fi

step "not healthy within ${TIMEOUT}s: rolling back to $PREVIOUS"
switch_to "$PREVIOUS"
restart
if healthy "$(version_of "$APP/$PREVIOUS")"; then
  echo "rolled back to $PREVIOUS (the failed release stays in $APP/$NAME for inspection)"
else
  echo "rolled back to $PREVIOUS, but it is not healthy either: check journalctl -u dispenser-hub" >&2
fi
exit 1
