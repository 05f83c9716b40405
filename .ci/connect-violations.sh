#!/usr/bin/env bash
# Prints the network attempts recorded in strace traces (the files given, or every file in the
# folders given) that are not loopback: AF_INET/AF_INET6 connect(), sendto() and sendmsg() whose
# address is not 127.0.0.0/8, ::1 or ::ffff:127.x; and any to port 53, loopback included (a local
# resolver, 127.0.0.53 or Docker's 127.0.0.11, forwards a DNS query beyond the machine). Prints
# nothing when there are none.
set -uo pipefail
for f in "$@"; do
  if [ -d "$f" ]; then
    find "$f" -type f -name 'java.*' ! -name '*.cmd' -print0 | xargs -0 -r grep -HE 'sa_family=AF_INET6?'
  else
    grep -HE 'sa_family=AF_INET6?' "$f"
  fi
done | awk '/htons\(53\)/ || !/inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\./' || true
