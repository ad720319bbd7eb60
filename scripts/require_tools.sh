#!/usr/bin/env bash
# The external commands the project's scripts rely on, and the Debian package of each.
# Source this file and call `require_tools CMD...`: every missing command is installed with
# apt-get (one `apt-get update` first when a package cannot be found), so a fresh Debian 12
# machine runs `make test` with nothing installed by hand. Run directly, it checks the whole
# list (`bash scripts/require_tools.sh`, or `--list` to print it).
#
# Add a command here before a script uses it: tests/scripts/test_tools.py fails when
# a script calls a command that is neither a shell builtin nor listed below.

# command -> Debian package (commands of the same package share it), or @FOLDER for a tool
# that is preinstalled in FOLDER (added to PATH when the command is not on it)
declare -gA EAS_TOOL_PACKAGE=(
    [bash]=bash [make]=make [git]=git [python3]=python3 [gzip]=gzip
    [sha256sum]=coreutils [cut]=coreutils [mktemp]=coreutils [cat]=coreutils
    [mkdir]=coreutils [rm]=coreutils [ln]=coreutils [tail]=coreutils [head]=coreutils
    [sort]=coreutils [touch]=coreutils [date]=coreutils [dirname]=coreutils [tr]=coreutils
    [sleep]=coreutils [env]=coreutils [id]=coreutils [basename]=coreutils [wc]=coreutils
    [grep]=grep [sed]=sed [sudo]=sudo [apt-get]=apt
    # not a Debian package (Debian's Go is too old): preinstalled in this folder
    [go]=@/usr/local/go/bin
    [chromium]=chromium  # tests/web drive it with Playwright (no browser download)
)

_eas_apt_install() {
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
        "${sudo[@]}" apt-get update >/dev/null
        "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >/dev/null
    fi
}

require_tools() {
    local missing=() packages=() cmd package
    for cmd in "$@"; do
        package=${EAS_TOOL_PACKAGE[$cmd]:-}
        if [ -z "$package" ]; then
            echo "require_tools: '$cmd' is not in scripts/require_tools.sh; add it with its Debian package" >&2
            return 2
        fi
        command -v "$cmd" >/dev/null 2>&1 && continue
        if [[ $package == @* ]]; then
            # a tool that has no Debian package: found in its folder, or one clear error
            if [ -x "${package#@}/$cmd" ]; then
                export PATH="${package#@}:$PATH"
                continue
            fi
            echo "require_tools: $cmd is neither on PATH nor in ${package#@}; install it there" >&2
            return 1
        fi
        missing+=("$cmd")
        [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing missing tools: ${missing[*]} (Debian: ${packages[*]})" >&2
    _eas_apt_install "${packages[@]}"
    for cmd in "${missing[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || { echo "require_tools: $cmd still missing" >&2; return 1; }
    done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    if [ "${1:-}" = "--list" ]; then
        for cmd in "${!EAS_TOOL_PACKAGE[@]}"; do printf '%s %s\n' "$cmd" "${EAS_TOOL_PACKAGE[$cmd]}"; done | sort
        exit 0
    fi
    require_tools "${!EAS_TOOL_PACKAGE[@]}"
fi
