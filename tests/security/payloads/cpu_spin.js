// what: CPU spin past the timeout (JavaScript)
// options: --timeout 2
// expect: ^rc=124
for (;;) {}
