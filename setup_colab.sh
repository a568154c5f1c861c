#!/usr/bin/env bash
# setup_colab.sh: takes a fresh Google Colab GPU runtime (or any Debian/Ubuntu machine) to a
# running Easel server reachable from a phone: Node 20, `npm ci` with onnxruntime-node's CUDA 12
# binaries, models named on the command line, the server in the background, a Cloudflare quick
# tunnel, and one line with the public URL, the token and a GitHub Pages link that opens the PWA
# already pointed at this server. Safe to run twice: every step first checks whether it is done.
# `--dry-run` prints the plan and changes nothing. Details: docs/deploy.md.
set -euo pipefail

# The PWA on GitHub Pages (.github/workflows/pages.yml publishes it): by default the Pages site of
# the GitHub repository this clone came from, else this URL. EASEL_PAGES_URL or --pages-url win.
DEFAULT_PAGES_URL="https://easel-studio.github.io/easel"
# Node we install when the machine has none or an older one (package.json needs >= 20.19).
NODE_VERSION="20.20.2"
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19
CLOUDFLARED_URL="https://github.com/cloudflare/cloudflared/releases/latest/download/cloudflared-linux-amd64"
# onnxruntime-node's install script reads ONNXRUNTIME_NODE_INSTALL before the npm config, so this
# wins over the project's .npmrc (`onnxruntime-node-install=skip`).
ORT_INSTALL="cuda12"
ORT_CUDA_LIB="node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so"
MODEL_TYPES="checkpoint lora vae embedding controlnet upscaler detector tokenizer"
HEALTH_TIMEOUT_S="${EASEL_HEALTH_TIMEOUT_S:-180}"
TUNNEL_TIMEOUT_S="${EASEL_TUNNEL_TIMEOUT_S:-90}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TSX="$REPO_DIR/node_modules/.bin/tsx"

DRY_RUN=0
USE_DRIVE=0
DRIVE_DIR="/content/drive/MyDrive/Easel"
MODELS_DIR=""
DATA_DIR=""
PORT=7860
TUNNEL=1
RESTART=0
# A clone of a fork links to the fork's own Pages site: https://<owner>.github.io/<repo>.
pages_url_from_remote() {
  local remote
  remote="$(git -C "$REPO_DIR" remote get-url origin 2>/dev/null)" || return 1
  [[ "$remote" =~ github\.com[:/]([^/]+)/([^/]+)$ ]] || return 1
  local owner="${BASH_REMATCH[1]}" name="${BASH_REMATCH[2]%.git}"
  printf 'https://%s.github.io/%s\n' "${owner,,}" "$name"
}
PAGES_URL="${EASEL_PAGES_URL:-$(pages_url_from_remote || printf '%s' "$DEFAULT_PAGES_URL")}"
MODEL_ARGS=()

