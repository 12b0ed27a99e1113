#!/usr/bin/env bash
# Checks the Dockerfile against scripts/install-deps.sh and against the
# shared libraries the built pgcdc loads (no Docker engine needed):
#  - the build stage installs through scripts/install-deps.sh itself, and
#    installs nothing else with apt;
#  - every library pgcdc or librdkafka loads by name (DT_NEEDED) comes, in
#    the runtime stage, from a package the stage installs, unless the base
#    image has it already (the packages apt itself depends on: debian-slim
#    has apt);
#  - every package the runtime stage installs is installed here, and is
#    either a library pgcdc loads (directly or through another library) or
#    holds no shared library at all (ca-certificates);
#  - every library package has its -dev package among those install-deps.sh
#    installs (listed, or a dependency of a listed one);
#  - librdkafka is copied from where install-deps.sh builds it, which is
#    where pgcdc's RUNPATH points;
#  - the runtime runs as a non-root numeric user, exposes metrics.listen's
#    port, probes /healthz on it, and reads /etc/pgcdc/pgcdc.yaml.
#
#   check_dockerfile.sh SOURCE_DIR PGCDC_BINARY
set -euo pipefail

src=$1
binary=$2
dockerfile=$src/Dockerfile
install_deps=$src/scripts/install-deps.sh
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The Dockerfile's instructions, continuation lines joined, comments dropped,
# each prefixed with its stage number (0: build, 1: runtime).
instructions=$(sed -e '/^[[:space:]]*#/d' "$dockerfile" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
  awk '/^FROM /{stage++} NF{gsub(/[ \t]+/, " "); print stage-1 "\t" $0}')
stage_count=$(grep -c $'\tFROM ' <<<"$instructions")
[[ $stage_count == 2 ]] || fail "expected two stages (build, runtime), found $stage_count"
build=$(awk -F'\t' '$1==0{print $2}' <<<"$instructions")
runtime=$(awk -F'\t' '$1==1{print $2}' <<<"$instructions")

# --- The build stage ----------------------------------------------------------
grep -qE '^COPY scripts/install-deps\.sh ' <<<"$build" ||
  fail "the build stage does not copy scripts/install-deps.sh"
grep -qE '^RUN .*bash scripts/install-deps\.sh' <<<"$build" ||
  fail "the build stage does not run scripts/install-deps.sh"
if grep -qE 'apt-get install|apt install' <<<"$build"; then
  fail "the build stage installs packages besides scripts/install-deps.sh"
fi

# --- Package names --------------------------------------------------------------
# The packages of an `apt-get install` command line, options dropped.
install_args() {
  sed -n 's/.*apt-get install\(.*\)/\1/p' | sed 's/&&.*//' | tr ' ' '\n' |
    grep -v '^-' | grep -v '^$' | sort -u
}
runtime_packages=$(install_args <<<"$runtime")
[[ -n $runtime_packages ]] || fail "the runtime stage installs no package"

# install-deps.sh's PACKAGES=( ... ) array (the build-only part).
deps_packages=$(sed -n '/^PACKAGES=(/,/^)/p' "$install_deps" |
  sed -e 's/#.*//' -e 's/PACKAGES=(//' -e 's/)//' | tr ' ' '\n' |
  grep -v '^$' | sort -u)
[[ -n $deps_packages ]] || fail "no PACKAGES=( ... ) in $install_deps"

# Package names in a Depends field, versions and alternatives' bars dropped.
depends_of() {
  dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$@" 2>/dev/null |
    tr ',|' '\n\n' | sed -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' |
    grep -v '^$' | sort -u
}
# What install-deps.sh installs: the listed packages and their dependencies.
deps_installed=$(sort -u <(echo "$deps_packages") \
  <(depends_of $deps_packages))
# What the base image has: apt and what it depends on.
base_packages=$(sort -u <(echo apt) <(depends_of apt libapt-pkg6.0))

