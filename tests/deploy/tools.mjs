// The deploy checks' tools (tests/deploy/ensure-tools.sh installs them once into the user cache) and the
// YAML reader they share: PyYAML, which kubernetes-validate brings along into the same virtualenv.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../helpers/engines.mjs";

let bin;
/** The path of a tool of the deploy checks' virtualenv: "kubernetes-validate", "hadolint" or "python". */
export function tool(name) {
  bin ??= execFileSync("bash", [join(ROOT, "tests/deploy/ensure-tools.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  return join(bin, name);
}

/** Every document of a YAML file, as plain objects. */
export function readYamlDocuments(path) {
  const json = execFileSync(tool("python"), ["-c",
    "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))", path],
  { encoding: "utf8" });
  return JSON.parse(json);
}
