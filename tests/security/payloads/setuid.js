// what: starting a process as root from JavaScript (spawnSync with uid 0, gid 0)
// expect: ^rc=0 verdict: uid0=EPERM gid0=EPERM$
const { spawnSync } = require("child_process");
const t = (o) => { const r = spawnSync("/usr/bin/id", ["-u"], o); return r.error ? r.error.code : "ran as " + String(r.stdout).trim(); };
console.log("verdict: uid0=" + t({ uid: 0 }) + " gid0=" + t({ gid: 0 }));
