#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for Linggong: system packages (WeasyPrint's Pango, a CJK font, gettext),
# the virtual environment and the pinned Python dependencies. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SYSTEM_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-wqy-microhei gettext"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "需要以 root 身份安装系统软件包：$*" >&2; return 1; fi
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in $SYSTEM_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
  if ((${#missing[@]})); then
    echo "== 安装系统软件包：${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q "${missing[@]}" >/dev/null; }
  fi
else
  echo "警告：不是 Debian/Ubuntu，请自行安装 Pango 与中文字体（如文泉驿微米黑）" >&2
fi

if [ ! -x .venv/bin/python ]; then
  echo "== 创建虚拟环境 .venv"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== 安装 Python 依赖（requirements.txt，已固定版本）"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# Compiled translations are committed; recompile when gettext is present so edits to .po files take effect.
if command -v msgfmt >/dev/null 2>&1 && [ -d locale ]; then
  .venv/bin/python manage.py compilemessages -v 0 >/dev/null 2>&1 || true
fi
