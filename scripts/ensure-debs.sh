#!/usr/bin/env bash
# Installs the Debian packages the integration tests use as independent peers
# when what they provide is missing:
#   ensure-debs.sh COMMAND=PACKAGE ...      a command on PATH or in /usr/sbin
#   ensure-debs.sh py:MODULE=PACKAGE ...    a module of Debian's /usr/bin/python3
# Runs apt-get only when something is missing, so a prepared machine pays nothing.
set -euo pipefail
missing=()
for pair in "$@"; do
  what=${pair%%=*} pkg=${pair#*=}
  case $what in
    py:*) /usr/bin/python3 -c "import ${what#py:}" >/dev/null 2>&1 || missing+=("$pkg") ;;
    *) command -v "$what" >/dev/null 2>&1 || [ -x "/usr/sbin/$what" ] || missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "ensure-debs: need root to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "ensure-debs: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
