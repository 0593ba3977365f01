# shellcheck shell=bash
# Service side of install-pi.sh: mosquitto, and (re)starting only what changed. Nothing here runs
# systemctl, nmcli or sysctl under --root; it says what it skipped instead.

# DESIGN §1: the hub embeds its broker; a mosquitto on 1883 would take the hub's port (a wildcard
# bind 0.0.0.0:1883 blocks the hub's 192.168.4.1:1883), and an enabled one would do so after boot.
handle_mosquitto() {
  if [ -n "$ROOT" ]; then
    local wants="$ROOT/etc/systemd/system/multi-user.target.wants/mosquitto.service"
    if [ -L "$wants" ]; then
      changed "disable|disabled" "mosquitto (its multi-user.target.wants link)"
      [ "$DRY_RUN" -eq 1 ] || rm -f "$wants"
    else
      note "unchanged: mosquitto not enabled under $ROOT (port 1883 on this host not checked)"
    fi
    return 0
  fi
  local holder="" enabled=""
  command -v ss >/dev/null 2>&1 && holder=$(ss -ltnpH 'sport = :1883' 2>/dev/null || true)
  enabled=$(systemctl is-enabled mosquitto 2>/dev/null || true)
  if grep -q mosquitto <<<"$holder" || [ "$enabled" = enabled ]; then
    run_cmd "stop and disable|stopped and disabled" "mosquitto (bound to 1883: $([ -n "$holder" ] && echo yes || echo no), enabled: $enabled)" \
      systemctl disable --now mosquitto
  elif [ -n "$holder" ] && ! grep -q '"node"' <<<"$holder"; then
    note "WARNING: another program holds port 1883; the hub cannot start until it is gone:"
    note "$holder"
  else
    note "unchanged: no mosquitto on port 1883"
  fi
}

# nmcli up fails without a cable; NetworkManager brings the profile up when the link appears.
nm_apply() {
  nmcli connection reload
  nmcli connection up dispenser-hub || note "dispenser-hub connection not up yet (no cable on $IFACE?); it comes up with the link"
}

ensure_package() {
  if dpkg -s "$1" >/dev/null 2>&1; then
    note "unchanged: package $1 installed"
  else
    # --force-confold: keep the settings this script wrote before the package came (/etc/default/dnsmasq)
    run_cmd "install|installed" "package $1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold "$1"
  fi
}

# ensure_running UNIT RESTART(0|1): enabled, active, and restarted when its inputs changed.
ensure_running() {
  local unit="$1" restart="$2"
  if [ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" != enabled ]; then
    run_cmd "enable|enabled" "$unit" systemctl enable "$unit"
  fi
  if ! systemctl is-active --quiet "$unit" 2>/dev/null; then
    run_cmd "start|started" "$unit" systemctl start "$unit"
  elif [ "$restart" -eq 1 ]; then
    run_cmd "restart|restarted" "$unit (its configuration changed)" systemctl restart "$unit"
  else
    note "unchanged: $unit enabled and running"
  fi
}

# Time you can trust (issue 15): a Pi 4 has no RTC, so after a power cut the clock is what
# fake-hwclock saved (it only moves the clock forward) until a time server answers; the hub asks
# chrony or timesyncd whether it is synchronised and shows staff a banner until it is.
setup_time() {
  local rtc=""
  [ ! -e "$ROOT/sys/class/rtc/rtc0" ] || rtc=$(cat "$ROOT/sys/class/rtc/rtc0/name" 2>/dev/null || echo rtc0)
  if [ -n "$rtc" ]; then
    note "RTC present ($rtc, Raspberry Pi 5): the kernel sets the clock from it at boot and the time service keeps it right;"
    note "without a battery on the J5 connector it forgets the time on a power cut (fake-hwclock then covers it)"
  else
    note "no RTC (Raspberry Pi 4 and older): fake-hwclock restores the last saved time at boot"
  fi
  if [ -n "$ROOT" ]; then
    note "skipped under --root: apt-get install systemd-timesyncd fake-hwclock, timedatectl set-ntp true"
    return 0
  fi
  if dpkg -s chrony >/dev/null 2>&1; then
    note "unchanged: chrony keeps the time (the hub asks chronyc tracking)"
    ensure_running chrony 0
  else
    ensure_package systemd-timesyncd
    if [ "$(timedatectl show -p NTP --value 2>/dev/null || true)" != yes ]; then
      run_cmd "enable|enabled" "network time (timedatectl set-ntp true: systemd-timesyncd)" timedatectl set-ntp true
    else
      note "unchanged: network time on (systemd-timesyncd)"
    fi
  fi
  ensure_package fake-hwclock
}

# apply_services: uses NM_CHANGED, SYSCTL_CHANGED, DNSMASQ_CHANGED, UNIT_CHANGED, HUB_CHANGED.
apply_services() {
  if [ -n "$ROOT" ]; then
    note "skipped under --root: apt-get install dnsmasq, sysctl, nmcli connection reload/up,"
    note "systemctl daemon-reload, enable and (re)start dnsmasq and $SERVICE"
    return 0
  fi
  ensure_package dnsmasq
  [ "$SYSCTL_CHANGED" -eq 0 ] || run_cmd "apply|applied" "$SYSCTL_FILE" sysctl -p "$SYSCTL_FILE"
  [ "$NM_CHANGED" -eq 0 ] || run_cmd "reload and bring up|reloaded and brought up" "the NetworkManager profile dispenser-hub on $IFACE" nm_apply
  [ "$UNIT_CHANGED" -eq 0 ] || run_cmd "run|ran" "systemctl daemon-reload" systemctl daemon-reload
  ensure_running dnsmasq "$DNSMASQ_CHANGED"
  ensure_running "$SERVICE" "$HUB_CHANGED"
}
