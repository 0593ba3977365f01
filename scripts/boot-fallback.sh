#!/usr/bin/env bash
# Boot fallback (issue 15), run by dispenser-hub-fallback.service when dispenser-hub.service has
# failed to start StartLimitBurst times in a row (its OnFailure=): after a reboot or a power cut
# with no update script running, a release that cannot start is replaced by the previous one
# (the `previous` link update.sh keeps) and the hub is started again. Already on the previous
# release (or none kept): wait, then start it again, as an appliance does. Never flips back.
# ROOT, SYSTEMCTL and FALLBACK_PAUSE_S are for tests.
set -euo pipefail

APP="${ROOT:-}/opt/dispenser-hub"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
PAUSE="${FALLBACK_PAUSE_S:-30}"

current=$(readlink "$APP/current" 2>/dev/null || true)
previous=$(readlink "$APP/previous" 2>/dev/null || true)

if [ -n "$previous" ] && [ "$previous" != "$current" ] && [ -f "$APP/$previous/dist/main.js" ]; then
  echo "dispenser-hub: ${current:-?} keeps failing to start; falling back to $previous"
  # Atomic renames: a power cut now leaves the old or the new link, never none; sync makes it last.
  ln -sfn "$current" "$APP/failed.new" && mv -T "$APP/failed.new" "$APP/failed"
  ln -sfn "$previous" "$APP/current.new" && mv -T "$APP/current.new" "$APP/current"
  sync
else
  echo "dispenser-hub: ${current:-?} keeps failing to start and there is no other release to fall back to; starting it again in ${PAUSE}s"
  sleep "$PAUSE"
fi
"$SYSTEMCTL" reset-failed dispenser-hub.service || true
"$SYSTEMCTL" start --no-block dispenser-hub.service
