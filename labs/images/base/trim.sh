#!/bin/sh
# Trims a Debian root file system to what a lab container needs. Usage: trim.sh ROOT
# Run by the Dockerfile (ROOT=/) and by the offline path on the bootstrapped tree.
set -eu
root=${1:?usage: trim.sh ROOT}
cd "$root"
rm -rf var/cache/apt/* var/lib/apt/lists/* var/log/apt/* var/cache/debconf/*-old \
  usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/lintian/* usr/share/locale/*
# PostgreSQL's JIT pulls in LLVM (about 130 MB); the labs run with jit=off.
rm -rf usr/lib/postgresql/*/lib/llvmjit* usr/lib/postgresql/*/lib/bitcode
rm -f usr/lib/*-linux-gnu/libLLVM-*.so* usr/lib/*-linux-gnu/libz3.so*
# Debian's cluster wrapper is not used: the labs start postgres themselves.
find var/lib/postgresql -mindepth 1 -delete 2>/dev/null || true
rm -rf etc/postgresql/*
