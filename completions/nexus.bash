# nexus(1) completion for bash                            -*- shell-script -*-
#
# Installed as $(datadir)/bash-completion/completions/nexus; or source it.
# Needs bash 4 and nothing else: no bash-completion helpers, no jq.  SANDBOX
# operands complete the ids and names of sandboxes that are not stopped,
# from one 'nexus sandbox list --json' per completion (KEY-ID, the keys not
# revoked, from 'nexus admin key list --json'); any failure of that gives
# no suggestions and prints nothing.

# _nexus_ids NEXUS sandbox|key: print the id and the name of every sandbox
# that is not stopped (from 'nexus sandbox list --json'), or the id of
# every API key that is not revoked ('nexus admin key list --json'), one
# per line.
_nexus_ids()
{
	local bin=${1/#\~\//$HOME/} kind=$2 json p o str= instr=0 key= pending=
	local idkey namekey= deadkey id= name= dead=
	local -a parts cmd

	if [[ $kind == sandbox ]]; then
		idkey=sandbox_id namekey=name deadkey=status cmd=(sandbox list --json)
	else
		idkey=key_id deadkey=revoked_at cmd=(admin key list --json)
	fi
	if [[ $(type -t "$bin") == file ]] && type -P timeout >/dev/null 2>&1; then
		json=$(timeout 3 "$bin" "${cmd[@]}" </dev/null 2>/dev/null)
	else
		json=$("$bin" "${cmd[@]}" </dev/null 2>/dev/null)
	fi || return 0
	# A small JSON scanner: split at the quotes, so the pieces are, in
	# turn, outside and inside strings (a piece inside that ends in an odd
	# number of backslashes was cut at an escaped quote).  A string
	# followed by ':' is a key; its value is the next string, or the
	# literal after the ':'.  Each object starts with its id.
	IFS='"' read -r -d '' -a parts <<<"$json"
	for p in "${parts[@]}"; do
		if ((instr)); then
			str+=$p
			if [[ $p == *\\ && $p =~ (\\+)$ ]] && ((${#BASH_REMATCH[1]} % 2)); then
				str+='"'
				continue
			fi
			instr=0
			if [[ $pending ]]; then
				[[ $pending != - ]] && _nexus_field "$pending" "$str"
				pending=
			else
				key=$str
			fi
		else
			instr=1 str=
			[[ $key ]] || continue
			o=${p#"${p%%[![:space:]]*}"}
			if [[ $o == :* ]]; then
				o=${o#:}
				o=${o#"${o%%[![:space:]]*}"}
				if [[ $key != "$idkey" && $key != "$namekey" && $key != "$deadkey" ]]; then
					[[ $o ]] || pending=-
				elif [[ $o ]]; then
					_nexus_field "$key" "${o%%[!-+.a-zA-Z0-9]*}"
				else
					pending=$key
				fi
			fi
			key=
		fi
	done
	_nexus_field "$idkey" ""
	return 0
}

# _nexus_field KEY VALUE: one field of an object, for _nexus_ids.
_nexus_field()
{
	case $1 in
	"$idkey")
		if [[ $id && ! $dead ]]; then
			printf '%s\n' "$id"
			[[ $name ]] && printf '%s\n' "$name"
		fi
		id=$2 name= dead=
		;;
	"$namekey")
		name=$2
		[[ $name == *\\* ]] && name=$(_nexus_json_unescape "$name")
		;;
	"$deadkey")
		if [[ $kind == sandbox ]]; then
			[[ $2 == stopped ]] && dead=1
		else
			[[ $2 && $2 != null ]] && dead=1
		fi
		;;
	esac
}

# _nexus_json_unescape TEXT: the string a JSON string body stands for.
_nexus_json_unescape()
{
	local s=$1 out= c
	while [[ $s ]]; do
		c=${s:0:1}
		s=${s:1}
		if [[ $c == \\ ]]; then
			c=${s:0:1}
			s=${s:1}
			case $c in
			n) c=$'\n' ;;
			t) c=$'\t' ;;
			r) c=$'\r' ;;
			b) c=$'\b' ;;
			f) c=$'\f' ;;
			u) printf -v c %b "\\u${s:0:4}"; s=${s:4} ;;
			esac
		fi
		out+=$c
	done
	printf '%s\n' "$out"
}

# _nexus_reply CUR WORD...: COMPREPLY gets the WORDs that start with CUR,
# each quoted for the command line (unless CUR opens a quote, which
# readline then closes).
_nexus_reply()
{
	local cur=$1 quote= w q
	shift
	case $cur in
	\'* | \"*) quote=${cur:0:1} cur=${cur:1} ;;
	*) cur=${cur//\\/} ;;
	esac
	for w in "$@"; do
		[[ $w && $w == "$cur"* ]] || continue
		if [[ $quote ]]; then
			COMPREPLY+=("$w")
		else
			printf -v q '%q' "$w"
			COMPREPLY+=("$q")
		fi
	done
}

