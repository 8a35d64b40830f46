// what: writing /etc/passwd, the agent and / (JavaScript)
// expect: ^rc=0 verdict: passwd=(EROFS|EACCES) agent=(EROFS|EACCES|ETXTBSY) root=(EROFS|EACCES)$
const fs = require("fs");
const t = (f) => { try { f(); return "ok"; } catch (e) { return e.code; } };
console.log("verdict: passwd=" + t(() => fs.appendFileSync("/etc/passwd", "x::0:0::/:/bin/sh\n")) +
	" agent=" + t(() => fs.writeFileSync("/.nexus/nexus-agent", "x")) +
	" root=" + t(() => fs.writeFileSync("/pwned", "x")));
