// The seed's echo server: greets, then sends back whatever it receives.
//   wasmtime run -S preview2=n -S tcplisten=127.0.0.1:1337 dist/examples/echo-tcp.wasm
import { createServer, NetError, Socket } from "eventide/net";

const server = createServer((socket: Socket) => {
  socket.write("Echo server\r\n");
  socket.pipe(socket);
  // As in Node, an 'error' nobody handles ends the process; a client that resets is not worth that.
  socket.on("error", (err: NetError) => { console.log("client error: " + err.code); });
});

server.listen(1337, "127.0.0.1");