usage() {
  cat <<EOF
Usage: bash setup_colab.sh [options] [MODEL ...]

Installs and starts Easel on this machine (made for a Google Colab GPU runtime), opens a
Cloudflare quick tunnel and prints one line:
  Easel is ready: <public URL>  token: <token>  open: <pages URL>/#server=<URL>&token=<token>
Running it again reuses what is already installed and running.

MODEL is a model source, optionally prefixed with its type (default checkpoint):
  hf:OWNER/REPO/PATH/file.safetensors   a file from Hugging Face (HF_TOKEN for gated repos)
  civitai:123 | civitai:123@456         a Civitai model (or model version) (CIVITAI_TOKEN)
  https://host/file.safetensors         any direct link
  lora=civitai:123                      TYPE=SOURCE, TYPE one of: ${MODEL_TYPES// /, }
  starter:sd15                          a starter model by id (npm run -s models -- --list)

Options:
  --dry-run           print every action it would take ([dry-run] lines) and change nothing
  --drive             keep models and data in Google Drive ($DRIVE_DIR); the notebook
                      mounts Drive first (a shell cannot), this script checks the folder
  --drive-dir DIR     like --drive, with another folder
  --models-dir DIR    models folder (default ./models, or DRIVE/models with --drive)
  --data-dir DIR      gallery, database, token, logs (default ./data, or DRIVE/data)
  --port N            server port on 127.0.0.1 (default 7860)
  --no-tunnel         no Cloudflare tunnel; the printed URL is the local one
  --pages-url URL     where the PWA is published (default $PAGES_URL)
  --restart           restart the server and the tunnel even when they are running
  --print-link URL TOKEN
                      print the final line for URL and TOKEN and exit (nothing else runs)
  -h, --help          this help

Environment: HF_TOKEN, CIVITAI_TOKEN (downloads), AUTH_TOKEN (fixed token), CORS_ORIGINS (more
origins besides the Pages one), EASEL_PAGES_URL, EASEL_BIN_DIR (where cloudflared goes).
Every other variable of the environment reaches the server as it is, e.g. DRIVE_CLIENT_ID,
DRIVE_CLIENT_SECRET or DRIVE_SERVICE_ACCOUNT_KEY for the Google Drive backup (see the README).
EOF
}

die() {
  printf 'setup_colab.sh: %s\n' "$1" >&2
  exit "${2:-1}"
}

# Progress goes to stderr so that stdout carries only the plan (dry run) and the final line.
say() {
  printf '==> %s\n' "$1" >&2
}

# Runs a state-changing step, or in a dry run only prints it.
act() {
  local desc="$1"
  shift
  if [ "$DRY_RUN" = 1 ]; then
    printf '[dry-run] %s\n' "$desc"
  else
    say "$desc"
    "$@"
  fi
}

# Percent-encodes everything outside RFC 3986's unreserved set, byte by byte (UTF-8 safe).
urlencode() {
  local LC_ALL=C
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *)
        printf -v c '%%%02X' "'$c"
        out+="${c: -3}"
        ;;
    esac
  done
  printf '%s' "$out"
}

ready_line() {
  local url="$1" token="$2" pages="${PAGES_URL%/}"
  printf 'Easel is ready: %s  token: %s  open: %s/#server=%s&token=%s\n' "$url" "$token" "$pages" "$(urlencode "$url")" "$(urlencode "$token")"
}

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value (see --help)" 2; fi
}

parse_args() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --*=*)
        local name="${1%%=*}" value="${1#*=}"
        shift
        set -- "$name" "$value" "$@"
        continue
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      --dry-run) DRY_RUN=1 ;;
      --drive) USE_DRIVE=1 ;;
      --drive-dir)
        need_value "$@"
        USE_DRIVE=1
        DRIVE_DIR="$2"
        shift
        ;;
      --models-dir)
        need_value "$@"
        MODELS_DIR="$2"
        shift
        ;;
      --data-dir)
        need_value "$@"
        DATA_DIR="$2"
        shift
        ;;
      --port)
        need_value "$@"
        if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
          die "--port must be an integer between 1 and 65535, got \"$2\"" 2
        fi
        PORT="$2"
        shift
        ;;
      --no-tunnel) TUNNEL=0 ;;
      --pages-url)
        need_value "$@"
        PAGES_URL="$2"
        shift
        ;;
      --restart) RESTART=1 ;;
      --print-link)
        [ "$#" -ge 3 ] || die "--print-link needs URL and TOKEN" 2
        PRINT_LINK_URL="$2"
        PRINT_LINK_TOKEN="$3"
        shift 2
        ;;
      --)
        shift
        MODEL_ARGS+=("$@")
        break
        ;;
      -*) die "unknown option $1 (see --help)" 2 ;;
      *) MODEL_ARGS+=("$1") ;;
    esac
    shift
  done
}

