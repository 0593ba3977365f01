# shellcheck shell=bash
# Helpers of install-pi.sh and update.sh. Every change goes through put_file / ensure_* / run_cmd,
# which compare before writing, honour --dry-run and --root, and report what they did.
# Callers set ROOT, DRY_RUN and CHANGES.

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
changed() {
  CHANGES=$((CHANGES + 1))
  if [ "$DRY_RUN" -eq 1 ]; then note "would $*"; else note "$*"; fi
}

# put_file PATH MODE < content: writes ROOT/PATH when its content or mode differs.
put_file() {
  local path="$ROOT$1" mode="$2" tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
    note "unchanged $1"
    rm -f "$tmp"
    return 0
  fi
  changed "write $1 (mode $mode)"
  if [ "$DRY_RUN" -eq 0 ]; then
    mkdir -p "$(dirname "$path")"
    install -m "$mode" "$tmp" "$path"
  fi
  rm -f "$tmp"
}

# ensure_dir PATH MODE [OWNER]
ensure_dir() {
  local path="$ROOT$1" mode="$2" owner="${3:-}"
  if [ -d "$path" ] && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
    note "unchanged $1/"
  else
    changed "create $1/ (mode $mode)"
    [ "$DRY_RUN" -eq 1 ] || install -d -m "$mode" "$path"
  fi
  if [ -n "$owner" ] && [ -z "$ROOT" ] && [ "$DRY_RUN" -eq 0 ] && [ "$(stat -c %U "$path")" != "$owner" ]; then
    changed "chown $1 to $owner"
    chown "$owner:$owner" "$path"
  fi
}

# ensure_symlink TARGET LINK
ensure_symlink() {
  local target="$1" link="$ROOT$2"
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    note "unchanged $2 -> $target"
    return 0
  fi
  changed "link $2 -> $target"
  [ "$DRY_RUN" -eq 1 ] || ln -sfn "$target" "$link"
}

# run_cmd DESCRIPTION COMMAND...: a change that is a command, not a file.
run_cmd() {
  local what="$1"
  shift
  changed "$what"
  [ "$DRY_RUN" -eq 1 ] || "$@"
}

# version_of DIR: the "version" of DIR/package.json
version_of() {
  sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1
}

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -ge 20 ]
}

install_node20() {
  # Debian bookworm (Raspberry Pi OS) ships Node 18; NodeSource publishes 20.x for arm64/armhf.
  apt-get update
  apt-get install -y ca-certificates curl gnupg
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" >/etc/apt/sources.list.d/nodesource.list
  apt-get update
  apt-get install -y nodejs
}

ensure_package() {
  dpkg -s "$1" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y "$1"
}

system_timezone() {
  if [ -f "$ROOT/etc/timezone" ]; then
    head -n 1 "$ROOT/etc/timezone"
  elif [ -z "$ROOT" ] && command -v timedatectl >/dev/null 2>&1; then
    timedatectl show -p Timezone --value 2>/dev/null || echo UTC
  else
    echo UTC
  fi
}

# Files of a release: what `npm ci && npm run build` needs, plus the docs.
RELEASE_FILES=(package.json package-lock.json tsconfig.json README.md src scripts)

source_digest() {
  (cd "$1" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "${RELEASE_FILES[@]}" 2>/dev/null | sha256sum | cut -d' ' -f1)
}

# install_release SOURCE RELEASE_DIR: copies the sources when they differ, then builds (not under --root).
install_release() {
  local source="$1" release="$ROOT$2" digest
  digest=$(source_digest "$source")
  if [ -f "$release/.source-sha256" ] && [ "$(cat "$release/.source-sha256")" = "$digest" ]; then
    note "unchanged $2 (same sources)"
    return 0
  fi
  changed "install sources into $2"
  [ "$DRY_RUN" -eq 1 ] && return 0
  local staging="$release.staging"
  rm -rf "$staging"
  mkdir -p "$staging"
  (cd "$source" && cp -a "${RELEASE_FILES[@]}" "$staging/")
  if [ -n "$ROOT" ]; then
    note "skipped npm ci and build under --root"
  else
    (cd "$staging" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund)
  fi
  echo "$digest" >"$staging/.source-sha256"
  rm -rf "$release"
  mv "$staging" "$release"
}

# ensure_admin_token PATH OWNER: created once and shown once; never shown again.
ensure_admin_token() {
  local path="$ROOT$1" owner="$2" token
  if [ -s "$path" ]; then
    note "exists in $1 (not shown again)"
    return 0
  fi
  changed "create the admin token in $1 (mode 0600)"
  [ "$DRY_RUN" -eq 1 ] && return 0
  token=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  mkdir -p "$(dirname "$path")"
  (umask 077 && printf '%s\n' "$token" >"$path")
  [ -n "$ROOT" ] || chown "$owner:$owner" "$path"
  echo
  echo "   ================================================================"
  echo "   Admin token (shown once; sign in at http://192.168.4.1:8080/):"
  echo "   $token"
  echo "   ================================================================"
}

# DESIGN §1: the hub embeds the broker; a mosquitto on 1883 would take its port.
stop_mosquitto_if_on_1883() {
  if [ -n "$ROOT" ]; then
    local wants="$ROOT/etc/systemd/system/multi-user.target.wants/mosquitto.service"
    if [ -L "$wants" ]; then
      changed "disable mosquitto (remove its multi-user.target.wants link)"
      [ "$DRY_RUN" -eq 1 ] || rm -f "$wants"
    else
      note "not enabled under $ROOT"
    fi
    return 0
  fi
  if command -v ss >/dev/null 2>&1 && ss -ltnpH 'sport = :1883' 2>/dev/null | grep -q mosquitto; then
    run_cmd "stop and disable mosquitto (it holds port 1883)" systemctl disable --now mosquitto
  else
    note "not listening on 1883"
  fi
}
