#!/usr/bin/env bash
# Entrypoint of the test base image, behaving like the official Prefect image's: install
# EXTRA_PIP_PACKAGES (space-separated) with uv first, then run the given command, or a login
# shell when there is none.
set -e
if [ -n "${EXTRA_PIP_PACKAGES:-}" ]; then
  echo "+ uv pip install ${EXTRA_PIP_PACKAGES}"
  # shellcheck disable=SC2086 # the variable is a list of requirement specifiers
  uv pip install ${EXTRA_PIP_PACKAGES}
fi
if [ "$#" -eq 0 ]; then
  exec bash --login
fi
exec "$@"
