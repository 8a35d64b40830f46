# what: writing /proc/sys and /proc/sysrq-trigger
# expect: ^rc=0 verdict: sysctl=refused sysrq=refused core_pattern=refused$
v() { if (echo "$2" > "$1") 2>/dev/null; then echo written; else echo refused; fi; }
echo "verdict: sysctl=$(v /proc/sys/kernel/hostname pwned) sysrq=$(v /proc/sysrq-trigger b) core_pattern=$(v /proc/sys/kernel/core_pattern '|/tmp/x')"
