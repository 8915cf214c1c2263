// Test app for fs.ReadStream.pipe into a net Socket (tests/fs/pipe-socket.test.mjs): every connection gets the
// file /data/big.bin at once, paced by the client. For the test's memory bound it prints the size of linear
// memory at the start ("memory <bytes> at start") and when each connection ends ("memory <bytes> sent <bytes>").
import { createServer, Socket, NetError } from "eventide/net";
import * as fs from "eventide/fs";

function memoryBytes(): string {
  return (<i64>memory.size() << 16).toString();
}

console.log("memory " + memoryBytes() + " at start");
createServer((socket: Socket) => {
  socket.on("error", (err: NetError) => {}); // a client that leaves resets the connection
  socket.on("close", (hadError: bool, socket: Socket) => {
    console.log("memory " + memoryBytes() + " sent " + socket.bytesWritten.toString());
  });
  socket.resume(); // read (and drop) what the client sends, so that its FIN is seen and the socket closes
  fs.createReadStream("/data/big.bin").pipe(socket);
}).listen(8080);
