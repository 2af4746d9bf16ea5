# tokenenv shell integration, for bash (>= 4) and zsh. In ~/.bashrc or ~/.zshrc, the lines that
# `tokenenv init bash` (or `init zsh`) prints once, at set-up time:
#
#   TOKENENV_BIN='/path/to/bin/tokenenv.cjs'     (not needed when tokenenv is on PATH)
#   source '/path/to/shell/tokenenv.sh'
#
# Neither starts a process, and sourcing reads only the first part of this file (the wrapper
# functions); the rest is read by the first wrapped call or tokenenv_prompt. So a new shell starts
# about as fast as without it. (In a script, `source "$(tokenenv shell-path)"` or
# `eval "$(tokenenv init bash)"` work too, at the cost of one tokenenv process.)
#
# Wraps the HTCondor, ARC and FTS clients so that each call runs with a valid token of the
# right audience. When the token is fresh the wrapper starts no process besides the client
# (shell builtins only, reading a freshness stamp that tokenenv writes); otherwise it calls
# `tokenenv shell-token` once and, if that fails, reports why without running the client.
#
# Names it defines: the wrapper functions, tokenenv_status, tokenenv_doctor, tokenenv_prompt,
# tokenenv_unwrap, and helpers and variables prefixed __tokenenv_. It reads TOKENENV_WRAP (0:
# wrappers off) and TOKENENV_BIN (the tokenenv command). A function or alias of yours with a
# client's name is left alone. Sourcing it twice is harmless; it works under set -euo pipefail.
# In other shells, sourcing it does nothing.
#
# What it shares with tokenenv's TypeScript (state directory, token and stamp file names, the
# stamp format) is checked against it by test/shell/contract.test.ts.

if [ -n "${ZSH_VERSION:-}" ]; then
  :
elif [ -n "${BASH_VERSION:-}" ] && [ "${BASH_VERSION%%.*}" -ge 4 ] 2>/dev/null; then
  :
else
  # shellcheck disable=SC2317 # reached when sourced by a shell other than bash >= 4 or zsh
  return 0 2>/dev/null || true
fi

if [ -n "${ZSH_VERSION:-}" ]; then
  typeset -gA __tokenenv_files __tokenenv_bodies
  typeset -ga __tokenenv_fns
else
  declare -gA __tokenenv_files __tokenenv_bodies 2>/dev/null || declare -A __tokenenv_files __tokenenv_bodies
  declare -ga __tokenenv_fns 2>/dev/null || declare -a __tokenenv_fns
fi

# The wrapped clients: "KIND:" then the clients of that kind. The kind decides how the endpoint is
# read from the arguments (__tokenenv_endpoint) and how the token is passed (__tokenenv_run).
# test/support/shell.ts reads this table.
__tokenenv_clients=(
  condor: condor_submit condor_q condor_rm condor_ping condor_status condor_history
  arc: arcsub arcstat arckill arcget arcclean arcinfo arcsync arcrenew arcresume
  arcdata: arcls arccp
  fts: fts-rest-transfer-submit fts-rest-transfer-status fts-rest-transfer-cancel fts-rest-whoami fts-rest-delegate
)

# This file, by its absolute path, for reading its second part later; '' when it was not
# sourced from a file of its own (eval "$(cat …)"): the second part is then read at once.
if [ -n "${ZSH_VERSION:-}" ]; then
  eval '__tokenenv_script=${(%):-%x}'
else
  __tokenenv_script=${BASH_SOURCE[0]:-}
fi
case $__tokenenv_script in
  /dev/fd/*|/proc/*) __tokenenv_script='' ;;
esac
case ${__tokenenv_script##*/} in
  tokenenv*) ;;
  *) __tokenenv_script='' ;;   # not this file: eval'd from another one
