// deploy/kubernetes: the manifests validate against the Kubernetes schemas (strict: an unknown or misspelt
// field fails), the numbers that must agree do (the drain fits in terminationGracePeriodSeconds, the app's cap
// under the container's), the ports, volume and user match the image's, and the container's args make a
// working `eventide run` command line.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, within } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";
import { tool, readYamlDocuments, startImageCommand } from "./tools.mjs";

const MANIFEST = join(ROOT, "deploy/kubernetes/eventide.yaml");
// The oldest Kubernetes release the manifests are checked against, and the newest kubernetes-validate knows.
const KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"];
const MiB = 2 ** 20;

/** A Kubernetes quantity (128Mi, 1Gi, 500M) in bytes. */
function bytes(quantity) {
  const [, n, unit] = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  return Number(n) * ({ Ki: 1024, Mi: MiB, Gi: 1024 * MiB, k: 1e3, M: 1e6, G: 1e9 }[unit] ?? 1);
}

/** The value after `flag` in an argument list. */
const flagValue = (args, flag) => args[args.indexOf(flag) + 1];

describe("deploy/kubernetes", () => {
  let deployment;
  let service;
  let container;
  before(() => {
    const docs = readYamlDocuments(MANIFEST);
    deployment = docs.find((d) => d.kind === "Deployment");
    service = docs.find((d) => d.kind === "Service");
    container = deployment.spec.template.spec.containers[0];
  });

  for (const version of KUBERNETES_VERSIONS) {
    it(`validates against the Kubernetes ${version} schemas, strictly`, () => {
      const r = spawnSync(tool("kubernetes-validate"), ["--strict", "--kubernetes-version", version, MANIFEST], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal((r.stdout.match(/ passed for resource /g) ?? []).length, 2, r.stdout);
    });
  }

  it("gives the drain its time: preStop + --grace fit in terminationGracePeriodSeconds", () => {
    const preStop = container.lifecycle.preStop.exec.command;
    assert.equal(preStop[0], "sleep");
    const graceMs = Number(flagValue(container.args, "--grace"));
    const budget = deployment.spec.template.spec.terminationGracePeriodSeconds;
    assert.ok(Number(preStop[1]) + graceMs / 1000 < budget,
      `preStop ${preStop[1]} s + --grace ${graceMs} ms leave nothing of terminationGracePeriodSeconds ${budget} before the SIGKILL`);
  });

  it("keeps the app's memory cap under the container's limit, and the rollout without unavailable pods", () => {
    const cap = bytes(flagValue(container.args, "--memory-limit").replace(/m$/, "Mi"));
    assert.ok(cap + 64 * MiB <= bytes(container.resources.limits.memory), "--memory-limit leaves the host less than 64 MiB of the container's memory");
    assert.ok(container.resources.requests.cpu && container.resources.limits.cpu);
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
  });

  it("runs as non-root on a read-only root filesystem, writing only to wasmtime's cache volume, which the image names", () => {
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    const [mount] = container.volumeMounts;
    assert.ok(pod.volumes.find((v) => v.name === mount.name).emptyDir, "the cache is an emptyDir");
    const dockerfile = readFileSync(join(ROOT, "deploy/container/Dockerfile"), "utf8");
    assert.match(dockerfile, new RegExp(`XDG_CACHE_HOME=${mount.mountPath}\\b`), "the image's XDG_CACHE_HOME is the mounted path");
    assert.match(dockerfile, new RegExp(`^USER ${pod.securityContext.runAsUser}:`, "m"), "the pod's runAsUser is the image's USER");
  });

  it("gives the image's ENTRYPOINT args that, run from this checkout, serve and drain on SIGTERM (exit 0)", async () => {
    const dockerfile = readFileSync(join(ROOT, "deploy/container/Dockerfile"), "utf8");
    const app = await startImageCommand(JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)[1]), container.args);
    assert.equal((await get(app.port, container.readinessProbe.httpGet.path)).status, 200);
    app.child.kill("SIGTERM");
    assert.deepEqual(await within(app.exited, 30_000, "eventide to drain"), { code: 0, signal: null }, app.stderr);
  });

  it("points the Service and the probes at the container's named port", () => {
    const port = container.ports.find((p) => p.name === service.spec.ports[0].targetPort);
    assert.ok(port, `no container port named ${service.spec.ports[0].targetPort}`);
    assert.equal(Number(flagValue(container.args, "--listen").split(":").at(-1)), port.containerPort);
    for (const probe of [container.livenessProbe, container.readinessProbe]) assert.equal(probe.httpGet.port, port.name);
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  });
});
