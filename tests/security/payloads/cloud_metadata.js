// what: the cloud metadata address 169.254.169.254 (JavaScript)
// expect-runc: ^rc=0 verdict: ENETUNREACH$
// expect-gvisor: ^rc=0 verdict: (ENETUNREACH|EHOSTUNREACH)$
const net = require("net");
const s = net.connect({ host: "169.254.169.254", port: 80, timeout: 3000 });
s.on("connect", () => { console.log("verdict: connected"); process.exit(0); });
s.on("error", (e) => { console.log("verdict: " + e.code); process.exit(0); });
s.on("timeout", () => { console.log("verdict: timeout"); process.exit(0); });
