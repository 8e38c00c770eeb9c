// Drives the guest agent with cbor-x encodings (map16 headers, tag-64 byte arrays), as
// upstream's TypeScript agent client does. Usage: node cbor_x_interop.js AGENT_SOCKET
const net = require("net");
const { encode, decode } = require("cbor-x");
const sock = net.createConnection(process.argv[2]);
const flags = { "core.exec.request": 2, "core.fs.request": 2, "core.shutdown": 4 };
function send(id, t, payload) {
  const body = encode({ v: 5, t, p: encode(payload) });
  const hdr = Buffer.alloc(9);
  hdr.writeUInt32BE(body.length + 5, 0); hdr.writeUInt32BE(id, 4); hdr[8] = flags[t] || 0;
  sock.write(Buffer.concat([hdr, Buffer.from(body)]));
}
let buf = Buffer.alloc(0), out = "", done = 0;
sock.on("data", (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const len = buf.readUInt32BE(0), id = buf.readUInt32BE(4);
    const env = decode(buf.subarray(9, 4 + len)); buf = buf.subarray(4 + len);
    const p = decode(env.p);
    if (env.t === "core.exec.started") { send(id, "core.exec.stdin", { data: new Uint8Array(Buffer.from("via-cbor-x\n")) }); send(id, "core.exec.stdin", { data: new Uint8Array(0) }); }
    else if (env.t === "core.exec.stdout") out += Buffer.from(p.data).toString();
    else if (env.t === "core.exec.exited") { console.log("exec exited", p.code, JSON.stringify(out)); if (out !== "via-cbor-x\n" || p.code !== 0) process.exit(1);
      send(7, "core.fs.request", { op: { Stat: { path: "/etc/passwd", follow_symlink: true } } }); }
    else if (env.t === "core.fs.response") { console.log("fs", p.ok, p.data && p.data.Stat && p.data.Stat.kind); if (!p.ok) process.exit(1);
      send(8, "core.ping", {}); }
    else if (env.t === "core.pong") { console.log("pong"); process.exit(0); }
    else if (env.t === "core.error") { console.log("core.error", p); process.exit(1); }
  }
});
sock.on("connect", () => send(5, "core.exec.request", { cmd: "cat", args: [], env: ["A=b"], cwd: null, user: null, tty: false, rows: 24, cols: 80, rlimits: [] }));
setTimeout(() => { console.log("timeout"); process.exit(1); }, 20000);
