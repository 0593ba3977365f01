#!/usr/bin/env bash
# Installs dispenser-hub on a fresh Raspberry Pi OS: Node >= 20, 192.168.4.1/24 on the dispenser
# Ethernet port, DHCP for the dispensers on that port only, a system user, the app under
# /opt/dispenser-hub, data under /var/lib/dispenser-hub, config under /etc/dispenser-hub, a
# hardened systemd unit, and mosquitto stopped if it holds port 1883. Idempotent: a second run
# changes nothing. Run as root.
set -euo pipefail

ROOT=""
DRY_RUN=0
IFACE="eth0"
HTTP_HOST="0.0.0.0"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHANGES=0

usage() {
  cat <<USAGE
usage: install-pi.sh [--dry-run] [--root DIR] [--iface IFACE] [--http-host ADDR] [--source DIR]

  --dry-run        print every change, make none
  --root DIR       write everything under DIR (for tests); skips user creation, npm,
                   systemctl and NetworkManager/dnsmasq reloads, and says so
  --iface IFACE    the Ethernet port the dispensers are on (default eth0)
  --http-host ADDR address of the web pages and REST API (default 0.0.0.0: staff tablets
                   may be on the venue Wi-Fi; every API call needs a token)
  --source DIR     the dispenser-hub checkout to install (default: this script's checkout)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --iface) IFACE="${2:?--iface needs an interface}"; shift ;;
    --http-host) HTTP_HOST="${2:?--http-host needs an address}"; shift ;;
    --source) SOURCE="${2:?--source needs a directory}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-pi.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/install-common.sh
. "$SOURCE/scripts/lib/install-common.sh"

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install-pi.sh: run as root (or use --root DIR to write under another root)" >&2
  exit 1
fi

APP_DIR=/opt/dispenser-hub
DATA_DIR=/var/lib/dispenser-hub
CONF_DIR=/etc/dispenser-hub
SERVICE=dispenser-hub
USER_NAME=dispenser-hub
VERSION=$(version_of "$SOURCE")

step "Node.js >= 20"
if node_ok; then
  note "node $(node -v) found"
elif [ -n "$ROOT" ]; then
  note "node >= 20 missing; skipped under --root (on a Pi: NodeSource 20.x is installed)"
else
  run_cmd "install Node.js 20 from NodeSource" install_node20
fi

step "system user $USER_NAME"
if [ -n "$ROOT" ]; then
  note "skipped under --root"
elif id "$USER_NAME" >/dev/null 2>&1; then
  note "exists"
else
  run_cmd "create system user $USER_NAME" useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
fi

step "directories"
ensure_dir "$CONF_DIR" 0750
ensure_dir "$DATA_DIR" 0750 "$USER_NAME"
ensure_dir "$APP_DIR/releases" 0755

step "application $VERSION under $APP_DIR"
install_release "$SOURCE" "$APP_DIR/releases/$VERSION"
ensure_symlink "releases/$VERSION" "$APP_DIR/current"

step "network: 192.168.4.1/24 on $IFACE (NetworkManager)"
put_file /etc/NetworkManager/system-connections/dispenser-hub.nmconnection 0600 <<NM
# Written by dispenser-hub install-pi.sh: the dispenser network, never a default route.
[connection]
id=dispenser-hub
type=ethernet
interface-name=$IFACE
autoconnect=true

[ethernet]

[ipv4]
method=manual
address1=192.168.4.1/24
never-default=true

[ipv6]
method=disabled
NM

step "DHCP for the dispensers on $IFACE only (dnsmasq)"
put_file /etc/dnsmasq.d/dispenser-hub.conf 0644 <<DNSMASQ
# Written by dispenser-hub install-pi.sh: DHCP on the dispenser port only, no DNS service.
interface=$IFACE
bind-interfaces
except-interface=lo
port=0
dhcp-authoritative
# 253 addresses for up to 250 dispensers; the hub is 192.168.4.1
dhcp-range=192.168.4.2,192.168.4.254,255.255.255.0,12h
# no default route or DNS for dispensers: they only talk to the hub
dhcp-option=option:router
dhcp-option=option:dns-server
DNSMASQ

step "configuration $CONF_DIR/hub.env"
put_file "$CONF_DIR/hub.env" 0640 <<ENV
# dispenser-hub settings (README "Settings"). Edit, then: systemctl restart dispenser-hub
HUB_DATA_DIR=$DATA_DIR
HUB_MQTT_HOST=192.168.4.1
HUB_MQTT_PORT=1883
HUB_HTTP_HOST=$HTTP_HOST
HUB_HTTP_PORT=8080
HUB_MQTT_ALLOW_ANONYMOUS=false
HUB_TIMEZONE=$(system_timezone)
ENV

step "admin token"
ensure_admin_token "$DATA_DIR/admin-token" "$USER_NAME"

step "systemd unit"
put_file "/etc/systemd/system/$SERVICE.service" 0644 <"$SOURCE/scripts/systemd/dispenser-hub.service"

step "mosquitto"
stop_mosquitto_if_on_1883

step "services"
if [ "$CHANGES" -eq 0 ]; then
  note "nothing changed: services left as they are"
elif [ -n "$ROOT" ]; then
  note "skipped under --root: systemctl daemon-reload, enable --now $SERVICE, nmcli connection reload/up, restart dnsmasq"
else
  run_cmd "install dnsmasq" ensure_package dnsmasq
  run_cmd "reload NetworkManager connections" nmcli connection reload
  run_cmd "bring up the dispenser network" nmcli connection up dispenser-hub
  run_cmd "restart dnsmasq" systemctl restart dnsmasq
  run_cmd "systemd daemon-reload" systemctl daemon-reload
  run_cmd "enable and start $SERVICE" systemctl enable --now "$SERVICE"
fi

echo
if [ "$CHANGES" -eq 0 ]; then
  echo "done: nothing changed"
else
  echo "done: $CHANGES change(s)$([ "$DRY_RUN" -eq 1 ] && echo ' (dry run: none made)')"
fi
