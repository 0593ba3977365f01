#!/usr/bin/env bash
# Installs dispenser-hub on a fresh Raspberry Pi OS: Node >= 20, 192.168.4.1/24 on the dispenser
# Ethernet port, DHCP for the dispensers on that port only, a system user, the app under
# /opt/dispenser-hub, data under /var/lib/dispenser-hub, config under /etc/dispenser-hub, a
# hardened systemd unit, and mosquitto stopped if it holds port 1883. Idempotent: a second run
# changes nothing (every write goes through put_file / ensure_*, which compare first). Run as root.
# Once installed, new versions go in with scripts/update.sh, never by this script.
set -euo pipefail

ROOT=""
DRY_RUN=0
FORCE=0
IFACE="eth0"
HTTP_HOST="0.0.0.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE="$(dirname "$HERE")"
CHANGES=0

usage() {
  cat <<USAGE
usage: install-pi.sh [--dry-run] [--root DIR] [--iface IFACE] [--http-host ADDR] [--source DIR] [--force]

  --dry-run        print every change, make none
  --root DIR       write everything under DIR (for tests); skips apt, user creation, npm,
                   systemctl, sysctl and nmcli, and says so
  --iface IFACE    the Ethernet port the dispensers are on (default eth0)
  --http-host ADDR address of the web pages and REST API (default 0.0.0.0: staff tablets
                   may be on the venue Wi-Fi; every API call needs a token)
  --source DIR     the dispenser-hub checkout to install (default: this script's checkout)
  --force          use --iface even when it carries the default route or this SSH session,
                   or NetworkManager is not active (each is refused otherwise, saying why)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --iface) IFACE="${2:?--iface needs an interface}"; shift ;;
    --http-host) HTTP_HOST="${2:?--http-host needs an address}"; shift ;;
    --source) SOURCE="${2:?--source needs a directory}"; shift ;;
    --force) FORCE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-pi.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/install-common.sh
. "$HERE/lib/install-common.sh"
# shellcheck source=scripts/lib/install-services.sh
. "$HERE/lib/install-services.sh"
# shellcheck source=scripts/lib/install-checks.sh
. "$HERE/lib/install-checks.sh"