# "lora=civitai:1" -> "lora civitai:1"; a bare source is a checkpoint.
split_model_arg() {
  local arg="$1" type="checkpoint" source="$1"
  # A starter model by id: its type and source come from the catalog (scripts/models.ts).
  if [[ "$arg" =~ ^starter:[a-z0-9][a-z0-9-]*$ ]]; then
    printf 'starter %s' "${arg#starter:}"
    return 0
  fi
  if [[ "$arg" =~ ^([a-z]+)=(.+)$ ]]; then
    type="${BASH_REMATCH[1]}"
    source="${BASH_REMATCH[2]}"
  fi
  case " $MODEL_TYPES " in
    *" $type "*) ;;
    *) die "unknown model type \"$type\" in \"$arg\" (one of: $MODEL_TYPES)" 2 ;;
  esac
  [[ "$source" =~ ^(hf:.+|civitai:[0-9]+(@[0-9]+)?|https?://.+)$ ]] || die "not a model source: \"$source\" (hf:OWNER/REPO/FILE, civitai:ID or an https URL)" 2
  printf '%s %s' "$type" "$source"
}

# The pid in FILE if that process is alive and its command line contains PATTERN. A pid file on
# Drive outlives the Colab VM, so a live pid alone proves nothing.
live_pid() {
  local file="$1" pattern="$2" pid
  [ -f "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
  printf '%s' "$pid"
}

health_ok() {
  curl -fsS -m 5 -o /dev/null "$1/api/health" 2>/dev/null
}

# --- Node -------------------------------------------------------------------------------------

node_is_recent() {
  local v major minor
  v="$(node --version 2>/dev/null)" || return 1
  [[ "$v" =~ ^v([0-9]+)\.([0-9]+) ]] || return 1
  major="${BASH_REMATCH[1]}"
  minor="${BASH_REMATCH[2]}"
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

node_prefix() {
  if [ -w /usr/local ]; then printf '/usr/local'; else printf '%s/.local' "$HOME"; fi
}

install_node() {
  local prefix tmp
  prefix="$(node_prefix)"
  tmp="$(mktemp -d)"
  curl -fsSL "https://nodejs.org/dist/v$NODE_VERSION/node-v$NODE_VERSION-linux-x64.tar.xz" -o "$tmp/node.tar.xz"
  mkdir -p "$prefix"
  tar -xJf "$tmp/node.tar.xz" -C "$prefix" --strip-components=1
  rm -rf "$tmp"
  hash -r
}

ensure_node() {
  if node_is_recent; then
    say "Node $(node --version) is recent enough"
    return
  fi
  local prefix
  prefix="$(node_prefix)"
  act "install Node v$NODE_VERSION (official linux-x64 tarball from nodejs.org) into $prefix" install_node
  export PATH="$prefix/bin:$PATH"
}

# --- npm dependencies ---------------------------------------------------------------------------

lock_stamp() {
  sha256sum "$REPO_DIR/package-lock.json" | cut -d' ' -f1
}

install_deps() {
  (cd "$REPO_DIR" && ONNXRUNTIME_NODE_INSTALL="$1" npm ci --no-audit --no-fund)
  lock_stamp >"$REPO_DIR/node_modules/.easel-lock.sha256"
}

# npm 11 runs no install script of a package that allowScripts does not approve (package.json
# leaves onnxruntime-node out), so the CUDA binaries are fetched by running its script directly.
install_ort_cuda() {
  (cd "$REPO_DIR" && ONNXRUNTIME_NODE_INSTALL="$ORT_INSTALL" node node_modules/onnxruntime-node/script/install.js)
}

ensure_deps() {
  local flavour="skip" stamp=""
  [ "$ENGINE_DEVICE" = cuda ] && flavour="$ORT_INSTALL"
  [ -f "$REPO_DIR/node_modules/.easel-lock.sha256" ] && stamp="$(cat "$REPO_DIR/node_modules/.easel-lock.sha256")"
  if [ -n "$stamp" ] && [ "$stamp" = "$(lock_stamp)" ]; then
    say "node_modules match package-lock.json"
  else
    act "npm ci with ONNXRUNTIME_NODE_INSTALL=$flavour in $REPO_DIR" install_deps "$flavour"
  fi
  if [ "$ENGINE_DEVICE" = cuda ]; then
    if [ -f "$REPO_DIR/$ORT_CUDA_LIB" ]; then
      say "onnxruntime-node CUDA binaries present"
    else
      act "fetch onnxruntime-node's CUDA 12 binaries (ONNXRUNTIME_NODE_INSTALL=$ORT_INSTALL node node_modules/onnxruntime-node/script/install.js)" install_ort_cuda
    fi
  fi
}

build_web() {
  (cd "$REPO_DIR" && npm run -s build:web)
  lock_stamp >"$REPO_DIR/web/dist/.easel-lock.sha256"
}

ensure_web() {
  # The server serves the PWA too (open the tunnel URL directly); rebuilt when the lockfile moved.
  if [ -f "$REPO_DIR/web/dist/index.html" ] && [ "$(cat "$REPO_DIR/web/dist/.easel-lock.sha256" 2>/dev/null)" = "$(lock_stamp)" ]; then
    say "web app already built"
  else
    act "build the web app (npm run build:web)" build_web
  fi
}

# --- folders and models -------------------------------------------------------------------------

resolve_dirs() {
  if [ "$USE_DRIVE" = 1 ]; then
    if [ ! -d "$(dirname "$DRIVE_DIR")" ]; then
      die "Google Drive is not mounted: $(dirname "$DRIVE_DIR") does not exist. In Colab run the notebook's Drive cell first (from google.colab import drive; drive.mount('/content/drive')); a shell script cannot mount Drive."
    fi
    MODELS_DIR="${MODELS_DIR:-$DRIVE_DIR/models}"
    DATA_DIR="${DATA_DIR:-$DRIVE_DIR/data}"
  fi
  MODELS_DIR="${MODELS_DIR:-$REPO_DIR/models}"
  DATA_DIR="${DATA_DIR:-$REPO_DIR/data}"
}

ensure_dirs() {
  local d
  for d in "$MODELS_DIR" "$DATA_DIR"; do
    [ -d "$d" ] || act "create folder $d" mkdir -p "$d"
  done
}

# Each finished download is recorded as "TYPE<TAB>SOURCE<TAB>PATH" so a second run skips it. A
# failed download does not stop the setup: the server still starts, and the model can be fetched
# again (next run, or from the app's Models panel).
download_model() {
  local type="$1" source="$2" record="$MODELS_DIR/.easel-downloads.tsv" path
  local cmd=(scripts/download-model.ts "$source" --type "$type")
  [ "$type" = starter ] && cmd=(scripts/models.ts --starter "$source")
  if path="$(cd "$REPO_DIR" && "$TSX" "${cmd[@]}" --models-dir "$MODELS_DIR")" && [ -n "$path" ]; then
    printf '%s\t%s\t%s\n' "$type" "$source" "$path" >>"$record"
  else
    say "WARNING: the download of $type $source failed (message above); continuing without it"
  fi
}

already_downloaded() {
  local type="$1" source="$2" record="$MODELS_DIR/.easel-downloads.tsv" path
  [ -f "$record" ] || return 1
  path="$(awk -F '\t' -v t="$type" -v s="$source" '$1 == t && $2 == s { p = $3 } END { print p }' "$record")"
  [ -n "$path" ] && [ -f "$path" ]
}

ensure_models() {
  local arg parsed type source
  for arg in "${MODEL_ARGS[@]+"${MODEL_ARGS[@]}"}"; do
    parsed="$(split_model_arg "$arg")"
    type="${parsed%% *}"
    source="${parsed#* }"
    if already_downloaded "$type" "$source"; then
      say "$type $source already downloaded"
    else
      if [ "$type" = starter ]; then
        act "download starter model $source into $MODELS_DIR (tsx scripts/models.ts --starter $source)" download_model "$type" "$source"
      else
        act "download $type $source into $MODELS_DIR (tsx scripts/download-model.ts)" download_model "$type" "$source"
      fi
    fi
  done
}

# --- server ---------------------------------------------------------------------------------------

detect_device() {
  if nvidia-smi -L >/dev/null 2>&1; then
    ENGINE_DEVICE=cuda
    say "GPU found: ENGINE_DEVICE=cuda"
  else
    ENGINE_DEVICE=cpu
    say "WARNING: nvidia-smi finds no GPU; Easel will run on the CPU (very slow). In Colab: Runtime > Change runtime type > GPU."
  fi
}

pages_origin() {
  [[ "$PAGES_URL" =~ ^(https?://[^/]+) ]] || die "--pages-url must be an http(s) URL, got \"$PAGES_URL\"" 2
  printf '%s' "${BASH_REMATCH[1]}"
}

# What the running server was started with; a change means a restart.
server_fingerprint() {
  printf 'port=%s data=%s models=%s device=%s cors=%s\n' "$PORT" "$DATA_DIR" "$MODELS_DIR" "$ENGINE_DEVICE" "$CORS"
}

start_server() {
  (
    cd "$REPO_DIR"
    PORT="$PORT" HOST=127.0.0.1 DATA_DIR="$DATA_DIR" MODELS_DIR="$MODELS_DIR" ENGINE_DEVICE="$ENGINE_DEVICE" CORS_ORIGINS="$CORS" \
      nohup setsid "$TSX" server/main.ts >>"$DATA_DIR/easel-server.log" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$DATA_DIR/easel-server.pid"
  )
  server_fingerprint >"$DATA_DIR/easel-server.env"
  local waited=0
  until health_ok "$LOCAL_URL"; do
    if ! live_pid "$DATA_DIR/easel-server.pid" server/main.ts >/dev/null; then
      tail -n 30 "$DATA_DIR/easel-server.log" >&2 || true
      die "the server exited during start (log: $DATA_DIR/easel-server.log)"
    fi
    [ "$waited" -lt "$HEALTH_TIMEOUT_S" ] || die "the server did not answer $LOCAL_URL/api/health in ${HEALTH_TIMEOUT_S} s (log: $DATA_DIR/easel-server.log)"
    sleep 1
    waited=$((waited + 1))
  done
}

stop_pid() {
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  # The server shuts down gracefully (finishes writes) within its own 20 s limit.
  for ((i = 0; i < 25; i++)); do
    [ -d "/proc/$pid" ] || return 0
    sleep 1
  done
  kill -9 "$pid" 2>/dev/null || true
}

ensure_server() {
  local pid fingerprint=""
  [ -f "$DATA_DIR/easel-server.env" ] && fingerprint="$(cat "$DATA_DIR/easel-server.env")"
  if pid="$(live_pid "$DATA_DIR/easel-server.pid" server/main.ts)"; then
    if [ "$RESTART" = 0 ] && [ "$fingerprint" = "$(server_fingerprint)" ] && health_ok "$LOCAL_URL"; then
      say "server already running (pid $pid) on $LOCAL_URL"
      return
    fi
    act "stop the running server (pid $pid) to restart it with the current settings" stop_pid "$pid"
  elif health_ok "$LOCAL_URL"; then
    die "port $PORT already answers $LOCAL_URL/api/health but not from a server this script started; stop it or pass --port"
  fi
  act "start the server in the background on $LOCAL_URL (ENGINE_DEVICE=$ENGINE_DEVICE, CORS_ORIGINS=$CORS, log $DATA_DIR/easel-server.log) and wait for /api/health" start_server
}

read_token() {
  if [ -n "${AUTH_TOKEN:-}" ]; then
    printf '%s' "$AUTH_TOKEN"
  elif [ -f "$DATA_DIR/auth-token" ]; then
    tr -d '[:space:]' <"$DATA_DIR/auth-token"
  elif [ "$DRY_RUN" = 1 ]; then
    printf '<token from %s/auth-token>' "$DATA_DIR"
  else
    die "the server started but wrote no $DATA_DIR/auth-token"
  fi
}

# --- tunnel ---------------------------------------------------------------------------------------

bin_dir() {
  printf '%s' "${EASEL_BIN_DIR:-$HOME/.local/bin}"
}

install_cloudflared() {
  mkdir -p "$(bin_dir)"
  curl -fsSL "$CLOUDFLARED_URL" -o "$(bin_dir)/cloudflared.part"
  chmod +x "$(bin_dir)/cloudflared.part"
  mv "$(bin_dir)/cloudflared.part" "$(bin_dir)/cloudflared"
}

# api.trycloudflare.com is the service cloudflared asks for a tunnel (it shows up in errors), not one.
tunnel_url_from_log() {
  grep -o 'https://[-a-z0-9]*\.trycloudflare\.com' "$DATA_DIR/cloudflared.log" 2>/dev/null | grep -v '^https://api\.' | tail -n 1 || true
}

start_tunnel() {
  : >"$DATA_DIR/cloudflared.log"
  nohup setsid cloudflared tunnel --no-autoupdate --url "$LOCAL_URL" >>"$DATA_DIR/cloudflared.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$DATA_DIR/cloudflared.pid"
  printf '%s\n' "$LOCAL_URL" >"$DATA_DIR/cloudflared.target"
  local waited=0
  until [ -n "$(tunnel_url_from_log)" ]; do
    live_pid "$DATA_DIR/cloudflared.pid" cloudflared >/dev/null || {
      tail -n 20 "$DATA_DIR/cloudflared.log" >&2 || true
      die "cloudflared exited (log: $DATA_DIR/cloudflared.log)"
    }
    [ "$waited" -lt "$TUNNEL_TIMEOUT_S" ] || die "no trycloudflare.com URL in $DATA_DIR/cloudflared.log after ${TUNNEL_TIMEOUT_S} s"
    sleep 1
    waited=$((waited + 1))
  done
}

ensure_tunnel() {
  local pid url
  if ! command -v cloudflared >/dev/null 2>&1; then
    act "download cloudflared ($CLOUDFLARED_URL) into $(bin_dir)" install_cloudflared
  fi
  if pid="$(live_pid "$DATA_DIR/cloudflared.pid" cloudflared)"; then
    url="$(tunnel_url_from_log)"
    if [ "$RESTART" = 0 ] && [ -n "$url" ] && [ "$(cat "$DATA_DIR/cloudflared.target" 2>/dev/null)" = "$LOCAL_URL" ] && health_ok "$url"; then
      say "tunnel already up (pid $pid): $url"
      PUBLIC_URL="$url"
      return
    fi
    act "stop the stale tunnel (pid $pid)" stop_pid "$pid"
  fi
  act "start a Cloudflare quick tunnel (cloudflared tunnel --url $LOCAL_URL, log $DATA_DIR/cloudflared.log) and read its trycloudflare.com URL" start_tunnel
  if [ "$DRY_RUN" = 1 ]; then
    PUBLIC_URL="https://<tunnel>.trycloudflare.com"
  else
    PUBLIC_URL="$(tunnel_url_from_log)"
  fi
}

main() {
  PRINT_LINK_URL=""
  PRINT_LINK_TOKEN=""
  parse_args "$@"
  if [ -n "$PRINT_LINK_URL" ]; then
    ready_line "$PRINT_LINK_URL" "$PRINT_LINK_TOKEN"
    return
  fi
  # Fail on bad model arguments before installing anything.
  local arg
  for arg in "${MODEL_ARGS[@]+"${MODEL_ARGS[@]}"}"; do split_model_arg "$arg" >/dev/null; done
  LOCAL_URL="http://127.0.0.1:$PORT"
  CORS="${CORS_ORIGINS:+$CORS_ORIGINS,}$(pages_origin)"
  PATH="$(bin_dir):$PATH"
  export PATH

  resolve_dirs
  detect_device
  ensure_node
  ensure_deps
  ensure_web
  ensure_dirs
  ensure_models
  ensure_server
  PUBLIC_URL="$LOCAL_URL"
  [ "$TUNNEL" = 1 ] && ensure_tunnel
  local token
  token="$(read_token)"
  if [ "$DRY_RUN" = 1 ]; then
    printf '[dry-run] print: %s' "$(ready_line "$PUBLIC_URL" "$token")"
    printf '\n'
  else
    ready_line "$PUBLIC_URL" "$token"
  fi
}

main "$@"
