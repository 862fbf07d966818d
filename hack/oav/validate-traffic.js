#!/usr/bin/env node
// Validate the emulator's recorded ARM traffic against Azure's OpenAPI specs with Azure's own validator.
//
//   node hack/oav/validate-traffic.js --oav DIR --specs ../shared/reference/specs:hack/oav/specs --traffic DIR
//
// --specs: one spec tree, or several joined with ':' (each with Azure/azure-rest-api-specs' layout; they are
// merged into one temporary tree, since oav's LiveValidator reads one directory).
// --oav: the directory hack/oav/install.sh prints (holds node_modules/oav).
// --traffic: a directory of *.jsonl files, one {"operation", "liveRequest", "liveResponse"} per line,
// as the emulator writes them when AZURE_EMULATOR_TRAFFIC_DIR is set (emulator/azure_emulator/traffic.py).
//
// oav's LiveValidator is used directly because its CLI (`oav validate-traffic`) exits 0 when a request
// matches no operation. Here every pair must match an operation of the specs, that operation must be
// the one the emulator's route names, and the request and the response must have no error left after
// the allow-list (allowlist.js). Exit code 1 on any error, 2 on bad arguments or no traffic.
//
// The copied specs are older than the api-versions the SDKs send (see ../shared/reference/specs/SOURCES.md),
// so each request is validated against the nearest copied version of its resource provider that has an
// operation for its path: the newest copied version not newer than the sent one, else the oldest newer one.
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const allow = require("./allowlist.js");

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) usage(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ["oav", "specs", "traffic"]) if (!out[need]) usage(`--${need} is required`);
  return out;
}

function usage(message) {
  console.error(`validate-traffic: ${message}\nusage: validate-traffic.js --oav DIR --specs DIR --traffic DIR`);
  process.exit(2);
}

/** Every `.../Microsoft.X/.../(stable|preview)/VERSION/*.json` under the specs: namespace -> versions. */
function catalog(specs) {
  const versions = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".json")) {
        const parts = full.split(path.sep);
        const at = parts.findIndex((p) => p === "stable" || p === "preview");
        const ns = parts.find((p) => /^Microsoft\.[A-Za-z]+$/.test(p));
        if (at < 0 || !ns) continue;
        const key = ns.toLowerCase();
        if (!versions.has(key)) versions.set(key, new Set());
        versions.get(key).add(parts[at + 1]);
      }
    }
  };
  walk(specs);
  return new Map([...versions].map(([k, v]) => [k, [...v].sort()]));
}

/** The resource provider a URL addresses: the namespace after its last `/providers/`. */
function namespaceOf(pathname) {
  const m = [...pathname.matchAll(/\/providers\/([^/]+)/gi)];
  return m.length ? decodeURIComponent(m[m.length - 1][1]).toLowerCase() : undefined;
}

/** Copied versions in order of preference for a sent version: newest not newer, then oldest newer. */
function candidates(copied, sent) {
  const older = copied.filter((v) => v <= sent).reverse();
  const newer = copied.filter((v) => v > sent);
  return [...older, ...newer];
}

/** One directory holding every spec tree given (the first one itself when it is the only one). */
function mergedSpecs(trees) {
  if (trees.length === 1) return path.resolve(trees[0]);
  const os = require("os");
  const merged = fs.mkdtempSync(path.join(os.tmpdir(), "specs-"));
  process.on("exit", () => fs.rmSync(merged, { recursive: true, force: true }));
  for (const tree of trees) fs.cpSync(path.resolve(tree), merged, { recursive: true });
  return merged;
}

function withVersion(url, version) {
  const u = new URL(url);
  u.searchParams.set("api-version", version);
  return u.toString();
}

function readTraffic(dir) {
  const pairs = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (!name.endsWith(".jsonl")) continue;
    const lines = fs.readFileSync(path.join(dir, name), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        pairs.push({ where: `${name}:${i + 1}`, ...JSON.parse(line) });
      } catch (e) {
        // only the last line of a file may be cut short (an emulator process killed while writing)
        if (lines.slice(i + 1).some((l) => l.trim())) throw new Error(`${name}:${i + 1}: ${e.message}`);
      }
    });
  }
  return pairs;
}

/** Whether an issue is allow-listed: matched on code and on the path of the payload it points at. */
function allowed(issue, operationId, source) {
  const where = (issue.pathsInPayload || []).join(" ");
  return allow.ISSUES.find(
    (a) =>
      (a.operations === undefined || a.operations.includes(operationId)) &&
      (a.source === undefined || a.source === source) &&
      a.code === issue.code &&
      (a.path === undefined || a.path.test(where)),
  );
}

