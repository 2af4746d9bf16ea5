# tokenenv shell integration, for bash (>= 4) and zsh:
#
#   source "$(tokenenv shell-path)"        or        eval "$(tokenenv init bash)"
#
# Wraps the HTCondor, ARC, FTS, gfal2 and XRootD clients so that each call runs with a valid
# token of the right audience and scope (lib/token/operations.ts: one table for both). When the token is fresh the wrapper starts no process besides the client
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
  typeset -gA __tokenenv_files __tokenenv_scopes __tokenenv_ops
  # This script's directory, for shell/fts-inprocess.py beside it.
  # shellcheck disable=SC2296,SC2298 # zsh: the file being sourced
  __tokenenv_dir=${${(%):-%x}%/*}
else
  declare -gA __tokenenv_files __tokenenv_scopes __tokenenv_ops 2>/dev/null || declare -A __tokenenv_files __tokenenv_scopes __tokenenv_ops
  __tokenenv_dir=${BASH_SOURCE[0]%/*}
fi
case $__tokenenv_dir in /*) ;; *) __tokenenv_dir="$PWD/$__tokenenv_dir" ;; esac

# BEGIN operations table: generated from lib/token/operations.ts (node scripts/shell-table.mjs); do not edit
__tokenenv_condor_clients='condor_q condor_status condor_history condor_ping condor_ce_q condor_ce_status condor_ce_ping condor_ce_history condor_submit condor_ce_submit condor_ce_trace condor_rm condor_ce_rm condor_hold condor_release condor_ce_hold condor_ce_release'
__tokenenv_arc_clients='arcsub arcstat arcinfo arcget arcsync arckill arcclean arcrenew arcresume'
__tokenenv_arcdata_clients='arcls arccp arcrm arcmkdir arcrename'
__tokenenv_fts_clients='fts-rest-whoami fts-rest-delegate fts-rest-transfer-submit fts-rest-transfer-status fts-rest-transfer-cancel fts-rest-transfer-list fts-rest-delete-submit fts-rest-server-status fts-rest-ban'
__tokenenv_gfal_clients='gfal-ls gfal-cat gfal-stat gfal-sum gfal-xattr gfal-copy gfal-save gfal-rm gfal-mkdir gfal-rename gfal-chmod'
__tokenenv_xrd_clients='xrdcp xrdfs'
# operation -> the scope a wrapper asks for; client -> its operation (copy: @DESTINATION-OPERATION)
__tokenenv_scopes=()
__tokenenv_ops=()
__tokenenv_scopes[read]='storage.read:/'
__tokenenv_scopes[list]='storage.read:/'
__tokenenv_scopes[create]='storage.modify:/'
__tokenenv_scopes[write]='storage.read:/ storage.modify:/'
__tokenenv_scopes[mkdir]='storage.modify:/'
__tokenenv_scopes[rename]='storage.modify:/'
__tokenenv_scopes[delete]='storage.modify:/'
__tokenenv_scopes[modify]='storage.modify:/'
__tokenenv_scopes[session]='storage.read:/ storage.modify:/'
__tokenenv_scopes[condor_q]='compute.read'
__tokenenv_scopes[condor_status]='compute.read'
__tokenenv_scopes[condor_history]='compute.read'
__tokenenv_scopes[condor_ping]='compute.read'
__tokenenv_scopes[condor_ce_q]='compute.read'
__tokenenv_scopes[condor_ce_status]='compute.read'
__tokenenv_scopes[condor_ce_ping]='compute.read'
__tokenenv_scopes[condor_ce_history]='compute.read'
__tokenenv_scopes[condor_submit]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_ce_submit]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_ce_trace]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_rm]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_ce_rm]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_hold]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_release]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_ce_hold]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[condor_ce_release]='compute.create compute.modify compute.cancel'
__tokenenv_scopes[arcsub]='compute.create'
__tokenenv_scopes[arcstat]='compute.read'
__tokenenv_scopes[arcinfo]='compute.read'
__tokenenv_scopes[arcget]='compute.read'
__tokenenv_scopes[arcsync]='compute.read'
__tokenenv_scopes[arckill]='compute.cancel'
__tokenenv_scopes[arcclean]='compute.cancel'
__tokenenv_scopes[arcrenew]='compute.modify'
__tokenenv_scopes[arcresume]='compute.modify'
__tokenenv_scopes[fts-rest-whoami]='fts'
__tokenenv_scopes[fts-rest-delegate]='fts'
__tokenenv_scopes[fts-rest-transfer-submit]='fts'
__tokenenv_scopes[fts-rest-transfer-status]='fts'
__tokenenv_scopes[fts-rest-transfer-cancel]='fts'
__tokenenv_scopes[fts-rest-transfer-list]='fts'
__tokenenv_scopes[fts-rest-delete-submit]='fts'
__tokenenv_scopes[fts-rest-server-status]='fts'
__tokenenv_scopes[fts-rest-ban]='fts'
__tokenenv_scopes[arcls]='storage.read:/'
__tokenenv_scopes[arcrm]='storage.modify:/'
__tokenenv_scopes[arcmkdir]='storage.modify:/'
__tokenenv_scopes[arcrename]='storage.modify:/'
__tokenenv_scopes[gfal-ls]='storage.read:/'
__tokenenv_scopes[gfal-cat]='storage.read:/'
__tokenenv_scopes[gfal-stat]='storage.read:/'
__tokenenv_scopes[gfal-sum]='storage.read:/'
__tokenenv_scopes[gfal-xattr]='storage.read:/'
__tokenenv_scopes[gfal-save]='storage.modify:/'
__tokenenv_scopes[gfal-rm]='storage.modify:/'
__tokenenv_scopes[gfal-mkdir]='storage.modify:/'
__tokenenv_scopes[gfal-rename]='storage.modify:/'
__tokenenv_scopes[gfal-chmod]='storage.modify:/'
__tokenenv_ops[condor_q]='condor_q'
__tokenenv_ops[condor_status]='condor_status'
__tokenenv_ops[condor_history]='condor_history'
__tokenenv_ops[condor_ping]='condor_ping'
__tokenenv_ops[condor_ce_q]='condor_ce_q'
__tokenenv_ops[condor_ce_status]='condor_ce_status'
__tokenenv_ops[condor_ce_ping]='condor_ce_ping'
__tokenenv_ops[condor_ce_history]='condor_ce_history'
__tokenenv_ops[condor_submit]='condor_submit'
__tokenenv_ops[condor_ce_submit]='condor_ce_submit'
__tokenenv_ops[condor_ce_trace]='condor_ce_trace'
__tokenenv_ops[condor_rm]='condor_rm'
__tokenenv_ops[condor_ce_rm]='condor_ce_rm'
__tokenenv_ops[condor_hold]='condor_hold'
__tokenenv_ops[condor_release]='condor_release'
__tokenenv_ops[condor_ce_hold]='condor_ce_hold'
__tokenenv_ops[condor_ce_release]='condor_ce_release'
__tokenenv_ops[arcsub]='arcsub'
__tokenenv_ops[arcstat]='arcstat'
__tokenenv_ops[arcinfo]='arcinfo'
__tokenenv_ops[arcget]='arcget'
__tokenenv_ops[arcsync]='arcsync'
__tokenenv_ops[arckill]='arckill'
__tokenenv_ops[arcclean]='arcclean'
__tokenenv_ops[arcrenew]='arcrenew'
__tokenenv_ops[arcresume]='arcresume'
__tokenenv_ops[fts-rest-whoami]='fts-rest-whoami'
__tokenenv_ops[fts-rest-delegate]='fts-rest-delegate'
__tokenenv_ops[fts-rest-transfer-submit]='fts-rest-transfer-submit@create'
__tokenenv_ops[fts-rest-transfer-status]='fts-rest-transfer-status'
__tokenenv_ops[fts-rest-transfer-cancel]='fts-rest-transfer-cancel'
__tokenenv_ops[fts-rest-transfer-list]='fts-rest-transfer-list'
__tokenenv_ops[fts-rest-delete-submit]='fts-rest-delete-submit'
__tokenenv_ops[fts-rest-server-status]='fts-rest-server-status'
__tokenenv_ops[fts-rest-ban]='fts-rest-ban'
__tokenenv_ops[arcls]='read'
__tokenenv_ops[arccp]='@create'
__tokenenv_ops[arcrm]='delete'
__tokenenv_ops[arcmkdir]='mkdir'
__tokenenv_ops[arcrename]='rename'
__tokenenv_ops[gfal-ls]='read'
__tokenenv_ops[gfal-cat]='read'
__tokenenv_ops[gfal-stat]='read'
__tokenenv_ops[gfal-sum]='read'
__tokenenv_ops[gfal-xattr]='read'
__tokenenv_ops[gfal-copy]='@create'
__tokenenv_ops[gfal-save]='create'
__tokenenv_ops[gfal-rm]='delete'
__tokenenv_ops[gfal-mkdir]='mkdir'
__tokenenv_ops[gfal-rename]='rename'
__tokenenv_ops[gfal-chmod]='modify'
__tokenenv_ops[xrdcp]='@write'
__tokenenv_ops[xrdfs:ls]='list'
__tokenenv_ops[xrdfs:stat]='read'
__tokenenv_ops[xrdfs:statvfs]='read'
__tokenenv_ops[xrdfs:cat]='read'
__tokenenv_ops[xrdfs:tail]='read'
__tokenenv_ops[xrdfs:locate]='read'
__tokenenv_ops[xrdfs:deeplocate]='read'
__tokenenv_ops[xrdfs:query]='read'
__tokenenv_ops[xrdfs:spaceinfo]='read'
__tokenenv_ops[xrdfs:xattr]='read'
__tokenenv_ops[xrdfs:cache]='read'
__tokenenv_ops[xrdfs:prepare]='read'
__tokenenv_ops[xrdfs:mkdir]='mkdir'
__tokenenv_ops[xrdfs:mv]='rename'
__tokenenv_ops[xrdfs:rm]='delete'
__tokenenv_ops[xrdfs:rmdir]='delete'
__tokenenv_ops[xrdfs:chmod]='modify'
__tokenenv_ops[xrdfs:truncate]='modify'
# END operations table

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

# The conventional token file for endpoints $1 and scope $2 ('' for the default token) into
# __tokenenv_f (lib/discovery/discovery.ts: tokenLocation; lib/refresh/targets.ts: endpointPurpose).
__tokenenv_conventional_file() {
  local dir ep scope
  case "${XDG_RUNTIME_DIR:-}" in
    /*) dir=$XDG_RUNTIME_DIR ;;
    *) dir=/tmp ;;
  esac
  if [ -z "$1" ]; then
    if [ -n "${BEARER_TOKEN_FILE:-}" ]; then __tokenenv_f=$BEARER_TOKEN_FILE; else __tokenenv_f="$dir/bt_u$EUID"; fi
  else
    ep=${1//[^A-Za-z0-9._-]/_} scope=${2:-}
    scope=${scope//[^A-Za-z0-9._-]/_}
    __tokenenv_f="$dir/bt_u$EUID-tokenenv-ep-${ep:0:180}${scope:+--${scope:0:60}}"
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

# The endpoint that $2 names, into __tokenenv_ep ('' when none), as lib/token/endpoint.ts
# parses it for kind $1: condor (host[:port], port 9619 by default), service (a URL, https when
# the scheme is left out), storage (a URL; a local path or file:// names none).
__tokenenv_norm() {
  local kind=$1 value=$2 scheme='' authority
  __tokenenv_ep=''
  case $value in
    *://*) scheme=${value%%://*} value=${value#*://} ;;
  esac
  if [ "$kind" = storage ]; then
    case $scheme in ''|[Ff][Ii][Ll][Ee]) return 0 ;; esac
  fi
  authority=${value%%/*}
  authority=${authority##*@}   # user@host, schedd@host
  [ -n "$authority" ] || return 0
  if [ "$kind" = condor ]; then
    case $authority in
      *:) __tokenenv_ep="${authority}9619" ;;
      *\]) __tokenenv_ep="$authority:9619" ;;
      *:*) __tokenenv_ep=$authority ;;
      *) __tokenenv_ep="$authority:9619" ;;
    esac
  else
    __tokenenv_ep="${scheme:-https}://$authority"
  fi
}

# Adds "endpoint $1 (kind $2), operation $3" to the token request being built: its endpoints
# (__tokenenv_req_eps) and scopes (__tokenenv_req_scope) each once, in order, and its arguments
# for tokenenv shell-token. The scope of an operation comes from the table above.
__tokenenv_use() {
  local rest scope
  __tokenenv_norm "$2" "$1"
  [ -n "$__tokenenv_ep" ] || return 0
  case " $__tokenenv_req_eps " in
    *" $__tokenenv_ep "*) ;;
    *) __tokenenv_req_eps="${__tokenenv_req_eps:+$__tokenenv_req_eps }$__tokenenv_ep" ;;
  esac
  rest=${__tokenenv_scopes[$3]:-}
  while [ -n "$rest" ]; do
    scope=${rest%% *}
    rest=${rest#"$scope"}
    rest=${rest# }
    case " $__tokenenv_req_scope " in
      *" $scope "*) ;;
      *) __tokenenv_req_scope="${__tokenenv_req_scope:+$__tokenenv_req_scope }$scope" ;;
    esac
  done
  __tokenenv_req_args+=(--endpoint "$__tokenenv_ep" --op "$3")
}

# Ends token request number $1: its file into __tokenenv_rf[$1] when fresh (fast path, builtins
# only), else queued for the one tokenenv call of __tokenenv_fetch.
__tokenenv_end() {
  local key='default'
  if [ -n "$__tokenenv_req_eps" ]; then key="$__tokenenv_req_eps|$__tokenenv_req_scope"; fi
  __tokenenv_f=${__tokenenv_files[$key]:-}
  if [ -z "$__tokenenv_f" ]; then __tokenenv_conventional_file "$__tokenenv_req_eps" "$__tokenenv_req_scope"; fi
  if __tokenenv_fresh "$__tokenenv_f"; then
    __tokenenv_rf[$1]=$__tokenenv_f
  else
    if [ -n "$__tokenenv_pn" ]; then __tokenenv_pending+=(--next); fi
    __tokenenv_pending+=("${__tokenenv_req_args[@]}")
    __tokenenv_pn="${__tokenenv_pn:+$__tokenenv_pn }$1"
    __tokenenv_rk[$1]=$key
    __tokenenv_what="${__tokenenv_what:+$__tokenenv_what, }${__tokenenv_req_eps:-this call}"
  fi
  __tokenenv_req_eps='' __tokenenv_req_scope=''
  __tokenenv_req_args=()
}

# The token requests of a call (kind $1, client $2, its arguments): each one's uses, then
# __tokenenv_end with its number. Request 1 is the client's own token; FTS transfers add the
# source's (2) and the destination's (3).
__tokenenv_plan() {
  local kind=$1 client=$2 arg value='' pool='' op dest='' n i=0 sub='' src='' dst='' own=' '
  shift 2
  op=${__tokenenv_ops[$client]:-}
  case $op in *@*) dest=${op#*@} op=${op%@*} ;; esac
  case $kind in
    condor)
      # -pool (the CE's collector) wins over -name/-remote (a schedd); condor_ce_trace names the
      # CE by its last argument.
      while [ $# -gt 0 ]; do
        arg=$1
        shift
        case $arg in
          -pool|--pool) pool=${1:-}; [ $# -gt 0 ] && shift ;;
          -name|-remote|--schedd-name) value=${1:-}; [ $# -gt 0 ] && shift ;;
          --) break ;;
          -*) ;;
          *) if [ "$client" = condor_ce_trace ] && [ $# -eq 0 ]; then value=$arg; fi ;;
        esac
      done
      if [ -n "$pool" ]; then value=$pool; fi
      if [ -n "$value" ]; then __tokenenv_use "$value" condor "$op"; fi ;;
    arc)
      while [ $# -gt 0 ]; do
        arg=$1
        shift
        case $arg in
          -C|--computing-element) value=${1:-}; [ $# -gt 0 ] && shift ;;
          --computing-element=*) value=${arg#*=} ;;
          -C?*) value=${arg#-C} ;;
          --) break ;;
        esac
      done
      if [ -n "$value" ]; then __tokenenv_use "$value" service "$op"; fi ;;
    arcdata|gfal|xrd)
      if [ "$client" = xrdfs ]; then
        # xrdfs [--no-cwd] HOST[:PORT] [SUBCOMMAND ...]; no subcommand: an interactive session.
        for arg in "$@"; do
          case $arg in -*) continue ;; esac
          if [ -z "$value" ]; then value=$arg; else sub=$arg; break; fi
        done
        case $value in ''|*://*) ;; *) value="root://$value" ;; esac
        if [ -n "$sub" ]; then op=${__tokenenv_ops[xrdfs:$sub]:-session}; else op=session; fi
        __tokenenv_use "$value" storage "$op"
      else
        # Every URL of the call; in a copy, the last argument is the destination.
        n=$#
        for arg in "$@"; do
          i=$((i + 1))
          case $arg in *://*) ;; *) continue ;; esac
          if [ -z "$dest" ]; then __tokenenv_use "$arg" storage "$op"
          elif [ "$i" -eq "$n" ]; then __tokenenv_use "$arg" storage "$dest"
          else __tokenenv_use "$arg" storage read
          fi
        done
      fi ;;
    fts)
      # Which tokens the user gave (they are kept); -s the FTS server; a transfer's source and
      # destination URLs (not with a bulk file -f, whose entries carry their own tokens).
      while [ $# -gt 0 ]; do
        arg=$1
        shift
        case $arg in
          -s|--endpoint) value=${1:-}; [ $# -gt 0 ] && shift ;;
          --endpoint=*) value=${arg#*=} ;;
          -f|--file) dest=''; [ $# -gt 0 ] && shift ;;
          -f?*|--file=*) dest='' ;;
          --fts-access-token|--src-access-token|--dst-access-token) own="$own${arg%%-access-token} "; [ $# -gt 0 ] && shift ;;
          --fts-access-token=*|--src-access-token=*|--dst-access-token=*) arg=${arg%%=*}; own="$own${arg%%-access-token} " ;;
          *://*) if [ -z "$src" ]; then src=$arg; elif [ -z "$dst" ]; then dst=$arg; fi ;;
        esac
      done
      case $own in *' --fts '*) ;; *)
        if [ -n "$value" ]; then __tokenenv_use "$value" service "$op"; fi
        __tokenenv_end 1 ;;
      esac
      if [ -n "$dest" ] && [ -n "$src" ] && [ -n "$dst" ]; then
        case $own in *' --src '*) ;; *) __tokenenv_use "$src" storage read; __tokenenv_end 2 ;; esac
        case $own in *' --dst '*) ;; *) __tokenenv_use "$dst" storage "$dest"; __tokenenv_end 3 ;; esac
      fi
      return 0 ;;
  esac
  __tokenenv_end 1
}

# One tokenenv call for every request __tokenenv_end queued; their files into __tokenenv_rf.
__tokenenv_fetch() {
  local kind=$1 out rc n rest line   # not "status": read-only in zsh
  [ -n "$__tokenenv_pn" ] || return 0
  out=$(command "${TOKENENV_BIN:-tokenenv}" shell-token --kind "$kind" "${__tokenenv_pending[@]}") && rc=0 || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf 'tokenenv: no valid token for %s; not running it (exit %s)\n' "$__tokenenv_what" "$rc" >&2
    return "$rc"
  fi
  rest=$__tokenenv_pn
  while [ -n "$rest" ]; do
    n=${rest%% *}
    rest=${rest#"$n"}
    rest=${rest# }
    line=${out%%$'\n'*}
    case $out in *$'\n'*) out=${out#*$'\n'} ;; *) out='' ;; esac
    __tokenenv_rf[$n]=$line
    __tokenenv_files[${__tokenenv_rk[$n]}]=$line
  done
}

# The token in file $1 ("-": the user's BEARER_TOKEN), trimmed, into __tokenenv_v; fails when
# there is none (a client must never get an empty token).
__tokenenv_value() {
  if [ "$1" = - ]; then
    __tokenenv_v=${BEARER_TOKEN:-}
  else
    { IFS= read -r -d '' __tokenenv_v < "$1"; } 2>/dev/null || true
  fi
  __tokenenv_v=${__tokenenv_v#"${__tokenenv_v%%[![:space:]]*}"}
  __tokenenv_v=${__tokenenv_v%"${__tokenenv_v##*[![:space:]]}"}
  if [ -z "$__tokenenv_v" ]; then
    printf 'tokenenv: no token in %s\n' "$1" >&2
    return 4
  fi
}

# The full path of command $1 on PATH into __tokenenv_w, with builtins (a wrapper function of the
# same name hides it from `command -v`).
__tokenenv_which() {
  local dir rest=${PATH:-}
  __tokenenv_w=''
  while :; do
    dir=${rest%%:*}
    if [ -f "${dir:-.}/$1" ] && [ -x "${dir:-.}/$1" ]; then __tokenenv_w="${dir:-.}/$1"; return 0; fi
    case $rest in *:*) rest=${rest#*:} ;; *) return 1 ;; esac
  done
}

# Runs FTS client $1 with the tokens in __tokenenv_rf (1: the FTS server's, 2: the source's,
# 3: the destination's). The client is a Python script: shell/fts-inprocess.py runs it in-process
# under the interpreter of its #! line and hands it the tokens through files, so that no token is
# in any argv or environment. Any other client (a site's wrapper script) gets the token options
# in its argv, where `ps` shows them.
__tokenenv_fts() {
  local client=$1 line python='' n file fd=3
  local -a options
  shift
  if ! __tokenenv_which "$client"; then command "$client" "$@"; return; fi
  { IFS= read -r line < "$__tokenenv_w"; } 2>/dev/null || line=''
  case $line in
    '#!'*/env\ *python*) python=${line##* } ;;
    '#!'/*python*) line=${line#??}; python=${line%% *} ;;
  esac
  if [ -z "$python" ]; then
    options=()
    for n in 1 2 3; do
      file=${__tokenenv_rf[$n]:-}
      [ -n "$file" ] || continue
      __tokenenv_value "$file" || return
      case $n in
        1) if [ -n "${__tokenenv_rf[2]:-}${__tokenenv_rf[3]:-}" ]; then options+=(--fts-access-token "$__tokenenv_v"); else options+=(--access-token "$__tokenenv_v"); fi ;;
        2) options+=(--src-access-token "$__tokenenv_v") ;;
        3) options+=(--dst-access-token "$__tokenenv_v") ;;
      esac
    done
    ( unset BEARER_TOKEN; __tokenenv_exec "$client" "${options[@]}" "$@" )
    return
  fi
  ( for n in 1 2 3; do
      file=${__tokenenv_rf[$n]:-}
      [ -n "$file" ] || continue
      if [ "$file" = - ]; then
        # No config: the user's BEARER_TOKEN, through a pipe rather than a file.
        __tokenenv_value - || exit 4
        eval "exec $fd< <(printf '%s\n' \"\$__tokenenv_v\")"
        file=/dev/fd/$fd fd=$((fd + 1))
      fi
      case $n in
        1) export TOKENENV_FTS_ACCESS_TOKEN_FILE="$file" ;;
        2) export TOKENENV_SRC_ACCESS_TOKEN_FILE="$file" ;;
        3) export TOKENENV_DST_ACCESS_TOKEN_FILE="$file" ;;
      esac
    done
    unset BEARER_TOKEN
    __tokenenv_exec "$python" "$__tokenenv_dir/fts-inprocess.py" "$__tokenenv_w" "$@" )
}

# Runs client $2 (of kind $1) with its arguments and the tokens for this call.
__tokenenv_run() {
  local kind=$1 client=$2 arg __tokenenv_req_eps='' __tokenenv_req_scope='' __tokenenv_pn='' __tokenenv_what=''
  local -a __tokenenv_req_args __tokenenv_pending
  local -A __tokenenv_rf __tokenenv_rk
  shift 2
  if [ "${TOKENENV_WRAP:-1}" = 0 ]; then
    command "$client" "$@"
    return
  fi
  if [ "$kind" = fts ]; then
    # One token for everything, named by the user: nothing to add; run it as it is, even when
    # no token could be had.
    for arg in "$@"; do
      case "$arg" in --access-token|--access-token=*) command "$client" "$@"; return ;; esac
    done
  fi
  __tokenenv_req_args=() __tokenenv_pending=()
  __tokenenv_plan "$kind" "$client" "$@"
  __tokenenv_fetch "$kind" || return
  __tokenenv_f=${__tokenenv_rf[1]:-}
  case $kind in
    fts) __tokenenv_fts "$client" "$@"; return ;;
    gfal)
      # gfal2 reads only BEARER_TOKEN, sent as it is: trimmed here, and never empty.
      __tokenenv_value "$__tokenenv_f" || return
      ( export BEARER_TOKEN="$__tokenenv_v"; __tokenenv_exec "$client" "$@" )
      return ;;
  esac
  if [ "$__tokenenv_f" = - ]; then
    command "$client" "$@"   # the token is in BEARER_TOKEN, as the user set it
    return
  fi
  # A subshell that execs the client: the one process is the client itself. BEARER_TOKEN would
  # take precedence over the file in discovery, so it is not passed on. Token files are 0600, as
  # XRootD insists.
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
__tokenenv_define gfal "$__tokenenv_gfal_clients"
__tokenenv_define xrd "$__tokenenv_xrd_clients"

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
    for client in ${=__tokenenv_condor_clients} ${=__tokenenv_arc_clients} ${=__tokenenv_arcdata_clients} ${=__tokenenv_fts_clients} ${=__tokenenv_gfal_clients} ${=__tokenenv_xrd_clients}; do
      unfunction "$client" 2>/dev/null || true
    done
  else
    for client in $__tokenenv_condor_clients $__tokenenv_arc_clients $__tokenenv_arcdata_clients $__tokenenv_fts_clients $__tokenenv_gfal_clients $__tokenenv_xrd_clients; do
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
