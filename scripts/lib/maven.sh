# shellcheck shell=bash
# Jars from Maven Central, cached, for the scripts that run Java
# (scripts/kafka.sh, scripts/debezium.sh, bench/debezium.sh). Source it.
#
#   maven_resolve CACHE --into SUBDIR [--exclude IDS] GROUP:ARTIFACT:VERSION...
#                       [--into SUBDIR ...]...
#
# Copies each --into group's artifacts and their runtime dependencies
# (mvn dependency:copy-dependencies -DincludeScope=runtime) into
# CACHE/SUBDIR, without the artifacts whose ids are in IDS (comma-separated)
# whoever brings them, then marks CACHE complete (CACHE/.complete). A
# complete CACHE is used as it is, without Maven: tests and benches start
# offline once it is there. An incomplete one (a resolve that was
# interrupted or failed) is removed and resolved again from nothing, so that
# no half-copied jar is ever used. Returns 1, with the reason (the end of
# Maven's output) on stderr, when it cannot resolve; the caller says what it
# was resolving.

maven_resolve() {
  local cache=$1
  shift
  [[ -f $cache/.complete ]] && return 0
  if ! command -v mvn >/dev/null; then
    echo "Maven (mvn) is missing: run scripts/install-deps.sh" >&2
    return 1
  fi
  rm -rf "$cache" && mkdir -p "$cache" || return 1
  local into="" exclude="" coordinates=()
  while (($#)); do
    case $1 in
      --into | --exclude)
        if [[ $1 == --into && -n $into ]]; then
          maven_copy "$cache/$into" "$exclude" "${coordinates[@]}" || return 1
          exclude=""
          coordinates=()
        fi
        if [[ $1 == --into ]]; then into=$2; else exclude=$2; fi
        shift 2
        ;;
      *) coordinates+=("$1"); shift ;;
    esac
  done
  [[ -n $into ]] || { echo "maven_resolve: no --into" >&2; return 1; }
  maven_copy "$cache/$into" "$exclude" "${coordinates[@]}" || return 1
  touch "$cache/.complete"
}

# maven_copy DIR EXCLUDED_IDS GROUP:ARTIFACT:VERSION...: one
# copy-dependencies run, through a pom made for it in a temporary
# directory. Not for callers: maven_resolve keeps the cache's marker.
maven_copy() {
  local dir=$1 exclude=$2 work coordinate parts status=0
  shift 2
  work=$(mktemp -d) || return 1
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0">'
    echo '  <modelVersion>4.0.0</modelVersion>'
    echo '  <groupId>pgcdc</groupId><artifactId>resolve</artifactId><version>1</version>'
    echo '  <packaging>pom</packaging>'
    echo '  <dependencies>'
    for coordinate in "$@"; do
      IFS=: read -r -a parts <<<"$coordinate"
      echo "    <dependency><groupId>${parts[0]}</groupId><artifactId>${parts[1]}</artifactId><version>${parts[2]}</version></dependency>"
    done
    echo '  </dependencies>'
    echo '</project>'
  } >"$work/pom.xml"
  if ! (cd "$work" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
    ${exclude:+-DexcludeArtifactIds="$exclude"} -DoutputDirectory="$dir" \
    >"$work/mvn.log" 2>&1); then
    tail -n 30 "$work/mvn.log" >&2
    status=1
  fi
  rm -rf "$work"
  return "$status"
}