async function main() {
  const opts = args(process.argv.slice(2));
  const oavRequire = createRequire(path.join(path.resolve(opts.oav), "node_modules", "oav", "package.json"));
  const { LiveValidator } = oavRequire("./dist/index.js");
  const specs = mergedSpecs(opts.specs.split(path.delimiter).filter(Boolean));
  const pairs = readTraffic(opts.traffic);
  if (pairs.length === 0) usage(`no traffic in ${opts.traffic}`);
  const versions = catalog(specs);

  const validator = new LiveValidator({
    directory: specs,
    swaggerPathsPattern: ["**/*.json"],
    excludedSwaggerPathsPattern: ["**/examples/**/*", "**/common-types/**/*"],
    git: { shouldClone: false },
    isPathCaseSensitive: false,
    loadValidatorInBackground: false,
  });
  await validator.initialize();

  const errors = [];
  const operations = new Set();
  const used = new Map(); // allow-list entry -> times it hid an issue
  const skipped = new Map(); // emulator operation without a copied spec -> pairs
  let validated = 0;
  let unrouted = 0;
  let refused = 0;
  for (const pair of pairs) {
    const { liveRequest, liveResponse, operation, where } = pair;
    if (operation === "Unknown") {
      // a path or method the emulator does not serve, answered 404 InvalidResourceType / 405 as ARM does
      unrouted += 1;
      continue;
    }
    if (allow.NO_SPEC[operation] !== undefined) {
      skipped.set(operation, (skipped.get(operation) || 0) + 1);
      continue;
    }
    const answeredError = /^[45]/.test(String(liveResponse.statusCode));
    const url = new URL(liveRequest.url);
    const ns = namespaceOf(url.pathname);
    const sent = url.searchParams.get("api-version") || "";
    const copied = versions.get(ns) || [];
    let match;
    for (const version of candidates(copied, sent)) {
      const request = { ...liveRequest, url: withVersion(liveRequest.url, version) };
      const { info, error } = validator.getOperationInfo(request);
      if (!error && info.operationId) {
        match = { request, version, operationId: info.operationId };
        break;
      }
    }
    const label = `${where} ${liveRequest.method} ${url.pathname} (${operation}, ${liveResponse.statusCode})`;
    if (!match) {
      errors.push(`${label}: no operation in the copied specs of ${ns || "?"} (${copied.join(", ") || "none"})`);
      continue;
    }
    const expected = allow.SAME_OPERATION[operation] || operation;
    if (match.operationId.toLowerCase() !== expected.toLowerCase()) {
      errors.push(`${label}: the spec's operation is ${match.operationId}`);
    }
    const result = await validator.validateLiveRequestResponse({ liveRequest: match.request, liveResponse });
    validated += 1;
    operations.add(match.operationId);
    // A request the spec finds invalid must have been refused: its issues are then the reason for the
    // 4xx answer (tests send such requests on purpose), and only the answer itself is checked.
    if (answeredError && (result.requestValidationResult.errors || []).length) refused += 1;
    for (const [source, part] of [
      ["request", result.requestValidationResult],
      ["response", result.responseValidationResult],
    ]) {
      if (part.runtimeException) errors.push(`${label} ${source}: ${JSON.stringify(part.runtimeException)}`);
      if (source === "request" && answeredError) continue;
      for (const issue of part.errors || []) {
        const entry = allowed(issue, match.operationId, source);
        if (entry) {
          used.set(entry, (used.get(entry) || 0) + 1);
          continue;
        }
        const at = (issue.pathsInPayload || []).join(", ");
        errors.push(`${label} ${source} (spec ${match.version}): ${issue.code} at ${at}: ${issue.message}`);
      }
    }
    if (result.runtimeException) errors.push(`${label}: ${JSON.stringify(result.runtimeException)}`);
  }

  const unused = allow.ISSUES.filter((a) => !used.has(a));
  console.log(`oav ${oavRequire("./package.json").version}: ${pairs.length} recorded pairs`);
  console.log(`  operations validated: ${operations.size}`);
  console.log(`  pairs validated: ${validated}`);
  console.log(
    `  allow-listed fields: ${allow.ISSUES.length} (hid ${[...used.values()].reduce((a, b) => a + b, 0)} issues)`,
  );
  for (const a of allow.ISSUES) console.log(`    ${used.get(a) || 0}x ${a.code} ${a.path || ""}: ${a.why}`);
  if (skipped.size) {
    const list = [...skipped].map(([op, n]) => `${op} (${n})`).join(", ");
    console.log(`  not validated, no copied spec: ${list}`);
  }
  if (unrouted) console.log(`  not validated, no emulator route (answered 404/405): ${unrouted}`);
  if (refused) console.log(`  invalid requests the emulator refused (4xx): ${refused}`);
  if (unused.length) console.log(`  allow-list entries no traffic needed: ${unused.length}`);
  if (errors.length) {
    console.log(`\n${errors.length} errors:`);
    for (const e of errors) console.log(`  ${e}`);
    process.exit(1);
  }
  console.log("  errors: 0");
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
