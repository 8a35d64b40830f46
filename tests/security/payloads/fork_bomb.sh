# what: fork bomb (bash)
# options: --timeout 5
# expect: ^rc=124
:(){ :|:& };:
sleep 60
