#!/usr/bin/env bash
# Prints the non-loopback connect() attempts recorded in strace traces (the files given, or every
# file in the folders given): AF_INET/AF_INET6 connects whose address is not 127.0.0.0/8, ::1 or
# ::ffff:127.x. Prints nothing when there are none.
set -uo pipefail
for f in "$@"; do
  if [ -d "$f" ]; then
    find "$f" -type f -name 'java.*' ! -name '*.cmd' -print0 | xargs -0 -r grep -HE 'sa_family=AF_INET6?'
  else
    grep -HE 'sa_family=AF_INET6?' "$f"
  fi
done | grep -vE 'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\.' || true
