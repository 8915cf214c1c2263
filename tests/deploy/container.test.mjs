// deploy/container: the Dockerfile passes hadolint; its build stage's commands build the app from exactly the
// context its .dockerignore lets through; the runtime stage is what docs/deploy.md promises (the pinned
// wasmtime, a numeric non-root user, the one writable path), and its command line serves and drains. Where a container builder is running, the image
// is built and served from with a read-only root filesystem; elsewhere that test is skipped and says why.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, freePort, spawnTracked, waitForPort, within } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";
import { tool, startImageCommand } from "./tools.mjs";

const DIR = join(ROOT, "deploy/container");
const DOCKERFILE = join(DIR, "Dockerfile");
const text = readFileSync(DOCKERFILE, "utf8");
const stages = text.split(/^FROM /m).slice(1).map((s) => "FROM " + s);
const runtime = stages.at(-1);

/** The RUN commands of a stage, continuation lines joined, with its ARG defaults substituted. */
function runCommands(stage) {
  const args = Object.fromEntries([...stage.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  return [...stage.replace(/\\\n\s*/g, " ").matchAll(/^RUN (.*)$/gm)]
    .map((m) => m[1].replace(/"?\$\{(\w+)\}"?/g, (_, name) => args[name]));
}

/** Whether a container builder answers (docker with a running daemon). */
function builder() {
  return spawnSync("docker", ["info"], { stdio: "ignore", timeout: 10_000 }).status === 0;
}

describe("deploy/container", () => {
  it("passes hadolint", () => {
    const r = spawnSync(tool("hadolint"), [DOCKERFILE], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("builds wasmtime at the pinned release, with the features the test suite's wasmtime has", () => {
    const ensure = readFileSync(join(ROOT, "scripts/ensure-wasmtime.sh"), "utf8");
    const [, pinned, features] = /^\s*lts\) PINNED=(\S+) [^]*?FEATURES=(\S+)$/m.exec(ensure);
    assert.match(stages[0], new RegExp(`^ARG WASMTIME_VERSION=${pinned.replace(/\./g, "\\.")}$`, "m"));
    assert.deepEqual(/--features (\S+)/.exec(stages[0])[1].split(",").sort(), features.split(",").sort());
  });

  it("runs the app as a numeric non-root user, under eventide (which drains on SIGTERM), with one writable path", () => {
    const [, user, group] = /^USER (\d+):(\d+)$/m.exec(runtime) ?? [];
    assert.ok(Number(user) > 0 && Number(group) > 0, "USER is numeric and not root");
    assert.doesNotMatch(runtime.slice(runtime.indexOf("\nUSER ")), /^RUN /m, "nothing runs after USER: the image is complete before it");
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(runtime)[1]);
    assert.deepEqual(entrypoint.slice(0, 3), ["node", "/opt/eventide/dist/host/cli.js", "run"]);
    assert.ok(entrypoint.includes("--engine") && entrypoint.includes("wasmtime"));
    assert.match(runtime, /EVENTIDE_WASMTIME=\/opt\/eventide\/wasmtime\/bin\/wasmtime/);
    assert.match(runtime, /XDG_CACHE_HOME=\/var\/cache\/eventide/);
  });

  it("has an ENTRYPOINT and CMD that, run from this checkout, serve and drain on SIGTERM (exit 0)", async () => {
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(runtime)[1]);
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(runtime)[1]);
    const app = await startImageCommand(entrypoint, cmd);
    assert.equal((await get(app.port, "/")).body, "Hello World\n");
    app.child.kill("SIGTERM");
    assert.deepEqual(await within(app.exited, 30_000, "eventide to drain"), { code: 0, signal: null }, app.stderr);
  });

  it("builds the app from exactly the context Dockerfile.dockerignore lets through", { timeout: 240_000 }, () => {
    const allowed = readFileSync(join(DIR, "Dockerfile.dockerignore"), "utf8").split("\n")
      .filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    const context = mkdtempSync(join(tmpdir(), "eventide-context-"));
    try {
      for (const path of allowed) cpSync(join(ROOT, path), join(context, path), { recursive: true });
      // `npm ci` would fetch what this checkout's node_modules already holds, at the versions of its lock file.
      symlinkSync(join(ROOT, "node_modules"), join(context, "node_modules"));
      const build = stages.find((s) => /^FROM \S+ AS build$/m.test(s));
      const commands = runCommands(build).filter((c) => !c.startsWith("npm ci"));
      for (const command of commands) {
        const out = command.replace(/\/out\//g, join(context, "out") + "/");
        const r = spawnSync("bash", ["-c", out], { cwd: context, encoding: "utf8", timeout: 200_000 });
        assert.equal(r.status, 0, `${command}\n${r.stdout}${r.stderr}`);
      }
      assert.ok(existsSync(join(context, "out/app.wasm")), "the build stage wrote no /out/app.wasm");
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });

  it("builds, and serves from a read-only root filesystem", { skip: !builder() && "no container builder here (docker info fails): the Dockerfile is linted and its build stage run instead", timeout: 3_600_000 }, async () => {
    const tag = `eventide-test-${process.pid}`;
    execFileSync("docker", ["build", "-f", DOCKERFILE, "-t", tag, ROOT], { stdio: "inherit", timeout: 3_000_000 });
    const port = await freePort();
    const child = spawnTracked("docker", ["run", "--rm", "--read-only", "--tmpfs", "/var/cache/eventide", "-p", `127.0.0.1:${port}:8080`, tag]);
    try {
      await waitForPort(port, "127.0.0.1", 30_000);
      assert.equal((await get(port, "/")).body, "Hello World\n");
    } finally {
      child.kill("SIGTERM");
      await within(new Promise((resolve) => child.on("close", resolve)), 40_000, "the container to stop");
      spawnSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
    }
  });
});
