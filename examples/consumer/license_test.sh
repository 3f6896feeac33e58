#!/bin/sh
# The licence file reaches a consumer through @stp//:LICENSE.
grep -q '^MIT License$' "$1" || { echo "FAIL: $1 is not stp's licence"; exit 1; }
