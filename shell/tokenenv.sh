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
# Wraps the HTCondor, ARC, FTS, gfal2 and XRootD clients so that each call runs with a valid
# token of the right audience and scope (lib/token/operations.ts: one table for both). When the
# token is fresh the wrapper starts no process besides the client (shell builtins only, reading a
# freshness stamp that tokenenv writes); otherwise it calls `tokenenv shell-token` once and, if
# that fails, reports why without running the client.
#
# Names it defines: the wrapper functions, tokenenv_status, tokenenv_doctor, tokenenv_prompt,
# tokenenv_unwrap, and helpers and variables prefixed __tokenenv_. It reads TOKENENV_WRAP (0:
# wrappers off) and TOKENENV_BIN (the tokenenv command). A function or alias of yours with a
# client's name is left alone. Sourcing it twice is harmless; it works under set -euo pipefail.
# In other shells, sourcing it does nothing.
#
# What it shares with tokenenv's TypeScript (state directory, token and stamp file names, the
# stamp format) is checked against it by test/shell/contract.test.ts; the tables between BEGIN and
# END are generated from lib/token/operations.ts.

# shellcheck disable=SC2030,SC2031 # variables set in a client's subshell are meant for it alone
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

# BEGIN client table: generated from lib/token/operations.ts (node scripts/shell-table.mjs); do not edit
__tokenenv_clients=(
  condor: condor_q condor_status condor_history condor_ping condor_ce_q condor_ce_status condor_ce_ping condor_ce_history condor_submit condor_ce_submit condor_ce_trace condor_rm condor_ce_rm condor_hold condor_release condor_ce_hold condor_ce_release
  arc: arcsub arcstat arcinfo arcget arcsync arckill arcclean arcrenew arcresume
  arcdata: arcls arccp arcrm arcmkdir arcrename
  fts: fts-rest-whoami fts-rest-delegate fts-rest-transfer-submit fts-rest-transfer-status fts-rest-transfer-cancel fts-rest-transfer-list fts-rest-delete-submit fts-rest-server-status fts-rest-ban
  gfal: gfal-ls gfal-cat gfal-stat gfal-sum gfal-xattr gfal-copy gfal-save gfal-rm gfal-mkdir gfal-rename gfal-chmod
  xrd: xrdcp xrdfs
)
# END client table

# This file, by its absolute path, for reading its second part later; '' when it was not
# sourced from a file of its own (eval "$(cat …)"): the second part is then read at once.
if [ -n "${ZSH_VERSION:-}" ]; then
  eval '__tokenenv_script=${(%):-%x}'
else
  __tokenenv_script=${BASH_SOURCE[0]:-}
fi
# This script's directory, for shell/fts-inprocess.py beside it.
__tokenenv_dir=${__tokenenv_script%/*}
case $__tokenenv_dir in /*) ;; *) __tokenenv_dir="$PWD/$__tokenenv_dir" ;; esac
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

# Defines a wrapper for every client in the table, except where the user has a function or an
# alias of that name: those are left alone and named once on stderr (interactive shells only).
# It runs at every shell start, so the user's (few) aliases and functions are compared with the
# clients, not every client looked up, and one eval defines them all.
__tokenenv_define() {
  local word kind='' kept='' definitions='' posix='' all aliased=' ' own=' ' name
  local IFS=' '   # "${arr[*]}" below joins with it
  local -a names
  # Hyphenated names only where the shell accepts them: not in bash's POSIX mode (bash as sh,
  # set -o posix), where the mere attempt is a fatal error of the special builtin eval.
  if [[ -z ${ZSH_VERSION:-} && -o posix ]]; then posix=1; fi
  __tokenenv_functions
  __tokenenv_read_bodies ${__tokenenv_fns[@]+"${__tokenenv_fns[@]}"}
  for name in ${__tokenenv_fns[@]+"${__tokenenv_fns[@]}"}; do
    __tokenenv_is_wrapper "$name" || own+="$name "
  done
  if [[ -n ${ZSH_VERSION:-} ]]; then
    eval 'names=(${(k)aliases})'
  else
    names=(${BASH_ALIASES[@]+"${!BASH_ALIASES[@]}"})
  fi
  if (( ${#names[@]} )); then
    all=" ${__tokenenv_clients[*]} "
    for name in "${names[@]}"; do
      [[ $all != *" $name "* ]] || aliased+="$name "
    done
  fi
  for word in "${__tokenenv_clients[@]}"; do
    case $word in
      *:) kind=${word%:}; continue ;;
      *-*) [[ -z $posix ]] || continue ;;
    esac
    if [[ $aliased != ' ' || $own != ' ' ]]; then
      if [[ $aliased == *" $word "* ]]; then kept+="${kept:+, }$word (alias)"; continue; fi
      if [[ $own == *" $word "* ]]; then kept+="${kept:+, }$word (function)"; continue; fi
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

if [ -n "${ZSH_VERSION:-}" ]; then
  typeset -gA __tokenenv_scopes __tokenenv_ops
else
  declare -gA __tokenenv_scopes __tokenenv_ops 2>/dev/null || declare -A __tokenenv_scopes __tokenenv_ops
fi
# BEGIN operations table: generated from lib/token/operations.ts (node scripts/shell-table.mjs); do not edit
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

# The conventional token file for endpoints $1 (space-separated) and scope $2 ('' for the
# default token) into __tokenenv_f (lib/discovery: tokenLocation; lib/refresh/targets.ts:
# endpointPurpose); '' when the name is too long for a file.
__tokenenv_conventional_file() {
  local dir name encoded
  case "${XDG_RUNTIME_DIR:-}" in
    /*) dir=$XDG_RUNTIME_DIR ;;
    *) dir=/tmp ;;
  esac
  if [ -z "$1" ]; then
    if [ -n "${BEARER_TOKEN_FILE:-}" ]; then __tokenenv_f=$BEARER_TOKEN_FILE; return; fi
    name=bt_u$EUID
  else
    __tokenenv_encode "$1"
    encoded=$__tokenenv_e
    # `__` never occurs in an encoded name: endpoints and scope cannot be mistaken for each other.
    if [ -n "${2:-}" ]; then __tokenenv_encode "$2"; encoded="${encoded}__$__tokenenv_e"; fi
    __tokenenv_f=''
    [ "${#encoded}" -le 188 ] || return 0
    name=bt_u$EUID-tokenenv-ep-$encoded
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
  local key='default' file
  if [ -n "$__tokenenv_req_eps" ]; then key="$__tokenenv_req_eps|$__tokenenv_req_scope"; fi
  file=${__tokenenv_files[$key]:-}
  # With BEARER_TOKEN set, only a file that tokenenv named in this shell (a configured token) is
  # taken without asking: without a config the answer is BEARER_TOKEN itself, whatever a stamp
  # left from earlier says.
  if [ -z "$file" ] && [ -z "${BEARER_TOKEN:-}" ]; then
    __tokenenv_conventional_file "$__tokenenv_req_eps" "$__tokenenv_req_scope"
    file=$__tokenenv_f
  fi
  if [ -n "$file" ] && __tokenenv_fresh "$file"; then
    __tokenenv_rf[$1]=$file
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
    # "-" (the user's BEARER_TOKEN) is asked for again on every call: it may change or expire.
    if [ "$line" != - ]; then __tokenenv_files[${__tokenenv_rk[$n]}]=$line; fi
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
