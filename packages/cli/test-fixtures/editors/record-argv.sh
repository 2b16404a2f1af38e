#!/bin/sh
# Recording stand-in for an editor binary: writes how it was started (name, working directory, each argument on its
# own line) to $MESHCODE_RECORD_DIR/<name>.record, then exits. The rename makes the record appear whole.
name=$(basename "$0")
out="${MESHCODE_RECORD_DIR:?MESHCODE_RECORD_DIR must be set}/$name.record"
{
  printf 'name=%s\n' "$name"
  printf 'cwd=%s\n' "$(pwd -P)"
  for arg in "$@"; do printf 'arg=%s\n' "$arg"; done
} > "$out.partial" && mv "$out.partial" "$out"
exit "${MESHCODE_RECORD_EXIT:-0}"
