#!/usr/bin/env bash
# Runs a command in an empty network namespace (only loopback, brought up) under strace, and
# fails if the command - or any process it starts - tries to reach an address that is not loopback
# (connect, sendto, sendmsg) or sends a DNS query to any address (connect-violations.sh). Over IP
# nothing can leave the namespace; strace records every attempt. (A resolver reached through a
# Unix socket, nscd or systemd-resolved's, is not seen: the traced JVMs resolve nothing by design.)
#
#   .ci/no-network.sh CMD [ARGS...]            fail on any non-loopback network attempt
#   NO_NETWORK_EXPECT_VIOLATION=1 .ci/no-network.sh CMD   positive control: fail if none is seen
set -uo pipefail
trace="$(mktemp)"
trap 'rm -f "$trace"' EXIT
unshare -n -- sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' sh \
  strace -f -qq --seccomp-bpf -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o "$trace" "$@"
rc=$?
violations="$("$(dirname "$0")/connect-violations.sh" "$trace")"
if [ "${NO_NETWORK_EXPECT_VIOLATION:-}" = "1" ]; then
  if [ -z "$violations" ]; then
    echo "no-network: positive control FAILED: expected a non-loopback network attempt (connect, send, DNS) from: $1" >&2
    exit 1
  fi
  echo "no-network: positive control OK (a non-loopback network attempt was detected)" >&2
  exit 0
fi
if [ -n "$violations" ]; then
  echo "no-network: FAILED: non-loopback network attempts by: $1" >&2
  echo "$violations" | head -20 >&2
  exit 1
fi
echo "no-network: OK: no non-loopback network attempts by: $1 (exit $rc)" >&2
exit $rc
