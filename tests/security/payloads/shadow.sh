# what: reading /etc/shadow and root's home
# expect: ^rc=0 verdict: shadow=refused root_home=refused$
if cat /etc/shadow >/dev/null 2>&1; then s=read; else s=refused; fi
if ls -A /root >/dev/null 2>&1 && [ -n "$(ls -A /root 2>/dev/null)" ]; then r=read; else r=refused; fi
echo "verdict: shadow=$s root_home=$r"
