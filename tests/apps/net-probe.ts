// Test app: reports what it received when the client half-closes, and exercises idle timeouts.
// A connection whose first byte is 'T' gets a 100 ms idle timeout; on 'timeout' it writes "timeout\n".
// One whose first byte is 'A' is told its peer's address: "peer <remoteAddress> <remotePort>\n".
import { createServer, Socket, NetError } from "eventide/net";
import { Buffer } from "eventide/buffer";

const server = createServer((socket: Socket) => {
  socket.setAllowHalfOpen(true);
  socket.on("data", (chunk: Buffer, s: Socket) => {
    if (s.bytesRead == <u64>chunk.length && chunk.length > 0 && chunk[0] == 0x54) s.setTimeout(100);
    if (s.bytesRead == <u64>chunk.length && chunk.length > 0 && chunk[0] == 0x41) {
      const address = s.remoteAddress;
      s.end("peer " + (address != null ? address : "null") + " " + s.remotePort.toString() + "\n");
    }
  });
  socket.on("end", (s: Socket) => {
    s.end("received " + s.bytesRead.toString() + "\n");
  });
  socket.on("timeout", (s: Socket) => {
    s.end("timeout\n");
  });
  socket.on("error", (err: NetError) => {
    console.log("socket error " + err.code);
  });
});
server.listen(0);
