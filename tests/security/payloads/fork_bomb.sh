# what: fork bomb (bash)
# sandbox: own
# options: --timeout 5
# expect: ^rc=124
:(){ :|:& };:
sleep 60
