// The seed's echo server: greets, then sends back whatever it receives.
//   wasmtime run -S preview2=n -S tcplisten=127.0.0.1:1337 dist/examples/echo-tcp.wasm
import { createServer, Socket } from "../assembly/net";

const server = createServer((socket: Socket) => {
  socket.write("Echo server\r\n");
  socket.pipe(socket);
});

server.listen(1337, "127.0.0.1");
