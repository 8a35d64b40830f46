# what: egress from bash through /dev/tcp
# expect: ^rc=0 verdict: refused$
if exec 3<>/dev/tcp/192.0.2.1/80 2>/dev/null; then echo "verdict: connected"; else echo "verdict: refused"; fi