_nexus()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prefix= pending= w i n
	local key opts= argopts= operand= max=0 nops=0 dashdash=
	local -a args=() given=()
	COMPREPLY=()

	# The words before the cursor, with '--opt = value' (split by
	# COMP_WORDBREAKS) joined back into --opt=value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == = && ${#args[@]} -gt 0 && ${args[-1]} == --* && ${args[-1]} != *=* ]]; then
			args[-1]+='='
			if ((i + 1 < COMP_CWORD)); then
				args[-1]+=${COMP_WORDS[i + 1]}
				((i++))
			fi
			continue
		fi
		args+=("$w")
	done
	# The cursor is in the value of --opt=: complete that value.
	if [[ $cur == = && ${#args[@]} -gt 0 && ${args[-1]} == --* && ${args[-1]} != *=* ]]; then
		args[-1]+='=' cur=
	fi
	if [[ ${#args[@]} -gt 0 && ${args[-1]} == --*= ]]; then
		pending=${args[-1]%=}
		unset 'args[-1]'
	elif [[ $cur == --*=* ]]; then
		pending=${cur%%=*} prefix=${cur%%=*}= cur=${cur#*=}
	fi

	# The command: nexus GROUP [COMMAND]; nexus admin key COMMAND.
	case ${args[0]-} in
	"")
		if [[ $cur == -* ]]; then
			_nexus_reply "$cur" --help -h --version
		else
			_nexus_reply "$cur" sandbox runtime serve admin
		fi
		return 0
		;;
	sandbox | runtime)
		if ((${#args[@]} == 1)); then
			if [[ $cur == -* ]]; then
				_nexus_reply "$cur" --help -h
			elif [[ ${args[0]} == sandbox ]]; then
				_nexus_reply "$cur" create run list status pause resume stop
			else
				_nexus_reply "$cur" build list
			fi
			return 0
		fi
		key="${args[0]} ${args[1]}" n=2
		;;
	serve) key=serve n=1 ;;
	admin)
		if ((${#args[@]} == 1)); then
			if [[ $cur == -* ]]; then
				_nexus_reply "$cur" --help -h
			else
				_nexus_reply "$cur" key
			fi
			return 0
		fi
		[[ ${args[1]} == key ]] || return 0
		if ((${#args[@]} == 2)); then
			if [[ $cur == -* ]]; then
				_nexus_reply "$cur" --help -h
			else
				_nexus_reply "$cur" create list revoke
			fi
			return 0
		fi
		key="admin key ${args[2]}" n=3
		;;
	*) return 0 ;;
	esac

	case $key in
	"sandbox create")
		opts="--ttl -t --template --agent-id --provider -p --isolation --json -j --help -h"
		argopts="--ttl -t --template --agent-id --provider -p --isolation" operand=name max=1 ;;
	"sandbox run")
		opts="--code -c --file -f --language -l --timeout --max-output --json -j --help -h"
		argopts="--code -c --file -f --language -l --timeout --max-output"
		operand=sandbox max=1 ;;
	"sandbox list")
		opts="--user-id -u --agent-id -a --tenant-id -t --verify -v --json -j --help -h"
		argopts="--user-id -u --agent-id -a --tenant-id -t" ;;
	"sandbox status")
		opts="--verify -v --json -j --help -h" operand=sandbox max=1 ;;
	"sandbox pause" | "sandbox resume" | "sandbox stop")
		opts="--json -j --help -h" operand=sandbox max=1 ;;
	"runtime build")
		opts="--mirror --suite --help -h" argopts="--mirror --suite"
		operand=lang max=4 ;;
	"runtime list") opts="--json -j --help -h" ;;
	serve)
		opts="--host --port -p --insecure --help -h" argopts="--host --port -p" ;;
	"admin key create")
		opts="--user -u --tenant -t --agent -a --admin --json -j --help -h"
		argopts="--user -u --tenant -t --agent -a" ;;
	"admin key list") opts="--json -j --help -h" ;;
	"admin key revoke") opts="--json -j --help -h" operand=key max=1 ;;
	*) return 0 ;;
	esac

	# Options and operands so far (getopt_long: options may follow
	# operands; -- ends them; -xVALUE and -jxVALUE carry their value).
	for ((i = n; i < ${#args[@]}; i++)); do
		w=${args[i]}
		if [[ $dashdash ]]; then
			given+=("$w")
		elif [[ $w == -- ]]; then
			dashdash=1
		elif [[ $w == --*=* ]]; then
			:
		elif [[ $w == --* ]]; then
			[[ " $argopts " == *" $w "* ]] && ((i++))
		elif [[ $w == -?* ]]; then
			local j
			for ((j = 1; j < ${#w}; j++)); do
				if [[ " $argopts " == *" -${w:j:1} "* ]]; then
					((j == ${#w} - 1)) && ((i++))
					break
				fi
			done
		else
			given+=("$w")
		fi
	done
	nops=${#given[@]}
	# The word before the cursor is an option that wants a value.
	if [[ -z $pending && -z $dashdash ]] && ((i == ${#args[@]} + 1)); then
		pending=${args[-1]}
		[[ $pending == -[!-]?* ]] && pending=-${pending: -1}
	fi

	if [[ $pending ]]; then
		case $pending in
		--language | -l) _nexus_reply "$cur" python javascript bash ;;
		--template) _nexus_reply "$cur" default python javascript bash ;;
		--provider | -p) _nexus_reply "$cur" docker e2b ;;
		--isolation) _nexus_reply "$cur" runc gvisor ;;
		--file | -f)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			;;
		esac
		if [[ $prefix ]]; then
			for i in "${!COMPREPLY[@]}"; do
				COMPREPLY[i]=$prefix${COMPREPLY[i]}
			done
		fi
		return 0
	fi

	if [[ $cur == -* && -z $dashdash ]]; then
		_nexus_reply "$cur" $opts
	elif ((nops < max)); then
		case $operand in
		sandbox | key)
			local -a cands
			mapfile -t cands < <(_nexus_ids "${COMP_WORDS[0]}" "$operand")
			_nexus_reply "$cur" "${cands[@]}"
			;;
		lang)
			local -a langs=()
			for w in default python javascript bash; do
				[[ " ${given[*]} " == *" $w "* ]] || langs+=("$w")
			done
			_nexus_reply "$cur" "${langs[@]}"
			;;
		esac
	elif [[ -z $cur && -z $dashdash ]]; then
		_nexus_reply "$cur" $opts
	fi
	return 0
}

complete -F _nexus nexus