esac
case $__tokenenv_script in
  ''|/*) ;;
  *) __tokenenv_script=$PWD/$__tokenenv_script ;;
esac

# The bodies of the existing functions among $@, without blanks, into __tokenenv_bodies (zsh
# reads them from $functions; bash needs one subshell, taken only when such functions exist).
__tokenenv_read_bodies() {
  local name text chunk
  __tokenenv_bodies=()
  if [ -n "${ZSH_VERSION:-}" ]; then
    for name in "$@"; do
      # shellcheck disable=SC2154 # zsh's $functions
      __tokenenv_bodies[$name]=${functions[$name]//[[:space:]]/}
    done
    return
  fi
  [ $# -gt 0 ] || return 0
  text=$(for name in "$@"; do declare -f "$name"; printf '\n\037'; done)
  for name in "$@"; do
    chunk=${text%%$'\037'*}
    text=${text#*$'\037'}
    chunk=${chunk//[[:space:]]/}
    chunk=${chunk#"$name"'(){'}
    __tokenenv_bodies[$name]=${chunk%'}'}
  done
}

# Succeeds when client $1's function is one of ours: its whole body is one __tokenenv_run call.
__tokenenv_is_wrapper() {
  local body=${__tokenenv_bodies[$1]:-}
  [[ $body == '__tokenenv_run'*"$1"'"$@"' && $body != *';'* ]]
}

# The wrapped clients that are functions now, into __tokenenv_fns.
__tokenenv_functions() {
  local name
  __tokenenv_fns=()
  if [ -n "${ZSH_VERSION:-}" ]; then
    for name in "${__tokenenv_clients[@]}"; do
      if (( ${+functions[$name]} )); then __tokenenv_fns+=("$name"); fi
    done
    return 0
  fi
  { for name in "${__tokenenv_clients[@]}"; do
      declare -F "$name" && __tokenenv_fns+=("$name")
    done; } >/dev/null 2>&1   # one redirection for the whole loop: it runs at every shell start
  return 0
}

# Succeeds when the user has an alias of name $1, or a function that is not one of ours.
__tokenenv_users() {
  if [[ -n ${ZSH_VERSION:-} ]]; then
    # shellcheck disable=SC2154 # zsh's $aliases
    if (( ${+aliases[$1]} )); then __tokenenv_what='alias'; return 0; fi
  elif [[ -n ${BASH_ALIASES[$1]+set} ]]; then
    __tokenenv_what='alias'; return 0
  fi
  [[ -n ${__tokenenv_bodies[$1]+set} ]] && ! __tokenenv_is_wrapper "$1" && __tokenenv_what='function'
}

# Defines a wrapper for every client in the table, except where the user has a function or an
# alias of that name: those are left alone and named once on stderr (interactive shells only).
# It runs at every shell start: the loop does as little as it can ([[ ]], one eval).
__tokenenv_define() {
  local word kind='' kept='' definitions='' posix='' look=''
  # Hyphenated names only where the shell accepts them: not in bash's POSIX mode (bash as sh,
  # set -o posix), where the mere attempt is a fatal error of the special builtin eval.
  if [[ -z ${ZSH_VERSION:-} && -o posix ]]; then posix=1; fi
  __tokenenv_functions
  __tokenenv_read_bodies ${__tokenenv_fns[@]+"${__tokenenv_fns[@]}"}
  if [[ -n ${ZSH_VERSION:-} ]]; then
    # shellcheck disable=SC2154 # zsh's $aliases
    if (( ${#__tokenenv_fns[@]} || ${#aliases} )); then look=1; fi
  elif (( ${#__tokenenv_fns[@]} || ${#BASH_ALIASES[@]} )); then
    look=1
  fi
  for word in "${__tokenenv_clients[@]}"; do
    case $word in
      *:) kind=${word%:}; continue ;;
      *-*) [[ -z $posix ]] || continue ;;
    esac
    if [[ -n $look ]] && __tokenenv_users "$word"; then
      kept+="${kept:+, }$word ($__tokenenv_what)"
      continue
    fi
    definitions+="function $word { __tokenenv_run $kind $word \"\$@\"; }
"
  done
  eval "$definitions"
  if [[ -n $kept && $kept != "${__tokenenv_told:-}" && $- == *i* ]]; then
    printf 'tokenenv: left your own %s alone: not wrapped (unalias or unset -f, then source this again, to wrap)\n' "$kept" >&2
    __tokenenv_told=$kept
  fi
}

if [ -z "${__tokenenv_loading:-}" ]; then __tokenenv_define; fi

# The status table of every configured token.
tokenenv_status() {
  command "${TOKENENV_BIN:-tokenenv}" status "$@"
}

# tokenenv doctor, told that the wrappers are loaded in this shell.
tokenenv_doctor() {
  TOKENENV_SHELL="${ZSH_VERSION:+zsh $ZSH_VERSION}${BASH_VERSION:+bash $BASH_VERSION}" command "${TOKENENV_BIN:-tokenenv}" doctor "$@"
}

# Removes the wrappers (TOKENENV_WRAP=0 turns them off without removing them); a function of
# yours with a client's name stays.
tokenenv_unwrap() {
  local name
  __tokenenv_functions
  __tokenenv_read_bodies ${__tokenenv_fns[@]+"${__tokenenv_fns[@]}"}
  for name in ${__tokenenv_fns[@]+"${__tokenenv_fns[@]}"}; do
    if __tokenenv_is_wrapper "$name"; then unset -f "$name"; fi
  done
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

# Until the second part is read, the wrappers' runner and the prompt read it first.
__tokenenv_load() {
  local __tokenenv_loading=1
  # shellcheck source=/dev/null
  if [ -z "$__tokenenv_script" ] || ! source "$__tokenenv_script"; then
    printf 'tokenenv: cannot read %s\n' "${__tokenenv_script:-the rest of tokenenv.sh}" >&2
    return 1
  fi
}
if [ -z "${__tokenenv_loading:-}" ]; then
  __tokenenv_run() { __tokenenv_load && __tokenenv_run "$@"; }
  tokenenv_prompt() { __tokenenv_load && tokenenv_prompt "$@"; }
fi

# ---- The second part: read by the first wrapped call or prompt (or now, without a file) ----
if [ -n "$__tokenenv_script" ] && [ -z "${__tokenenv_loading:-}" ]; then return 0; fi

if [ -n "${ZSH_VERSION:-}" ]; then
  zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || true
  typeset -gA __tokenenv_encoded __tokenenv_stamps
else
  declare -gA __tokenenv_encoded __tokenenv_stamps 2>/dev/null || declare -A __tokenenv_encoded __tokenenv_stamps
fi

# Seconds since the epoch into __tokenenv_t, without a process.
__tokenenv_now() {
  if [ -n "${EPOCHSECONDS:-}" ]; then
    __tokenenv_t=$EPOCHSECONDS
  else
    printf -v __tokenenv_t '%(%s)T' -1
  fi
}

# $1 as part of a file name into __tokenenv_e (lib/files/name-encoding.ts: encodeName): every
# byte outside [A-Za-z0-9.-] as _XX, so that distinct texts give distinct names.
# Remembered per text: a wrapped call encodes the same few names again and again.
__tokenenv_encode() {
  local s=$1
  if [[ -n ${__tokenenv_encoded[$s]+set} ]]; then __tokenenv_e=${__tokenenv_encoded[$s]}; return 0; fi
  case $s in
    *[!A-Za-z0-9._:/-]*) __tokenenv_encode_bytes "$s" ;;
    *) s=${s//_/_5F}; s=${s//:/_3A}; __tokenenv_e=${s//\//_2F} ;;   # the usual case, without a loop
  esac
  __tokenenv_encoded[$1]=$__tokenenv_e
}

__tokenenv_encode_bytes() {
  local LC_ALL=C s=$1 out='' c hex   # C: one character is one byte
  while [ -n "$s" ]; do
    c=${s:0:1}
    s=${s:1}
    case $c in
      [A-Za-z0-9.-]) out+=$c ;;
      *) printf -v hex '_%02X' "'$c"; out+=$hex ;;
    esac
  done
  __tokenenv_e=$out
}

# "$1/$2" into __tokenenv_p, without doubling a trailing slash of $1 (as lib/ joins them).
__tokenenv_under() {
  case $1 in
    */) __tokenenv_p=$1$2 ;;
    *) __tokenenv_p=$1/$2 ;;
  esac
}

