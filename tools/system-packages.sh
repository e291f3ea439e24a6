#!/usr/bin/env bash
# The one list of system (Debian) packages kaoping needs, and what installs them.
#
#   tools/system-packages.sh demo   what `make demo` needs (PDF posters: pango and CJK fonts)
#   tools/system-packages.sh test   what `make test` needs (and the browser, poppler, gettext)
#
# Missing packages are installed with apt-get when running as root or with passwordless sudo.
# Otherwise Chromium comes from `playwright install chromium` where that can download, and for
# anything still missing the script names exactly what to install and stops, before anything
# fails in the middle of a run.
set -euo pipefail
purpose="${1:-test}"
venv="${VENV:-.venv}"

# package            needed for   present when
# (libatomic1: the Node.js that drives Playwright needs it; Debian's minimal images lack it)
PACKAGES="
libpango-1.0-0        demo,test    lib:libpango-1.0.so
libpangoft2-1.0-0     demo,test    lib:libpangoft2-1.0.so
fonts-noto-cjk        demo,test    font:Noto Sans CJK
gettext               test         cmd:msgfmt
poppler-utils         test         cmd:pdftotext
chromium              test         cmd:chromium
libatomic1            test         lib:libatomic.so.1
postgresql-client     test         cmd:pg_dump
redis-server          test         cmd:redis-server
"

present() {
  local check="$1" kind="${1%%:*}" what="${1#*:}"
  case "$kind" in
    cmd) command -v "$what" >/dev/null 2>&1 ;;
    lib) ldconfig -p 2>/dev/null | grep -q "$what" ;;
    font) fc-list 2>/dev/null | grep -qi "$what" ;;
    *) echo "unknown check $check" >&2; return 1 ;;
  esac
}

missing=()
while read -r package needed check; do
  [ -z "${package:-}" ] && continue
  case ",$needed," in *",$purpose,"*) ;; *) continue ;; esac
  # fc-list itself comes with fontconfig, which pango brings along.
  present "$check" || missing+=("$package")
done <<<"$PACKAGES"

[ ${#missing[@]} -eq 0 ] && exit 0

apt=""
if [ "$(id -u)" = 0 ]; then
  apt="apt-get"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt="sudo apt-get"
fi
if [ -n "$apt" ] && command -v apt-get >/dev/null 2>&1; then
  log="${TMPDIR:-/tmp}/kaoping-apt.log"
  echo "kaoping: installing system packages (log in $log): ${missing[*]}"
  if ! { $apt update -q && DEBIAN_FRONTEND=noninteractive $apt install -y -q \
    --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "kaoping: apt-get could not install ${missing[*]} (see $log)" >&2
    exit 1
  fi
  exit 0
fi

# Without root: Playwright can bring its own Chromium where it may download.
still=()
for package in "${missing[@]}"; do
  if [ "$package" = chromium ] && [ -x "$venv/bin/playwright" ] \
    && "$venv/bin/playwright" install chromium >/dev/null 2>&1; then
    echo "kaoping: Chromium installed by Playwright (no root, so not from apt)"
    continue
  fi
  still+=("$package")
done
[ ${#still[@]} -eq 0 ] && exit 0
{
  echo "kaoping: these system packages are missing and cannot be installed without root:"
  echo "    sudo apt-get install ${still[*]}"
  echo "Install them (or run this command as root) and try again."
} >&2
exit 1
