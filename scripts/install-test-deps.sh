#!/bin/sh
# System packages the pipeline tests need: OpenSSH's sshd and sftp (SFTP drop-folder test) and a
# Java runtime (PySpark replay test). Installs only what is missing, so it is safe to run on every
# `make test`; needs root (or sudo) only when something has to be installed.
set -eu

missing=""
[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
command -v sftp >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 \
    || missing="$missing openssh-client"
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"  # replay --report test

if [ -z "$missing" ]; then
    echo "install-test-deps: sshd, sftp and java present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "install-test-deps: need root to install:$missing" >&2
    exit 1
fi

echo "install-test-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# No service start at install time: the tests run their own sshd on a private port. A
# policy-rc.d that is already there (Debian container images ship one) is left as it is.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    $as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    trap '$as_root rm -f /usr/sbin/policy-rc.d' EXIT
fi
$as_root apt-get update -q
# shellcheck disable=SC2086
$as_root apt-get install -y -q --no-install-recommends $missing
