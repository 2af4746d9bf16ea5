"""Run a real FTS3 client command (fts-rest-*) with its access tokens read from files.

Usage: PYTHON fts-inprocess.py COMMAND [ARGS...]

COMMAND is an fts-rest-* script (a name looked up on PATH, or a path). The FTS client takes
tokens only as options (--fts-access-token, --src-access-token, --dst-access-token), which
would show them in `ps`. This script runs the client's own script in this process instead, and
gives the client the tokens after it has parsed its arguments, so no token is in any argv or
environment:

  TOKENENV_FTS_ACCESS_TOKEN_FILE  file with the token for the FTS server (every command)
  TOKENENV_SRC_ACCESS_TOKEN_FILE  file with the token for the source storage (transfer-submit)
  TOKENENV_DST_ACCESS_TOKEN_FILE  file with the token for the destination (transfer-submit)

A token is given only where the user gave none: not when the command line (or
~/.fts3client.cfg) names a certificate, and neither the FTS nor the source/destination token
when the user gave --access-token (the client refuses that mix: "Cannot use both"). Whether an
option was given is decided by the client's own option parser, so abbreviations (--fts) and the
--opt=value form count. Any PYTHON works: when it is not the interpreter of COMMAND's #! line
(the one that can import the client), the script runs itself again with that interpreter.
"""
import optparse
import os
import re
import runpy
import shutil
import sys

PROG = "fts-inprocess"
# option -> variable naming the file that holds its token
TOKEN_FILES = (
    ("--fts-access-token", "TOKENENV_FTS_ACCESS_TOKEN_FILE"),
    ("--src-access-token", "TOKENENV_SRC_ACCESS_TOKEN_FILE"),
    ("--dst-access-token", "TOKENENV_DST_ACCESS_TOKEN_FILE"),
)
REEXEC_MARK = "TOKENENV_FTS_INPROCESS_REEXEC"
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*\Z")  # RFC 6750 section 2.1
MAX_TOKEN_BYTES = 64 * 1024


def fail(message, status=2):
    sys.stderr.write("%s: %s\n" % (PROG, message))
    sys.exit(status)


def read_token(variable, path):
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_TOKEN_BYTES + 1)
    except OSError as e:
        fail("%s: cannot read %s: %s" % (variable, path, e.strerror))
    if len(raw) > MAX_TOKEN_BYTES:
        fail("%s: %s is larger than %d bytes" % (variable, path, MAX_TOKEN_BYTES))
    token = raw.decode("latin-1").strip(" \t\n\v\f\r")
    if not token:
        fail("%s: %s is empty" % (variable, path))
    if not B64TOKEN.match(token):
        fail("%s: %s does not hold a bearer token (RFC 6750 characters only)" % (variable, path))
    return token


def token_files():
    """The token files named in the environment, removed from it so no child inherits them."""
    found = {}
    for option, variable in TOKEN_FILES:
        path = os.environ.pop(variable, "")
        if path:
            found[option] = (variable, path)
    return found


def give_tokens(parser, values, files):
    """Sets each token option that the user left unset and the client would accept."""
    if parser.get_option("--access-token") is None:
        return  # not an FTS command's parser
    if getattr(values, "ucert", None):
        return  # the user chose a certificate; the client refuses it together with tokens
    if getattr(values, "access_token", None):
        return  # one token for all three: adding any other is refused ("Cannot use both")
    for option, (variable, path) in files.items():
        target = parser.get_option(option)
        if target is None and option == "--fts-access-token":
            target = parser.get_option("--access-token")  # clients before --fts-access-token
        if target is not None and getattr(values, target.dest, None) is None:
            setattr(values, target.dest, read_token(variable, path))


def hook_option_parsing(files):
    original = optparse.OptionParser.parse_args

    def parse_args(self, args=None, values=None):
        values, rest = original(self, args, values)
        give_tokens(self, values, files)
        return values, rest

    optparse.OptionParser.parse_args = parse_args


def find_command(name):
    path = name if os.sep in name else shutil.which(name)
    if not path or not os.path.isfile(path):
        fail("%s: not found%s" % (name, "" if os.sep in name else " on PATH"), 127)
    return os.path.abspath(path)


def shebang(path):
    with open(path, "rb") as handle:
        line = handle.readline(4096).decode("utf-8", "replace").strip()
    return line[2:].split() if line.startswith("#!") else []


def ensure_interpreter(command):
    """Re-runs this script under COMMAND's own interpreter when it is another one."""
    interpreter = shebang(command)
    if not interpreter or os.path.basename(interpreter[0]) == "env":
        return  # `#!/usr/bin/env python3`: any python that can import the client will do
    if os.path.abspath(interpreter[0]) == os.path.abspath(sys.executable) or os.environ.get(REEXEC_MARK):
        return
    os.environ[REEXEC_MARK] = "1"
    argv = interpreter + [os.path.abspath(__file__), command] + sys.argv[2:]
    try:
        os.execv(interpreter[0], argv)
    except OSError as e:
        fail("%s: cannot run its interpreter %s: %s" % (command, interpreter[0], e.strerror), 126)


def main():
    if len(sys.argv) < 2:
        fail("usage: PYTHON fts-inprocess.py COMMAND [ARGS...]")
    command = find_command(sys.argv[1])
    ensure_interpreter(command)
    os.environ.pop(REEXEC_MARK, None)
    hook_option_parsing(token_files())
    # Exactly what running the script does: its main() parses sys.argv[1:] and may sys.exit.
    sys.argv = [command] + sys.argv[2:]
    runpy.run_path(command, run_name="__main__")


if __name__ == "__main__":
    main()
