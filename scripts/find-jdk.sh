# Sourced by ./mvnw and ./sbora: sets SBORA_JDK to a JDK >= 25, or stops with a clear message.
# Order: JAVA_HOME if it is one, else the newest under /usr/lib/jvm (and /opt/java, ~/.sdkman, ~/.jdks).

sbora_jdk_major() { # prints the feature version of the JDK at $1, or nothing
  local rel="$1/release"
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$rel" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel"
  else
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
  fi
}

sbora_find_jdk() {
  local want=25 best="" best_v=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(sbora_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$want" ]; then SBORA_JDK="$JAVA_HOME"; return 0; fi
  fi
  for d in /usr/lib/jvm/* /opt/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$d" ] || continue
    v=$(sbora_jdk_major "$d")
    if [ -n "$v" ] && [ "$v" -ge "$want" ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  if [ -z "$best" ]; then
    echo "sbora4j needs a JDK >= $want: JAVA_HOME${JAVA_HOME:+ ($JAVA_HOME)} is not one and none was found under /usr/lib/jvm." >&2
    echo "Install one (e.g. Temurin 25) or point JAVA_HOME at it." >&2
    return 1
  fi
  SBORA_JDK="$best"
}