# The paths a file may be recorded under by dpkg (usrmerge: both ways).
candidates() {
  local path=$1
  printf '%s\n' "$path" "$(readlink -f "$path")" "${path/#\/lib\//\/usr\/lib\/}" \
    "${path/#\/usr\/lib\//\/lib\/}"
}
# path -> package, filled by index_owners with one dpkg -S for many files.
declare -A owner
index_owners() {
  local path line
  local -a all=()
  for path in "$@"; do
    mapfile -t -O "${#all[@]}" all < <(candidates "$path")
  done
  while IFS= read -r line; do
    [[ $line == diversion* ]] && continue
    owner[${line#*: }]=${line%%:*}
  done < <(dpkg -S "${all[@]}" 2>/dev/null || true)
}
# The package holding a file ("" if none), once index_owners has seen it.
package_of() {
  local candidate
  while read -r candidate; do
    if [[ -n ${owner[$candidate]:-} ]]; then
      echo "${owner[$candidate]}"
      return
    fi
  done < <(candidates "$1")
}

# --- The libraries pgcdc loads -------------------------------------------------
rdkafka_rpath=$(readelf -d "$binary" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
[[ -n $rdkafka_rpath ]] || fail "$binary has no RUNPATH"
rdkafka_so=$rdkafka_rpath/librdkafka.so.1
[[ -f $rdkafka_so ]] || fail "no $rdkafka_so"
rdkafka_version=$(sed -n 's/^RDKAFKA_VERSION=//p' "$install_deps")
[[ $rdkafka_rpath == "/opt/pgcdc/librdkafka-$rdkafka_version/lib" ]] ||
  fail "pgcdc's RUNPATH $rdkafka_rpath is not where install-deps.sh puts librdkafka $rdkafka_version"
grep -qE "^COPY --from=build $rdkafka_so $rdkafka_so\$" <<<"$runtime" ||
  fail "the runtime stage does not copy $rdkafka_so from the build stage"

# soname -> path, as the loader resolves them for pgcdc (its closure).
resolved=$(ldd "$binary" | sed -n 's/^[[:space:]]*\([^ ]*\) => \(\/[^ ]*\) .*/\1 \2/p')
needed=$( (readelf -d "$binary"; readelf -d "$rdkafka_so") |
  sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
index_owners $(awk '{print $2}' <<<"$resolved")

required=()
for soname in $needed; do
  [[ $soname == librdkafka.so.1 ]] && continue
  path=$(awk -v s="$soname" '$1==s{print $2; exit}' <<<"$resolved")
  if [[ -z $path ]]; then
    # The dynamic loader itself: not a package's library to list.
    [[ $soname == ld-linux* ]] && continue
    fail "ldd does not resolve $soname"
    continue
  fi
  package=$(package_of "$path")
  if [[ -z $package ]]; then
    fail "no package holds $path ($soname)"
    continue
  fi
  grep -qxF "$package" <<<"$base_packages" && continue
  required+=("$package")
done
closure=()
while read -r soname path; do
  [[ $soname == librdkafka.so.1 ]] && continue
  package=$(package_of "$path")
  [[ -n $package ]] && closure+=("$package")
done <<<"$resolved"

for package in $(printf '%s\n' "${required[@]}" | sort -u); do
  grep -qxF "$package" <<<"$runtime_packages" ||
    fail "the runtime stage lacks $package (pgcdc or librdkafka loads a library of it)"
done

# The unversioned libX.so links of the runtime packages' libraries.
links=()
for package in $runtime_packages; do
  for library in $(dpkg -L "$package" 2>/dev/null | grep -E '/lib[^/]*\.so\.[0-9][^/]*$'); do
    [[ -e ${library%%.so.*}.so ]] && links+=("${library%%.so.*}.so")
  done
done
((${#links[@]})) && index_owners "${links[@]}"

for package in $runtime_packages; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    fail "runtime package $package is not installed here (misspelt, or not what install-deps.sh gives)"
    continue
  fi
  libraries=$(dpkg -L "$package" | grep -E '/lib[^/]*\.so\.[0-9][^/]*$' || true)
  [[ -z $libraries ]] && continue # no shared library: data (CA certificates)
  printf '%s\n' "${closure[@]}" | grep -qxF "$package" ||
    fail "runtime package $package holds no library pgcdc loads"
  # The -dev package: the one holding the unversioned libX.so link.
  dev_ok=0
  dev_seen=()
  for library in $libraries; do
    link=${library%%.so.*}.so
    [[ -e $link ]] || continue
    dev=$(package_of "$link")
    [[ -z $dev ]] && continue
    [[ " ${dev_seen[*]:-} " == *" $dev "* ]] || dev_seen+=("$dev")
    grep -qxF "$dev" <<<"$deps_installed" && dev_ok=1
  done
  ((dev_ok)) || fail "runtime package $package: its -dev package (${dev_seen[*]:-none found}) is not installed by scripts/install-deps.sh"
done

# --- User, port, health check, configuration path ------------------------------
user=$(sed -n 's/^USER //p' <<<"$runtime" | tail -n 1)
uid=${user%%:*}
[[ $uid =~ ^[0-9]+$ && $uid != 0 ]] || fail "the runtime runs as \"$user\", not a numeric non-root uid"
grep -qE "useradd .*--uid $uid " <<<"$runtime" ||
  fail "the runtime stage does not create the user $uid"
port=$(sed -n 's/^EXPOSE \([0-9]*\).*/\1/p' <<<"$runtime")
[[ -n $port ]] || fail "the runtime exposes no port"
healthcheck=$(grep '^HEALTHCHECK ' <<<"$runtime" || true)
grep -qF "/dev/tcp/127.0.0.1/$port" <<<"$healthcheck" ||
  fail "the HEALTHCHECK does not probe port $port"
grep -qF 'GET /healthz ' <<<"$healthcheck" ||
  fail "the HEALTHCHECK does not ask for /healthz"
grep -qE '^CMD \["run", "--config", "/etc/pgcdc/pgcdc.yaml"\]' <<<"$runtime" ||
  fail "the runtime does not read /etc/pgcdc/pgcdc.yaml"

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "Dockerfile agrees with scripts/install-deps.sh: runtime packages" \
  $runtime_packages