# Both end up in config files: refuse anything but a plain interface name / address.
[[ "$IFACE" =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { echo "install-pi.sh: --iface: \"$IFACE\" is not an interface name" >&2; exit 2; }
[[ "$HTTP_HOST" =~ ^[0-9A-Fa-f.:]+$ ]] || { echo "install-pi.sh: --http-host: \"$HTTP_HOST\" is not an IP address" >&2; exit 2; }

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install-pi.sh: run as root (or use --root DIR to write under another root)" >&2
  exit 1
fi
[ -z "$ROOT" ] || ROOT=$(realpath -m "$ROOT")

APP_DIR=/opt/dispenser-hub
DATA_DIR=/var/lib/dispenser-hub
CONF_DIR=/etc/dispenser-hub
SERVICE=dispenser-hub
USER_NAME=dispenser-hub
SYSCTL_FILE=/etc/sysctl.d/60-dispenser-hub.conf
VERSION=$(version_of "$SOURCE")
[ "$DRY_RUN" -eq 0 ] || echo "dry run: nothing below is changed"

# Before any change: a wrong port would cut the Pi off its network (issue 15).
step "checks: the dispenser port $IFACE and NetworkManager"
check_iface "$IFACE"
check_network_manager

step "Node.js $NODE_MAJOR LTS (/usr/bin/node, as the unit runs it)"
if [ -n "$ROOT" ]; then
  note "checked only under --root: node $(node -v 2>/dev/null || echo missing) on PATH (on a Pi: Debian or NodeSource nodejs $NODE_MAJOR.x)"
elif [ "$(node_major /usr/bin/node)" -ge "$NODE_MAJOR" ]; then
  note "unchanged: node $(/usr/bin/node -v)"
else
  run_cmd "install|installed" "Node.js $NODE_MAJOR (Debian nodejs when it is >= $NODE_MAJOR, else NodeSource $NODE_MAJOR.x; was $(/usr/bin/node -v 2>/dev/null || echo none))" install_node
fi

step "system user $USER_NAME"
if [ -n "$ROOT" ]; then
  note "skipped under --root (useradd --system $USER_NAME)"
elif id "$USER_NAME" >/dev/null 2>&1; then
  note "unchanged: $USER_NAME exists"
else
  run_cmd "create|created" "system user $USER_NAME" useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
fi

step "directories"
ensure_dir "$CONF_DIR" 0750
ensure_dir "$DATA_DIR" 0750 "$USER_NAME"
ensure_dir "$APP_DIR" 0755
ensure_dir "$APP_DIR/releases" 0755

step "application $VERSION under $APP_DIR"
HUB_CHANGED=0
if [ -L "$ROOT$APP_DIR/current" ]; then
  # Updates are explicit (scripts/update.sh: side by side, health check, rollback); the installer
  # never replaces the release the hub is running.
  note "unchanged: $APP_DIR/current -> $(readlink "$ROOT$APP_DIR/current") (to install this checkout: scripts/update.sh)"
else
  before=$CHANGES
  install_release "$SOURCE" "$APP_DIR/releases/$VERSION"
  ensure_symlink "releases/$VERSION" "$APP_DIR/current"
  [ "$CHANGES" -eq "$before" ] || HUB_CHANGED=1
fi

step "network: 192.168.4.1/24 on $IFACE (NetworkManager)"
put_file /etc/NetworkManager/system-connections/dispenser-hub.nmconnection 0600 <<NM
# Written by dispenser-hub install-pi.sh: the dispenser network, never a default route.
[connection]
id=dispenser-hub
type=ethernet
interface-name=$IFACE
autoconnect=true
# wins over the "Wired connection 1" DHCP profile NetworkManager makes for the port
autoconnect-priority=100

[ethernet]

[ipv4]
method=manual
address1=192.168.4.1/24
never-default=true

[ipv6]
method=disabled
NM
NM_CHANGED=$WROTE
# The hub binds 192.168.4.1 (MQTT); without a cable on the port the address is not there yet and the
# hub would fail to start. Non-local binds let it listen at boot and serve once the link is up.
put_file "$SYSCTL_FILE" 0644 <<SYSCTL
# Written by dispenser-hub install-pi.sh: the hub may bind 192.168.4.1 before $IFACE has a link.
net.ipv4.ip_nonlocal_bind = 1
SYSCTL
SYSCTL_CHANGED=$WROTE

step "DHCP for the dispensers on $IFACE only (dnsmasq)"
put_file /etc/dnsmasq.d/dispenser-hub.conf 0644 <<DNSMASQ
# Written by dispenser-hub install-pi.sh: DHCP on the dispenser port only, no DNS service.
interface=$IFACE
# bind-dynamic: serves the port once it appears (a USB adapter, a cable plugged in later)
bind-dynamic
except-interface=lo
port=0
dhcp-authoritative
# 253 addresses: up to 250 dispensers with room to spare; the hub is 192.168.4.1
dhcp-range=192.168.4.2,192.168.4.254,255.255.255.0,12h
# no default route or DNS for dispensers: they only talk to the hub
dhcp-option=option:router
dhcp-option=option:dns-server
DNSMASQ
DNSMASQ_CHANGED=$WROTE
# dnsmasq may start before the port exists (a USB adapter) or has its address; keep it trying.
put_file /etc/systemd/system/dnsmasq.service.d/dispenser-hub.conf 0644 <<DROPIN
# Written by dispenser-hub install-pi.sh: keep DHCP for the dispensers coming back.
[Unit]
StartLimitIntervalSec=0

[Service]
Restart=on-failure
RestartSec=5
DROPIN
DNSMASQ_CHANGED=$((DNSMASQ_CHANGED | WROTE))
DROPIN_CHANGED=$WROTE
# Keep the Pi's own DNS: Debian's dnsmasq unit registers 127.0.0.1 as the system resolver
# (resolvconf) unless DNSMASQ_EXCEPT names lo, and with port=0 nothing answers there.
put_file /etc/default/dnsmasq 0644 < <(env_merge_plain "$ROOT/etc/default/dnsmasq" "DNSMASQ_EXCEPT=lo")
DNSMASQ_CHANGED=$((DNSMASQ_CHANGED | WROTE))

step "configuration $CONF_DIR/hub.env"
# The installer sets these keys and keeps every other line: the operator's own settings survive a re-run.
# HTTP listens on all interfaces: staff tablets may be on the venue Wi-Fi, not the dispenser port, and
# every API call needs a token; MQTT listens on the dispenser port only (DESIGN §3).
put_file "$CONF_DIR/hub.env" 0640 < <(env_merge "$ROOT$CONF_DIR/hub.env" \
  "HUB_DATA_DIR=$DATA_DIR" \
  "HUB_MQTT_HOST=192.168.4.1" \
  "HUB_HTTP_HOST=$HTTP_HOST" \
  "HUB_MQTT_ALLOW_ANONYMOUS=false")
HUB_CHANGED=$((HUB_CHANGED | WROTE))

step "admin token"
ensure_admin_token "$DATA_DIR/admin-token" "$USER_NAME"

step "systemd unit, and the boot fallback to the previous release"
put_file "/etc/systemd/system/$SERVICE.service" 0644 <"$SOURCE/scripts/systemd/dispenser-hub.service"
UNIT_CHANGED=$((WROTE | DROPIN_CHANGED))
HUB_CHANGED=$((HUB_CHANGED | WROTE))
# Outside the releases: the fallback must not depend on the release that fails.
ensure_dir "$APP_DIR/bin" 0755
put_file "$APP_DIR/bin/boot-fallback.sh" 0755 <"$SOURCE/scripts/boot-fallback.sh"
put_file "/etc/systemd/system/$SERVICE-fallback.service" 0644 <"$SOURCE/scripts/systemd/dispenser-hub-fallback.service"
UNIT_CHANGED=$((UNIT_CHANGED | WROTE))

step "time: network time, fake-hwclock, RTC"
setup_time

step "mosquitto"
handle_mosquitto

step "services"
apply_services

echo
if [ "$CHANGES" -eq 0 ]; then
  echo "done: nothing changed"
else
  echo "done: $CHANGES change(s)$([ "$DRY_RUN" -eq 1 ] && echo ' (dry run: none made)')"
fi
