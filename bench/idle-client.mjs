// Opens N keep-alive connections to 127.0.0.1:PORT, each completing one request, in batches of 100, prints
// "open N" and holds them until stdin closes or `seconds` pass.
import { connect } from "node:net";

const [port, count, seconds] = process.argv.slice(2).map(Number);
const request = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
const sockets = [];
let failed = 0;
for (let done = 0; done < count; done += 100) {
  await Promise.all(Array.from({ length: Math.min(100, count - done) }, () => new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.write(request));
    s.once("data", () => resolve());
    s.on("error", () => { failed++; resolve(); });
    sockets.push(s);
  })));
}
console.log(`open ${count - failed}`);
const end = () => { for (const s of sockets) s.destroy(); process.exit(0); };
process.stdin.on("end", end).resume();
setTimeout(end, seconds * 1000);