# tokenenv's private directory (lib/files/paths.ts: stateDirectory) into __tokenenv_d; '' when
# there is none to trust (no absolute HOME).
__tokenenv_state_dir() {
  __tokenenv_d=''
  case "${XDG_RUNTIME_DIR:-}" in
    /*) __tokenenv_under "$XDG_RUNTIME_DIR" tokenenv ;;
    *) case "${XDG_CACHE_HOME:-}" in
         /*) __tokenenv_under "$XDG_CACHE_HOME" tokenenv/run ;;
         *) case "${HOME:-}" in
              /*) __tokenenv_under "$HOME" .cache/tokenenv/run ;;
              *) return 0 ;;
            esac ;;
       esac ;;
  esac
  __tokenenv_d=$__tokenenv_p
}

# The conventional token file for endpoint $1 ('' for the default token) into __tokenenv_f
# (lib/discovery: tokenLocation); '' when the endpoint's name is too long for a file
# (lib/refresh/targets.ts: endpointPurpose).
__tokenenv_conventional_file() {
  local dir name
  case "${XDG_RUNTIME_DIR:-}" in
    /*) dir=$XDG_RUNTIME_DIR ;;
    *) dir=/tmp ;;
  esac
  if [ -z "$1" ]; then
    if [ -n "${BEARER_TOKEN_FILE:-}" ]; then __tokenenv_f=$BEARER_TOKEN_FILE; return; fi
    name=bt_u$EUID
  else
    __tokenenv_encode "$1"
    __tokenenv_f=''
    [ "${#__tokenenv_e}" -le 188 ] || return 0
    name=bt_u$EUID-tokenenv-ep-$__tokenenv_e
  fi
  __tokenenv_under "$dir" "$name"
  __tokenenv_f=$__tokenenv_p
}

# The stamp of token file $1 into __tokenenv_s (lib/files/stamp.ts: stampPath); fails when the
# file gets none. Remembered per state directory and file ('/' for none).
__tokenenv_stamp_path() {
  local dir=${1%/*} name=${1##*/} key
  __tokenenv_state_dir
  key=$__tokenenv_d'|'$1
  __tokenenv_s=${__tokenenv_stamps[$key]:-}
  if [[ -z $__tokenenv_s ]]; then
    __tokenenv_s=/
    case $1 in
      /*) case $name in
            ''|.|..) ;;
            *) __tokenenv_encode "${dir:-/}"
               if [[ -n $__tokenenv_d && ${#__tokenenv_e} -le 255 ]]; then __tokenenv_s="$__tokenenv_d/fresh/$__tokenenv_e/$name"; fi ;;
          esac ;;
    esac
    __tokenenv_stamps[$key]=$__tokenenv_s
  fi
  [[ $__tokenenv_s != / ]]
}

# Succeeds when $1 is the user's own regular file, not a symbolic link.
__tokenenv_own_file() {
  [[ -f $1 && ! -L $1 && -O $1 ]]
}

# The first line of regular file $1 into __tokenenv_r, reading at most $2 bytes (so that a huge
# file costs nothing); the caller checks that $1 is a regular file (a FIFO would block).
__tokenenv_read_head() {
  __tokenenv_r=''
  if [ -n "${ZSH_VERSION:-}" ]; then
    { IFS= read -r -u 0 -k "$2" __tokenenv_r < "$1"; } 2>/dev/null || true
    __tokenenv_r=${__tokenenv_r%%$'\n'*}
  else
    { IFS= read -r -n "$2" __tokenenv_r < "$1"; } 2>/dev/null || true
  fi
}

# Succeeds when $1 is a decimal number the shell's arithmetic reads as such (no leading zero,
# no overflow).
__tokenenv_is_time() {
  case $1 in
    [1-9]|[1-9][0-9]|[1-9][0-9][0-9]|[1-9][0-9][0-9][0-9]*) ;;
    *) return 1 ;;
  esac
  case $1 in *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 12 ]
}

# The stamp of token file $1 into __tokenenv_until and __tokenenv_exp ('-': unknown) when the
# fast path may trust it (lib/files/stamp.ts): the token file, the stamp and the stamp's
# directories are the user's own and no links, and the stamp has the file's exact modification
# time, so it vouches for this very file, unchanged since tokenenv checked it.
# (It runs on every wrapped call: the tests are written out rather than calling helpers, each
# call of a shell function costing more than the test itself.)
__tokenenv_stamp() {
  local s d line rest
  [[ -f $1 && ! -L $1 && -O $1 ]] || return 1
  __tokenenv_stamp_path "$1" || return 1
  s=$__tokenenv_s
  d=${s%/*}
  # An ancestor that is no directory leaves no directory below it: -d is needed only once.
  [[ -f $s && ! -L $s && -O $s && -d $d && ! -L $d && -O $d ]] || return 1
  [[ ! -L $__tokenenv_d/fresh && -O $__tokenenv_d/fresh && ! -L $__tokenenv_d && -O $__tokenenv_d ]] || return 1
  [[ ! $1 -nt $s && ! $1 -ot $s ]] || return 1
  # At most 128 bytes, whatever the file holds (__tokenenv_read_head, written out).
  line=''
  if [[ -n ${ZSH_VERSION:-} ]]; then
    { IFS= read -r -u 0 -k 128 line < "$s"; } 2>/dev/null || true
    line=${line%%$'\n'*}
  else
    { IFS= read -r -n 128 line < "$s"; } 2>/dev/null || true
  fi
  case $line in *' '*) ;; *) return 1 ;; esac
  __tokenenv_until=${line%% *}
  rest=${line#* }
  __tokenenv_exp=${rest%% *}
  # Decimal numbers the shell's arithmetic reads as such: no leading zero, no overflow.
  case $__tokenenv_until in ''|0*|*[!0-9]*) return 1 ;; esac
  case $__tokenenv_exp in -) ;; ''|0*|*[!0-9]*) return 1 ;; esac
  (( ${#__tokenenv_until} <= 12 && ${#__tokenenv_exp} <= 12 ))
}

# Succeeds when token file $1 is fresh by its stamp: fresh-until and expiry both still ahead.
__tokenenv_fresh() {
  __tokenenv_stamp "$1" || return 1
  __tokenenv_t=${EPOCHSECONDS:-}
  [[ -n $__tokenenv_t ]] || __tokenenv_now
  (( __tokenenv_until > __tokenenv_t )) || return 1
  [[ $__tokenenv_exp == - ]] || (( __tokenenv_exp > __tokenenv_t ))
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

# The token file for this call into __tokenenv_f ("-": the user's BEARER_TOKEN): fast path by
# stamp, else one tokenenv call.
__tokenenv_token_file() {
  local kind=$1 key file out rc   # not "status": read-only in zsh
  key=${__tokenenv_ep:-default}
  file=${__tokenenv_files[$key]:-}
  # With BEARER_TOKEN set, only a file that tokenenv named in this shell (a configured token) is
  # taken without asking: without a config the answer is BEARER_TOKEN itself, whatever a stamp
  # left from earlier says.
  if [ -z "$file" ] && [ -z "${BEARER_TOKEN:-}" ]; then
    __tokenenv_conventional_file "$__tokenenv_ep"
    file=$__tokenenv_f
  fi
  if [ -n "$file" ] && __tokenenv_fresh "$file"; then
    __tokenenv_f=$file
    return 0
  fi
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
  if [ "$out" != - ]; then __tokenenv_files[$key]=$out; fi
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
  case $kind in
    fts)
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
      ;;
    *)
      if [ "$__tokenenv_f" = - ]; then
        command "$client" "$@"   # the token is in BEARER_TOKEN, as the user set it
        return
      fi
      # A subshell that execs the client: the one process is the client itself. BEARER_TOKEN
      # would take precedence over the file in discovery, so it is not passed on.
      # shellcheck disable=SC2030 # for the client only, on purpose
      ( unset BEARER_TOKEN
        export BEARER_TOKEN_FILE="$__tokenenv_f"
        if [ "$kind" = condor ]; then export _condor_SCITOKENS_FILE="$__tokenenv_f"; fi
        __tokenenv_exec "$client" "$@" )
      ;;
  esac
}

# Replaces the (sub)shell with the real client, never with its wrapper function: bash's exec
# ignores functions; zsh's needs `command` to.
if [ -n "${ZSH_VERSION:-}" ]; then
  __tokenenv_exec() { exec command "$@"; }
else
  __tokenenv_exec() { exec "$@"; }
fi

__tokenenv_b64='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

# The exp claim of JWT $1 into __tokenenv_x ('' when not found), with builtins and fast: the
# payload's base64url is searched for `"exp":` as it looks at each of the three byte alignments,
# and only the few groups from there are decoded. For display only (tokenenv_prompt).
__tokenenv_jwt_exp() {
  local p=$1 pattern offset rest at start='' chunk json='' v b out c n
  __tokenenv_x=''
  case $p in *.*.*) ;; *) return 0 ;; esac
  p=${p#*.}
  p=${p%%.*}
  for pattern in ImV4cCI6:0 JleHAiO:2 iZXhwIjo:3; do
    offset=${pattern#*:}
    pattern=${pattern%:*}
    rest=$p
    at=0
    while :; do
      case $rest in *"$pattern"*) ;; *) break ;; esac
      chunk=${rest%%"$pattern"*}
      at=$(( at + ${#chunk} ))
      if (( at >= offset && (at - offset) % 4 == 0 )); then
        if [ -z "$start" ] || (( at - offset < start )); then start=$(( at - offset )); fi
        break
      fi
      rest=${rest#*"$pattern"}
      at=$(( at + ${#pattern} ))
    done
  done
  [ -n "$start" ] || return 0
  chunk="${p:$start:28}AAA"
  while [ "${#chunk}" -ge 4 ]; do
    v=0
    for n in 0 1 2 3; do
      c=${chunk:$n:1}
      b=${__tokenenv_b64%%"$c"*}
      v=$(( v << 6 | ${#b} & 63 ))
    done
    chunk=${chunk:4}
    printf -v out '\\x%02x\\x%02x\\x%02x' $(( v >> 16 & 255 )) $(( v >> 8 & 255 )) $(( v & 255 ))
    printf -v out '%b' "$out"
    json+=$out
  done
  case $json in *'"exp":'*) ;; *) return 0 ;; esac
  json=${json#*'"exp":'}
  json=${json# }
  json=${json%%[!0-9]*}
  if __tokenenv_is_time "$json"; then __tokenenv_x=$json; fi
}

# For PS1: the default token's remaining lifetime ("tok 19m", "tok 45s", "tok expired",
# "tok ?"), with builtins only: from the token's stamp, else from the token itself (also one
# that another tool wrote), whose decoded expiry is remembered until the token changes.
tokenenv_prompt() {
  local file='' token='' exp='' left
  if [ -n "${BEARER_TOKEN:-}" ] && [ -z "${__tokenenv_files[default]:-}" ]; then
    token=$BEARER_TOKEN
  else
    file=${__tokenenv_files[default]:-}
    if [ -z "$file" ]; then __tokenenv_conventional_file ''; file=$__tokenenv_f; fi
    # shellcheck disable=SC2031 # the user's BEARER_TOKEN_FILE, not the one of a client's subshell
    if __tokenenv_stamp "$file"; then
      exp=$__tokenenv_exp
    elif [[ -f $file ]] && { [ "$file" = "${BEARER_TOKEN_FILE:-}" ] || __tokenenv_own_file "$file"; }; then
      __tokenenv_read_head "$file" 65536
      token=${__tokenenv_r#"${__tokenenv_r%%[![:space:]]*}"}
      token=${token%%[[:space:]]*}
    fi
  fi
  if [ -n "$token" ]; then
    token=${token#*.}
    token=${token%%.*}
    if [ "$token" != "${__tokenenv_seen:-}" ]; then
      __tokenenv_jwt_exp "x.$token.x"
      __tokenenv_seen=$token
      __tokenenv_seen_exp=$__tokenenv_x
    fi
    exp=${__tokenenv_seen_exp:-}
  fi
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
