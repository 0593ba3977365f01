# shellcheck shell=bash
# Checks install-pi.sh makes before it changes anything (issue 15): the dispenser port must exist
# and must not be the Pi's way out (default route) or in (this SSH session), and NetworkManager
# must be the network service, since the port's address is a NetworkManager profile. Each refusal
# says what to do; --force (FORCE=1) turns the port refusals into warnings.
# Reads the kernel's own files (ROOT/sys/class/net, ROOT/proc/net/route), so --root tests give a
# fake network; `ip` (IP_CMD) and systemctl (SYSTEMCTL) can be stand-ins too.

refuse() {
  printf 'install-pi.sh: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

# refuse_or_force MESSAGE HINT...: a refusal unless --force, then a warning.
refuse_or_force() {
  if [ "${FORCE:-0}" -eq 1 ]; then
    note "WARNING (--force): $1"
    return 0
  fi
  refuse "$1" "$@" "Or pass --force if you really mean this port."
}

interfaces() {
  local dir
  for dir in "$ROOT"/sys/class/net/*; do
    [ -e "$dir" ] || continue
    dir=$(basename "$dir")
    [ "$dir" = lo ] || printf '%s ' "$dir"
  done
}

# default_route_iface: the interface of the IPv4 default route (destination and mask 0), if any.
default_route_iface() {
  [ -r "$ROOT/proc/net/route" ] || return 0
  awk 'NR > 1 && $2 == "00000000" && $8 == "00000000" { print $1; exit }' "$ROOT/proc/net/route"
}

# ssh_iface: the interface this SSH session came in on (SSH_CONNECTION = client port server port).
ssh_iface() {
  local server
  [ -n "${SSH_CONNECTION:-}" ] || return 0
  server=$(awk '{ print $3 }' <<<"$SSH_CONNECTION")
  [ -n "$server" ] || return 0
  # `ip -o addr show` lines: "2: eth0    inet 192.168.1.5/24 brd ... scope global eth0"
  "${IP_CMD:-ip}" -o addr show 2>/dev/null | awk -v want="$server" '{ split($4, a, "/"); if (a[1] == want) { print $2; exit } }'
}

check_iface() {
  local iface="$1" found route ssh
  if [ -n "$ROOT" ] && [ ! -d "$ROOT/sys/class/net" ]; then
    note "skipped under --root: no $ROOT/sys/class/net to check --iface $iface against"
    return 0
  fi
  found=$(interfaces)
  found="${found% }"
  if [ ! -e "$ROOT/sys/class/net/$iface" ]; then
    refuse "--iface $iface: there is no such network interface (this Pi has: ${found:-none})." \
      "Plug in the dispensers' Ethernet port (a USB adapter shows up as eth1 or enx...), then" \
      "run again with --iface set to it: ip -br link lists the interfaces."
  fi
  note "ok: $iface exists"
  route=$(default_route_iface)
  if [ -n "$route" ] && [ "$route" = "$iface" ]; then
    refuse_or_force "--iface $iface carries this Pi's default route (its internet connection): giving it 192.168.4.1/24 without a gateway would cut the Pi off." \
      "Connect the Pi's uplink another way first (Wi-Fi: sudo nmcli device wifi connect <SSID> --ask," \
      "or a second Ethernet port), check with ip route show default, then run again."
  else
    note "ok: $iface is not the default route${route:+ (that is $route)}"
  fi
  ssh=$(ssh_iface)
  if [ -n "$ssh" ] && [ "$ssh" = "$iface" ]; then
    refuse_or_force "--iface $iface carries this SSH session (${SSH_CONNECTION%% *} -> ${iface}): the change would cut it mid-install." \
      "Run the installer from the Pi's console, or over SSH through another interface (Wi-Fi)."
  elif [ -n "${SSH_CONNECTION:-}" ]; then
    note "ok: this SSH session is not on $iface${ssh:+ (it is on $ssh)}"
  fi
}

check_network_manager() {
  local state
  if [ -n "$ROOT" ] && [ -z "${SYSTEMCTL:-}" ]; then
    note "skipped under --root: systemctl is-active NetworkManager (set SYSTEMCTL to a stand-in to check)"
    return 0
  fi
  state=$("${SYSTEMCTL:-systemctl}" is-active NetworkManager 2>/dev/null || true)
  if [ "$state" = active ]; then
    note "ok: NetworkManager is active"
    return 0
  fi
  refuse_or_force "NetworkManager is not active (systemctl is-active NetworkManager: ${state:-unknown}); the dispenser port's address is a NetworkManager profile and would not be applied." \
    "Raspberry Pi OS bookworm uses NetworkManager by default. Switch to it with" \
    "sudo raspi-config (Advanced Options -> Network Config -> NetworkManager), or" \
    "sudo systemctl enable --now NetworkManager, then run again."
}
