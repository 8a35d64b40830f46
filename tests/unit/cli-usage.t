# cli-usage.t - --help and the man pages describe the same options (as
# git's t0450), and the CLI's usage errors need no Docker.
. "$top_srcdir/tests/lib/tap.sh"
NEXUS_BIN="$top_builddir/nexus"
export NEXUS_SERVER="$top_builddir/nexus-server"
export NEXUS_DATA_DIR=$(mktemp -d)
trap 'rm -rf "$NEXUS_DATA_DIR"' EXIT

# Long options named in a text: --foo-bar words.
long_options() { grep -oE -- '--[a-z][a-z-]+' | sort -u; }
man_text() { sed -e 's/\\-/-/g' "$top_srcdir/man/$1.1.in"; }

# check_help GROUP COMMAND...: each command's --help exits 0 and every long
# option it names is in nexus-GROUP(1).
check_help() {
	group=$1
	shift
	for cmd in "$@"; do
		help=$("$NEXUS_BIN" $group $cmd --help)
		ok $? "nexus $group $cmd --help exits 0"
		missing=
		for opt in $(printf '%s\n' "$help" | long_options); do
			man_text nexus-$group | grep -q -- "$opt" || missing="$missing $opt"
		done
		is "$missing" "" "every option of '$group $cmd --help' is in nexus-$group(1)"
	done
}
check_help sandbox create run list status pause resume stop
check_help runtime build list
check_help admin key

# serve is a command of its own.
help=$("$NEXUS_BIN" serve --help)
ok $? "nexus serve --help exits 0"
missing=
for opt in $(printf '%s\n' "$help" | long_options); do
	man_text nexus-serve | grep -q -- "$opt" || missing="$missing $opt"
done
is "$missing" "" "every option of 'serve --help' is in nexus-serve(1)"

# Every option in nexus-sandbox(1)'s synopsis is accepted by some command.
all_help=$(for cmd in create run list status pause resume stop; do "$NEXUS_BIN" sandbox $cmd --help; done)
missing=
for opt in $(man_text nexus-sandbox | sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' | long_options); do
	printf '%s\n' "$all_help" | grep -q -- "$opt" || missing="$missing $opt"
done
is "$missing" "" "every option in the synopsis of nexus-sandbox(1) is in some --help"

for cmd in create run list status pause resume stop; do
	grep -q "^\.SS $cmd" "$top_srcdir/man/nexus-sandbox.1.in"
	ok $? "nexus-sandbox(1) has a section for $cmd"
done

"$NEXUS_BIN" --version | grep -qE '^nexus [0-9]+\.[0-9]+\.[0-9]+$'
ok $? "--version prints the version"
"$NEXUS_BIN" >/dev/null 2>&1
is "$?" 2 "no command is a usage error"
out=$("$NEXUS_BIN" sandbox frobnicate 2>&1)
is "$?-$out" "2-Error: unknown command 'sandbox frobnicate' (see 'nexus sandbox --help')" "unknown command"
out=$("$NEXUS_BIN" sandbox run x --language cobol -c 1 2>&1)
is "$?-$out" "125-Error: unknown language 'cobol'; use python, javascript or bash" "unknown language is refused before Docker is asked"
out=$("$NEXUS_BIN" admin key create 2>&1)
is "$?-$out" "2-Error: --user is required (see 'nexus admin key --help')" "a key needs a user"
out=$("$NEXUS_BIN" serve --port 0 2>&1)
is "$?-$out" "2-Error: --port must be a port number from 1 to 65535, not '0'" "a bad port is refused"
out=$("$NEXUS_BIN" sandbox create x --ttl 0 2>&1)
is "$?-$out" "2-Error: --ttl must be a whole number of minutes from 1 to 10080, not '0'" "a TTL of 0 is refused"

tap_done
