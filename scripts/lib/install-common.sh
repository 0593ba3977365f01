# shellcheck shell=bash
# Helpers of install-pi.sh and update.sh. Every change goes through put_file / ensure_* / run_cmd,
# which compare before writing, honour --dry-run and --root, and report "unchanged" or what they
# did ("would ..." under --dry-run). Callers set ROOT, DRY_RUN and CHANGES.

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
# changed "write|wrote" "the rest": reports a change, "would write ..." under --dry-run.
changed() {
  CHANGES=$((CHANGES + 1))
  if [ "$DRY_RUN" -eq 1 ]; then note "would ${1%%|*} $2"; else note "${1#*|} $2"; fi
}

# put_file PATH MODE < content: writes ROOT/PATH when its content or mode differs.
# Sets WROTE=1 when it wrote (or would write), WROTE=0 when the file was already right, so callers
# restart only what changed (always returns 0: safe under `set -e`).
put_file() {
  local path="$ROOT$1" mode="$2" tmp
  WROTE=0
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
    note "unchanged $1"
    rm -f "$tmp"
    return 0
  fi
  # shellcheck disable=SC2034 # read by the callers
  WROTE=1
  changed "write|wrote" "$1 (mode $mode)"
  if [ "$DRY_RUN" -eq 0 ]; then
    mkdir -p "$(dirname "$path")"
    # install writes a new inode and renames nothing half-written into place on failure.
    install -m "$mode" "$tmp" "$path"
  fi
  rm -f "$tmp"
  return 0
}

# ensure_dir PATH MODE [OWNER]: OWNER is applied on a real system only (--root runs unprivileged).
ensure_dir() {
  local path="$ROOT$1" mode="$2" owner="${3:-}"
  if [ -d "$path" ] && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
    note "unchanged $1/"
  else
    changed "create|created" "$1/ (mode $mode)"
    [ "$DRY_RUN" -eq 1 ] || install -d -m "$mode" "$path"
  fi
  [ -n "$owner" ] && [ -z "$ROOT" ] || return 0
  if [ ! -d "$path" ] || [ "$(stat -c %U "$path")" != "$owner" ]; then
    changed "chown|chowned" "$1 to $owner"
    [ "$DRY_RUN" -eq 1 ] || chown "$owner:$owner" "$path"
  fi
}

# ensure_symlink TARGET LINK
ensure_symlink() {
  local target="$1" link="$ROOT$2"
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    note "unchanged $2 -> $target"
    return 0
  fi
  changed "link|linked" "$2 -> $target"
  [ "$DRY_RUN" -eq 1 ] || ln -sfn "$target" "$link"
}

# run_cmd "verb|verbed" WHAT COMMAND...: a change that is a command, not a file.
run_cmd() {
  local verbs="$1" what="$2"
  shift 2
  changed "$verbs" "$what"
  [ "$DRY_RUN" -eq 1 ] || "$@"
}

# env_merge FILE KEY=VALUE...: FILE's lines with each KEY set to VALUE (replaced in place or
# appended); every other line, the operator's own settings and comments included, is kept.
env_merge() {
  ENV_HEADER=$'# dispenser-hub settings (README "Settings"); after an edit: systemctl restart dispenser-hub\n# install-pi.sh sets the keys below again on a re-run and keeps every other line.' \
    env_merge_plain "$@"
}

# env_merge_plain FILE KEY=VALUE...: the same for a file of another package (/etc/default/dnsmasq);
# a new file starts with ENV_HEADER (default: one line saying who set the keys).
env_merge_plain() {
  local file="$1" pair header="${ENV_HEADER:-# install-pi.sh (dispenser-hub) sets the keys below and keeps every other line.}"
  shift
  local -a lines
  mapfile -t lines <<<"$header"
  [ ! -f "$file" ] || mapfile -t lines <"$file"
  for pair in "$@"; do
    local key="${pair%%=*}" i found=0
    for i in "${!lines[@]}"; do
      if [[ "${lines[$i]}" == "$key="* ]]; then lines[i]="$pair"; found=1; fi
    done
    [ "$found" -eq 1 ] || lines+=("$pair")
  done
  [ "${#lines[@]}" -eq 0 ] || printf '%s\n' "${lines[@]}"
}

# version_of DIR: the "version" of DIR/package.json
version_of() {
  sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1
}

# node_major BINARY: the major version of a node binary, 0 when missing.
node_major() {
  [ -x "$1" ] || { echo 0; return 0; }
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# Node.js 22 LTS: Node 20 reached end of life on 2026-04-30 (the code still runs on 20+).
NODE_MAJOR=22

install_node() {
  apt-get update
  local candidate
  candidate=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p')
  if [ "${candidate:-0}" -ge "$NODE_MAJOR" ]; then
    # Debian trixie ships Node 22 (npm is a separate package there).
    DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
    return 0
  fi
  # Debian bookworm (Raspberry Pi OS 12) ships Node 18; NodeSource publishes 22.x for arm64/armhf.
  DEBIAN_FRONTEND=noninteractive apt-get install -y ca-certificates curl gnupg
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main" >/etc/apt/sources.list.d/nodesource.list
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs
}

# Files of a release: what `npm ci && npm run build` needs, plus the docs and these scripts.
RELEASE_FILES=(package.json package-lock.json tsconfig.json README.md src scripts)

source_digest() {
  (cd "$1" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "${RELEASE_FILES[@]}" 2>/dev/null | sha256sum | cut -d' ' -f1)
}

# install_release SOURCE RELEASE_DIR: copies the sources into a staging dir, builds there (not
# under --root) and renames it into place, so a failed build leaves no half release behind.
install_release() {
  local source="$1" release="$ROOT$2" digest
  digest=$(source_digest "$source")
  if [ -f "$release/.source-sha256" ] && [ "$(cat "$release/.source-sha256")" = "$digest" ]; then
    note "unchanged $2 (same sources)"
    return 0
  fi
  changed "install|installed" "sources into $2"
  [ "$DRY_RUN" -eq 1 ] && { note "would run npm ci, npm run build, npm prune --omit=dev there"; return 0; }
  local staging="$release.staging"
  rm -rf "$staging"
  mkdir -p "$staging"
  (cd "$source" && cp -a "${RELEASE_FILES[@]}" "$staging/")
  if [ -n "$ROOT" ]; then
    note "skipped npm ci, build and prune under --root (network steps)"
  else
    # The build needs typescript (a dev dependency); the dev dependencies go again afterwards.
    (cd "$staging" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund)
  fi
  echo "$digest" >"$staging/.source-sha256"
  rm -rf "$release"
  mv "$staging" "$release"
  touch "$release"
}

# ensure_admin_token PATH OWNER: created once and shown once; never shown or replaced again.
# The hub reads the same file (src/broker/admin-token.ts) and generates none when it exists.
ensure_admin_token() {
  local path="$ROOT$1" owner="$2" token
  if [ -s "$path" ]; then
    note "unchanged $1 (exists; not shown again)"
    return 0
  fi
  changed "create|created" "the admin token in $1 (mode 0600)"
  [ "$DRY_RUN" -eq 1 ] && return 0
  token=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  mkdir -p "$(dirname "$path")"
  (umask 077 && printf '%s\n' "$token" >"$path.new")
  [ -n "$ROOT" ] || chown "$owner:$owner" "$path.new"
  mv "$path.new" "$path"
  echo
  echo "   ================================================================"
  echo "   Admin token (shown once; sign in at http://192.168.4.1:8080/):"
  echo "   $token"
  echo "   ================================================================"
}
