# Debian packages the suite needs, installed before the test venv (pyscard and pycups build
# against libpcsclite-dev and libcups2-dev): sourced by scripts/test and .ci/run after env.sh.
# Under CI a missing package is a failed install, never a reason to skip its tests.
need_packages() {  # $1: what they are for; the rest: the packages
  local what="$1"; shift
  if ! apt_install "$@"; then
    if [ "${CI:-}" = "true" ]; then
      echo "error: could not install $* ($what)" >&2
      exit 1
    fi
    echo "warning: $* not installed; $what will skip" >&2
  fi
}

ensure_test_packages() {
  # The kiosk journey's real devices: pcscd with the virtual reader driver (vpcd) and CUPS with a
  # PDF queue.
  need_packages "the kiosk journey" pcscd vsmartcard-vpcd vsmartcard-vpicc \
    python3-virtualsmartcard libpcsclite-dev swig cups printer-driver-cups-pdf libcups2-dev
  # Browser tests drive Debian's Chromium (never a browser download) with CJK fonts; the
  # benchmark's smoke test drives wrk and pgbench.
  need_packages "browser and benchmark tests" chromium fonts-noto-cjk wrk postgresql-client
  # The cross-region tests run each deployment on a PostgreSQL 15 cluster of their own
  # (pg_createcluster) and kill those clusters in the crash test (tests/support/clusters.py).
  need_packages "the two-cluster cross-region tests" postgresql-15 postgresql-common
  # The hotline's SIP test calls `yibao hotline serve` with Debian's baresip softphone; the menu
  # speaks through espeak-ng (Mandarin voice) resampled to 8 kHz telephone audio by sox.
  need_packages "the SIP call test" baresip espeak-ng sox
}
