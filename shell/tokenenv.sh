# tokenenv shell integration, for bash (>= 4) and zsh:
#
#   source "$(tokenenv shell-path)"        or        eval "$(tokenenv init bash)"
#
# Wraps the HTCondor, ARC and FTS clients so that each call runs with a valid token of the
# right audience. When the token is fresh the wrapper starts no process besides the client
# (shell builtins only, reading a freshness stamp that tokenenv writes); otherwise it calls
# `tokenenv shell-token` once and, if that fails, reports why without running the client.
#
# Names it defines: the wrapper functions, tokenenv_status, tokenenv_doctor, tokenenv_prompt, tokenenv_unwrap,
# and helpers and variables prefixed __tokenenv_. It reads TOKENENV_WRAP (0: wrappers off) and
# TOKENENV_BIN (the tokenenv command). Sourcing it twice is harmless; it works under set -euo
# pipefail. In other shells, sourcing it does nothing.

if [ -n "${ZSH_VERSION:-}" ]; then
  :
elif [ -n "${BASH_VERSION:-}" ] && [ "${BASH_VERSION%%.*}" -ge 4 ] 2>/dev/null; then
  :
else
  # shellcheck disable=SC2317 # reached when sourced by a shell other than bash >= 4 or zsh
  return 0 2>/dev/null || true
fi

if [ -n "${ZSH_VERSION:-}" ]; then
  zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || true
  typeset -gA __tokenenv_files
else
  declare -gA __tokenenv_files 2>/dev/null || declare -A __tokenenv_files
fi

__tokenenv_condor_clients='condor_submit condor_q condor_rm condor_ping condor_status condor_history'
__tokenenv_arc_clients='arcsub arcstat arckill arcget arcclean arcinfo arcsync arcrenew arcresume'
__tokenenv_arcdata_clients='arcls arccp'
__tokenenv_fts_clients='fts-rest-transfer-submit fts-rest-transfer-status fts-rest-transfer-cancel fts-rest-whoami fts-rest-delegate'

# Seconds since the epoch into __tokenenv_t, without a process.
__tokenenv_now() {
  if [ -n "${EPOCHSECONDS:-}" ]; then
    __tokenenv_t=$EPOCHSECONDS
  else
    printf -v __tokenenv_t '%(%s)T' -1
  fi
}

