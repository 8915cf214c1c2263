// Eventide inside Node through the embedding API; SIGUSR2 prints the app's linear memory size to stderr.
import { run } from "../../dist/host/index.js";

const app = await run(process.argv[2], { listen: [`127.0.0.1:${process.env.PORT}`], engine: "node" });
process.on("SIGUSR2", () => process.stderr.write(`linear-memory ${app.memoryBytes}\n`));
process.on("SIGTERM", () => app.stop(1000).then(() => process.exit(0)));
