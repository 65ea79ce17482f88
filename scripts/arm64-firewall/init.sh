#!/bin/busybox sh
# The initramfs's /init (scripts/arm64-firewall/run.sh builds it): loads every table under
# /tables into this arm64 kernel with Debian's arm64 nft, lists each back and compares its rule
# comments, in order, with the file; runs the doctor's probe; then creates and deletes a
# conntrack entry. Prints one
# PASS or FAIL line per policy, and a last line the host reads; then powers the machine off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
export PATH=/usr/sbin:/sbin:/bin
depmod

comments() { grep -o 'comment "[^"]*"' "$1"; }

# The table a file defines ("inet microlab", "ip microlab_perimeter"), from its opening line.
table_of() { sed -n 's/^table \([a-z]*\) \([a-z_]*\) {$/\1 \2/p' "$1" | head -1; }

echo "arm64-firewall: kernel $(uname -r) on $(uname -m), $(nft --version), $(conntrack --version 2>&1 | head -1)"
failed=0
passed=0
check() { # FILE NAME: loads FILE, lists its table back; prints a problem or nothing
  if ! out=$(nft -f "$1" 2>&1); then
    echo "$2: nft -f refused it: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
    return
  fi
  table=$(table_of "$1")
  if [ -z "$table" ]; then
    # mode off: the file only removes our table
    nft list table inet microlab >/dev/null 2>&1 && echo "$2: a table is left after mode off"
    return
  fi
  nft list table $table >/tmp/listed 2>&1 || { echo "$2: nft list table $table failed: $(head -c 300 /tmp/listed)"; return; }
  comments "$1" >/tmp/want
  comments /tmp/listed >/tmp/got
  if ! cmp -s /tmp/want /tmp/got; then
    echo "$2: listed back $(wc -l </tmp/got) of $(wc -l </tmp/want) rules, first difference: $(diff /tmp/want /tmp/got | grep '^[-+][^-+]' | head -1)"
  fi
  nft delete table $table
}

problem=$(check /tables/_closed.nft "closed table")
if [ -z "$problem" ]; then
  echo "PASS closed table (a holder's first step): loaded and listed back"
  passed=$((passed + 1))
else
  echo "FAIL $problem"
  failed=$((failed + 1))
fi

for dir in /tables/*/; do
  policy=$(basename "$dir")
  problems=""
  n=0
  for file in "$dir"*.nft; do
    name=$(basename "$file" .nft)
    [ "$name" = _router ] && name=router
    p=$(check "$file" "$name")
    [ -n "$p" ] && problems="$problems; $p"
    n=$((n + 1))
  done
  rules=$(cat "$dir"*.nft | grep -c 'comment "')
  if [ -z "$problems" ]; then
    echo "PASS $policy: $n tables loaded and listed back ($((n - 1)) workloads and the router, $rules rules)"
    passed=$((passed + 1))
  else
    echo "FAIL $policy:${problems#;}"
    failed=$((failed + 1))
  fi
done

# The doctor's own probe (every construct the compiler emits, and conntrack -D), as a student's
# laptop runs it in a throwaway namespace.
# (Through a pipe: the probe writes its cut line to PID 1's stdout, which must stay the console.)
sh /tables/_doctor.sh 2>&1 | cat >/tmp/doctor
if grep -q '^probe table ok$' /tmp/doctor && grep -q '^deleted 0 0$' /tmp/doctor; then
  echo "PASS doctor's probe: every construct the compiler emits loaded, $(sed -n 's/^probe listed //p' /tmp/doctor) rules listed back, conntrack -D"
  passed=$((passed + 1))
else
  echo "FAIL doctor's probe: $(grep -v '^probe rule [0-9]* ok' /tmp/doctor | tr '\n' ' ' | cut -c1-600)"
  failed=$((failed + 1))
fi
nft delete table inet microlab 2>/dev/null

# A policy change cuts an open connection by deleting its conntrack entry (firewall/cut.ts).
if conntrack -I -p tcp -s 198.51.100.1 -d 198.51.100.2 --sport 40000 --dport 8080 --state ESTABLISHED --timeout 60 >/dev/null 2>&1 &&
  conntrack -D -p tcp -s 198.51.100.1 -d 198.51.100.2 --sport 40000 --dport 8080 >/dev/null 2>&1 &&
  ! conntrack -L 2>/dev/null | grep -q 'sport=40000'; then
  echo "PASS conntrack: an entry created and deleted with conntrack -D"
  passed=$((passed + 1))
else
  echo "FAIL conntrack: could not create and delete an entry"
  failed=$((failed + 1))
fi

echo "arm64-firewall: modules loaded on demand: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
if [ "$failed" = 0 ]; then
  echo "arm64-firewall: every policy passed ($passed checks)"
else
  echo "arm64-firewall: $failed of $((passed + failed)) checks failed"
fi
poweroff -f