# tokenenv's private directory (lib/paths.ts: stateDirectory) into __tokenenv_d.
__tokenenv_state_dir() {
  case "${XDG_RUNTIME_DIR:-}" in
    /*) __tokenenv_d="$XDG_RUNTIME_DIR/tokenenv" ;;
    *) __tokenenv_d="${XDG_CACHE_HOME:-${HOME:-}/.cache}/tokenenv/run" ;;
  esac
}

# The conventional token file for endpoint $1 ('' for the default token) into __tokenenv_f
# (lib/discovery.ts: tokenLocation; lib/cli/shell.ts: endpointPurpose).
__tokenenv_conventional_file() {
  local dir
  case "${XDG_RUNTIME_DIR:-}" in
    /*) dir=$XDG_RUNTIME_DIR ;;
    *) dir=/tmp ;;
  esac
  if [ -z "$1" ]; then
    if [ -n "${BEARER_TOKEN_FILE:-}" ]; then __tokenenv_f=$BEARER_TOKEN_FILE; else __tokenenv_f="$dir/bt_u$EUID"; fi
  else
    __tokenenv_f="$dir/bt_u$EUID-tokenenv-ep-${1//[^A-Za-z0-9._-]/_}"
  fi
}

# Succeeds when the stamp says token file $1 is fresh (and the file is not newer than it).
__tokenenv_fresh() {
  local stamp until rest
  __tokenenv_state_dir
  stamp="$__tokenenv_d/fresh/${1//\//%}"
  [[ -s $1 && -f $stamp && ! $1 -nt $stamp ]] || return 1
  # IFS set here: the user's IFS (say ":") must not change how the stamp is split.
  { IFS=' ' read -r until rest < "$stamp"; } 2>/dev/null || return 1
  case $until in ''|*[!0-9]*) return 1 ;; esac   # digits only, before it meets arithmetic
  __tokenenv_now
  (( until > __tokenenv_t ))
}

# The endpoint a call addresses, into __tokenenv_ep ('' when none): HTCondor -pool/-name
# (host:port, port 9619 by default; -pool, the CE's collector, wins over -name, a schedd),
# ARC -C/--computing-element, the URL of arcls/arccp, FTS -s.
__tokenenv_endpoint() {
  local kind=$1 value='' pool='' arg
  shift
  __tokenenv_ep=''
  while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$kind:$arg" in
      condor:-pool) pool=${1:-}; [ $# -gt 0 ] && shift ;;
      condor:-name) value=${1:-}; [ $# -gt 0 ] && shift ;;
      arc:-C|arc:--computing-element) value=${1:-}; [ $# -gt 0 ] && shift ;;
      arc:--computing-element=*) value=${arg#*=} ;;
      arc:-C?*) value=${arg#-C} ;;
      arcdata:*://*) [ -z "$value" ] && value=$arg ;;
      fts:-s|fts:--endpoint) value=${1:-}; [ $# -gt 0 ] && shift ;;
      fts:--endpoint=*) value=${arg#*=} ;;
      *:--) [ "$kind" = arcdata ] || break ;;
    esac
  done
  if [ -n "$pool" ]; then value=$pool; fi
  [ -n "$value" ] || return 0
  if [ "$kind" = condor ]; then
    value=${value#*://}
    value=${value%%/*}
    case "$value" in
      *:*) __tokenenv_ep=$value ;;
      *) __tokenenv_ep="$value:9619" ;;
    esac
  else
    case "$value" in
      *://*) __tokenenv_ep="${value%%://*}://" value=${value#*://} ;;
      *) __tokenenv_ep='https://' ;;
    esac
    __tokenenv_ep="$__tokenenv_ep${value%%/*}"
  fi
}

# The token file for this call into __tokenenv_f: fast path by stamp, else one tokenenv call.
__tokenenv_token_file() {
  local kind=$1 key out rc   # not "status": read-only in zsh
  key=${__tokenenv_ep:-default}
  __tokenenv_f=${__tokenenv_files[$key]:-}
  if [ -z "$__tokenenv_f" ]; then __tokenenv_conventional_file "$__tokenenv_ep"; fi
  if __tokenenv_fresh "$__tokenenv_f"; then return 0; fi
  if [ -n "$__tokenenv_ep" ]; then
    out=$(command "${TOKENENV_BIN:-tokenenv}" shell-token --kind "$kind" --endpoint "$__tokenenv_ep") && rc=0 || rc=$?
  else
    out=$(command "${TOKENENV_BIN:-tokenenv}" shell-token --kind "$kind") && rc=0 || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    printf 'tokenenv: no valid token for %s; not running it (exit %s)\n' "${__tokenenv_ep:-this call}" "$rc" >&2
    return "$rc"
  fi
  __tokenenv_f=$out
  __tokenenv_files[$key]=$out
}

# Runs client $2 (of kind $1) with its arguments and the token for this call.
__tokenenv_run() {
  local kind=$1 client=$2 token='' arg
  shift 2
  if [ "${TOKENENV_WRAP:-1}" = 0 ]; then
    command "$client" "$@"
    return
  fi
  if [ "$kind" = fts ]; then
    # An FTS call that names its own token needs nothing from tokenenv: run it as it is, even
    # when no token could be had.
    for arg in "$@"; do
      case "$arg" in --access-token|--access-token=*) command "$client" "$@"; return ;; esac
    done
  fi
  __tokenenv_endpoint "$kind" "$@"
  __tokenenv_token_file "$kind" || return
  if [ "$kind" = fts ]; then
    # FTS clients do no discovery: the token goes in argv (visible in ps; see the README).
    if [ "$__tokenenv_f" = - ]; then
      token=${BEARER_TOKEN:-}   # no config, and the discovered token is the user's BEARER_TOKEN
    else
      { IFS=$' \t' read -r token < "$__tokenenv_f"; } 2>/dev/null || token=''
      token=${token%$'\r'}
    fi
    if [ -z "$token" ]; then
      printf 'tokenenv: cannot read %s\n' "$__tokenenv_f" >&2
      return 4
    fi
    ( unset BEARER_TOKEN; __tokenenv_exec "$client" --access-token "$token" "$@" )
    return
  fi
  if [ "$__tokenenv_f" = - ]; then
    command "$client" "$@"   # the token is in BEARER_TOKEN, as the user set it
    return
  fi
  # A subshell that execs the client: the one process is the client itself. BEARER_TOKEN would
  # take precedence over the file in discovery, so it is not passed on.
  ( unset BEARER_TOKEN
    export BEARER_TOKEN_FILE="$__tokenenv_f"
    if [ "$kind" = condor ]; then export _condor_SCITOKENS_FILE="$__tokenenv_f"; fi
    __tokenenv_exec "$client" "$@" )
}

# Replaces the (sub)shell with the real client, never with its wrapper function: bash's exec
# ignores functions; zsh's needs `command` to.
if [ -n "${ZSH_VERSION:-}" ]; then
  __tokenenv_exec() { exec command "$@"; }
else
  __tokenenv_exec() { exec "$@"; }
fi

__tokenenv_define() {
  local kind=$1 client
  for client in $2; do
    # Hyphenated names only where the shell accepts them: not in bash's POSIX mode (bash as sh,
    # set -o posix), where the mere attempt is a fatal error of the special builtin eval.
    case "$client" in *-*) [[ -o posix ]] && continue ;; esac
    eval "function $client { __tokenenv_run $kind $client \"\$@\"; }" 2>/dev/null || true
  done
}

if [ -n "${ZSH_VERSION:-}" ]; then
  # zsh does not split unquoted parameters: split the client lists explicitly.
  __tokenenv_define() {
    local kind=$1 client
    for client in ${=2}; do
      eval "function $client { __tokenenv_run $kind $client \"\$@\"; }" 2>/dev/null || true
    done
  }
fi

__tokenenv_define condor "$__tokenenv_condor_clients"
__tokenenv_define arc "$__tokenenv_arc_clients"
__tokenenv_define arcdata "$__tokenenv_arcdata_clients"
__tokenenv_define fts "$__tokenenv_fts_clients"

# The status table of every configured token.
tokenenv_status() {
  command "${TOKENENV_BIN:-tokenenv}" status "$@"
}

# tokenenv doctor, told that the wrappers are loaded in this shell.
tokenenv_doctor() {
  TOKENENV_SHELL="${ZSH_VERSION:+zsh $ZSH_VERSION}${BASH_VERSION:+bash $BASH_VERSION}" command "${TOKENENV_BIN:-tokenenv}" doctor "$@"
}

# For PS1: the default token's remaining lifetime ("tok 19m", "tok 45s", "tok expired",
# "tok ?"), from its stamp, with builtins only.
tokenenv_prompt() {
  local stamp until exp left
  # The default token's file as this shell last learned it (a custom token_path), else the
  # discovery location.
  __tokenenv_f=${__tokenenv_files[default]:-}
  if [ -z "$__tokenenv_f" ]; then __tokenenv_conventional_file ''; fi
  __tokenenv_state_dir
  stamp="$__tokenenv_d/fresh/${__tokenenv_f//\//%}"
  { IFS=' ' read -r until exp < "$stamp"; } 2>/dev/null || exp=''
  case $exp in
    ''|*[!0-9]*) printf 'tok ?'; return 0 ;;
  esac
  __tokenenv_now
  left=$(( exp - __tokenenv_t ))
  if (( left <= 0 )); then printf 'tok expired'
  elif (( left < 120 )); then printf 'tok %ss' "$left"
  elif (( left < 7200 )); then printf 'tok %sm' "$(( left / 60 ))"
  else printf 'tok %sh' "$(( left / 3600 ))"
  fi
}

# Removes the wrappers (TOKENENV_WRAP=0 turns them off without removing them).
tokenenv_unwrap() {
  local client
  if [ -n "${ZSH_VERSION:-}" ]; then
    for client in ${=__tokenenv_condor_clients} ${=__tokenenv_arc_clients} ${=__tokenenv_arcdata_clients} ${=__tokenenv_fts_clients}; do
      unfunction "$client" 2>/dev/null || true
    done
  else
    for client in $__tokenenv_condor_clients $__tokenenv_arc_clients $__tokenenv_arcdata_clients $__tokenenv_fts_clients; do
      unset -f "$client" 2>/dev/null || true
    done
  fi
}

# Completion for the tokenenv command itself.
__tokenenv_commands='discover inspect refresh config watch status exec systemd demo doctor setup shell-token shell-path init help'
if [ -n "${ZSH_VERSION:-}" ]; then
  __tokenenv_zsh_complete() {
    if (( CURRENT == 2 )); then
      # shellcheck disable=SC2086 # zsh: ${=var} splits on purpose
      compadd -- ${=__tokenenv_commands}
    else
      _files
    fi
  }
  if (( ${+functions[compdef]} )); then compdef __tokenenv_zsh_complete tokenenv; fi
else
  __tokenenv_bash_complete() {
    local word=${COMP_WORDS[COMP_CWORD]}
    if [ "$COMP_CWORD" -eq 1 ]; then
      mapfile -t COMPREPLY < <(compgen -W "$__tokenenv_commands" -- "$word")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$word")
    fi
  }
  complete -F __tokenenv_bash_complete tokenenv 2>/dev/null || true
fi
