// Fault-injecting HTTP proxy for the ldap2scim integration tests.
//
// Sits in front of the test SCIM server (test/scim-server) and forwards every
// request to it; at run time a test configures, through /_fault/, which
// requests get throttled (429), refused (503), reset, stalled or answered with
// a hostile body. The upstream stays the truth: the proxy only adds faults.
// Node.js standard library only. See README.md for the control API.
//
//   node proxy.js --upstream http://127.0.0.1:PORT --port 0 --port-file FILE [--seed N] [--verbose]

"use strict";

const fs = require("node:fs");
const http = require("node:http");
const {performance} = require("node:perf_hooks");

const FAULTS = ["429", "503", "reset_before", "reset_after", "stall_before", "stall_after", "delay",
    "partial_after"];
const DEFAULT_FAULTS = ["429", "503", "reset_before", "reset_after", "stall_before", "stall_after"];
const HOSTILE = ["notjson", "huge", "deep", "noid", "wrongtype", "empty"];
const CONFIG_KEYS = ["seed", "rate", "faults", "retryAfter", "retryAfter503", "stallMs", "delayMs",
    "match", "script", "hostile"];
const MATCH_KEYS = ["methods", "path", "url"];
const SCRIPT_KEYS = ["n", "fault", "retryAfter", "retryAfter503", "stallMs", "delayMs"];
const HOSTILE_KEYS = ["method", "path", "url", "mode", "times", "forward", "status", "size", "depth", "chunked"];
const HUGE_SIZE = 9 * 1024 * 1024;
const DEEP_LEVELS = 10000;
const MAX_REQUEST_BODY = 64 * 1024 * 1024;
const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

function usage(msg) {
    if (msg) process.stderr.write(`fault-proxy: ${msg}\n`);
    process.stderr.write("usage: node proxy.js --upstream http://HOST:PORT [--port PORT] [--port-file FILE] [--seed N] [--verbose]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {upstream: null, port: 0, portFile: null, seed: 1, verbose: false};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`option '${arg}' needs a value`);
            return argv[++i];
        };
        if (arg === "--upstream") opts.upstream = value();
        else if (arg === "--port") opts.port = Number(value());
        else if (arg === "--port-file") opts.portFile = value();
        else if (arg === "--seed") opts.seed = Number(value());
        else if (arg === "--verbose" || arg === "-v") opts.verbose = true;
        else if (arg === "--help" || arg === "-h") usage();
        else usage(`unknown option '${arg}'`);
    }
    if (!opts.upstream) usage("--upstream is required");
    let url;
    try {
        url = new URL(opts.upstream);
    } catch {
        usage(`invalid upstream '${opts.upstream}'`);
    }
    if (url.protocol !== "http:") usage(`upstream '${opts.upstream}' is not http://`);
    if (url.pathname !== "/" || url.search) usage(`upstream '${opts.upstream}' must have no path`);
    opts.upHost = url.hostname.replace(/^\[|\]$/g, "");
    opts.upPort = Number(url.port || 80);
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage("invalid port");
    if (!Number.isInteger(opts.seed)) usage("invalid seed");
    return opts;
}

const opts = parseArgs(process.argv.slice(2));
const upstreamAgent = new http.Agent({keepAlive: true, maxSockets: 64});

function now() {
    return performance.timeOrigin + performance.now();
}

function verbose(line) {
    if (opts.verbose) process.stderr.write(`fault-proxy: ${line}\n`);
}

// mulberry32: a small seeded PRNG, uniform in [0, 1)
function makeRng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

// ---------------------------------------------------------------------------
// configuration

class ConfigError extends Error {}

function checkKeys(obj, allowed, where) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj))
        throw new ConfigError(`'${where}' must be an object`);
    for (const key of Object.keys(obj))
        if (!allowed.includes(key)) throw new ConfigError(`unknown key '${key}' in '${where}'`);
}

function checkRetryAfter(v, where) {
    if (v === undefined || v === null) return v ?? null;
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
    if (typeof v === "string" && v.length && !/[\r\n]/.test(v)) return v;
    throw new ConfigError(`'${where}' must be a number of seconds, a string or null`);
}

function checkMs(v, where, dflt) {
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ConfigError(`'${where}' must be milliseconds >= 0`);
    return v;
}

function checkRegex(v, where) {
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw new ConfigError(`'${where}' must be a regular expression string`);
    try {
        return new RegExp(v);
    } catch (ex) {
        throw new ConfigError(`'${where}' is not a valid regular expression: ${ex.message}`);
    }
}

function checkMatch(m) {
    const out = {methods: null, path: null, url: null};
    if (m === undefined || m === null) return out;
    checkKeys(m, MATCH_KEYS, "match");
    if (m.methods !== undefined && m.methods !== null) {
        if (!Array.isArray(m.methods) || m.methods.some((x) => typeof x !== "string"))
            throw new ConfigError("'match.methods' must be an array of strings");
        out.methods = m.methods.map((x) => x.toUpperCase());
    }
    out.path = checkRegex(m.path, "match.path");
    out.url = checkRegex(m.url, "match.url");
    return out;
}

function normalize(raw) {
    checkKeys(raw, CONFIG_KEYS, "config");
    const c = {};
    c.seed = raw.seed ?? opts.seed;
    if (!Number.isInteger(c.seed)) throw new ConfigError("'seed' must be an integer");
    c.rate = raw.rate ?? 0;
    if (typeof c.rate !== "number" || !(c.rate >= 0 && c.rate <= 1)) throw new ConfigError("'rate' must be a number in [0, 1]");
    c.faults = raw.faults ?? DEFAULT_FAULTS.slice();
    if (!Array.isArray(c.faults)) throw new ConfigError("'faults' must be an array");
    for (const f of c.faults)
        if (!FAULTS.includes(f)) throw new ConfigError(`unknown fault '${f}' (known: ${FAULTS.join(", ")})`);
    if (c.rate > 0 && !c.faults.length) throw new ConfigError("'faults' is empty but 'rate' is not 0");
    c.retryAfter = raw.retryAfter === undefined ? 1 : checkRetryAfter(raw.retryAfter, "retryAfter");
    c.retryAfter503 = checkRetryAfter(raw.retryAfter503, "retryAfter503");
    c.stallMs = checkMs(raw.stallMs, "stallMs", 4000);
    c.delayMs = checkMs(raw.delayMs, "delayMs", 500);
    c.match = checkMatch(raw.match);

    c.script = new Map();
    if (raw.script !== undefined && raw.script !== null) {
        if (!Array.isArray(raw.script)) throw new ConfigError("'script' must be an array");
        raw.script.forEach((s, i) => {
            const where = `script[${i}]`;
            checkKeys(s, SCRIPT_KEYS, where);
            if (!Number.isInteger(s.n) || s.n < 1) throw new ConfigError(`'${where}.n' must be an integer >= 1`);
            if (s.fault !== "none" && !FAULTS.includes(s.fault))
                throw new ConfigError(`unknown fault '${s.fault}' in '${where}' (known: none, ${FAULTS.join(", ")})`);
            if (c.script.has(s.n)) throw new ConfigError(`'${where}': request ${s.n} is scripted twice`);
            c.script.set(s.n, {
                fault: s.fault,
                retryAfter: s.retryAfter === undefined ? c.retryAfter : checkRetryAfter(s.retryAfter, `${where}.retryAfter`),
                retryAfter503: s.retryAfter503 === undefined ? c.retryAfter503
                    : checkRetryAfter(s.retryAfter503, `${where}.retryAfter503`),
                stallMs: checkMs(s.stallMs, `${where}.stallMs`, c.stallMs),
                delayMs: checkMs(s.delayMs, `${where}.delayMs`, c.delayMs),
            });
        });
    }

    c.hostile = [];
    if (raw.hostile !== undefined && raw.hostile !== null) {
        if (!Array.isArray(raw.hostile)) throw new ConfigError("'hostile' must be an array");
        raw.hostile.forEach((h, i) => {
            const where = `hostile[${i}]`;
            checkKeys(h, HOSTILE_KEYS, where);
            if (!HOSTILE.includes(h.mode)) throw new ConfigError(`unknown hostile mode '${h.mode}' (known: ${HOSTILE.join(", ")})`);
            if (h.method !== undefined && typeof h.method !== "string") throw new ConfigError(`'${where}.method' must be a string`);
            const times = h.times ?? 1;
            if (!Number.isInteger(times) || times < -1) throw new ConfigError(`'${where}.times' must be an integer >= 0, or -1 for always`);
            if (h.forward !== undefined && typeof h.forward !== "boolean") throw new ConfigError(`'${where}.forward' must be a boolean`);
            if (h.chunked !== undefined && typeof h.chunked !== "boolean") throw new ConfigError(`'${where}.chunked' must be a boolean`);
            if (h.status !== undefined && !(Number.isInteger(h.status) && h.status >= 200 && h.status <= 599))
                throw new ConfigError(`'${where}.status' must be an HTTP status`);
            if (h.size !== undefined && !(Number.isInteger(h.size) && h.size >= 0)) throw new ConfigError(`'${where}.size' must be bytes >= 0`);
            if (h.depth !== undefined && !(Number.isInteger(h.depth) && h.depth >= 1)) throw new ConfigError(`'${where}.depth' must be >= 1`);
            c.hostile.push({
                raw: h,
                mode: h.mode,
                method: h.method === undefined ? null : h.method.toUpperCase(),
                path: checkRegex(h.path, `${where}.path`),
                url: checkRegex(h.url, `${where}.url`),
                left: times,
                forward: h.forward ?? true,
                status: h.status ?? null,
                size: h.size ?? HUGE_SIZE,
                depth: h.depth ?? DEEP_LEVELS,
                chunked: h.chunked ?? false,
            });
        });
    }
    return c;
}

function describe(c) {
    const re = (r) => (r ? r.source : null);
    return {
        seed: c.seed,
        rate: c.rate,
        faults: c.faults,
        retryAfter: c.retryAfter,
        retryAfter503: c.retryAfter503,
        stallMs: c.stallMs,
        delayMs: c.delayMs,
        match: {methods: c.match.methods, path: re(c.match.path), url: re(c.match.url)},
        script: [...c.script].map(([n, s]) => ({n, ...s})),
        hostile: c.hostile.map((h) => ({...h.raw, left: h.left})),
        matched: state.matched,
    };
}

let config;
let state;
let log = [];
// requests being proxied right now, and the most there were at once since
// the last reset (stats: inFlight, peakInFlight)
let inFlight = 0;
let peakInFlight = 0;

function applyConfig(c) {
    config = c;
    state = {matched: 0, rng: makeRng(c.seed)};
}

applyConfig(normalize({}));

// ---------------------------------------------------------------------------
// fault selection: called once per proxied request, in arrival order

function pathMatches(method, pathname, url, m) {
    if (m.method && m.method !== method) return false;
    if (m.methods && !m.methods.includes(method)) return false;
    if (m.path && !m.path.test(pathname)) return false;
    if (m.url && !m.url.test(url)) return false;
    return true;
}

function decide(method, pathname, url) {
    for (const h of config.hostile) {
        if (h.left === 0) continue;
        if (!pathMatches(method, pathname, url, h)) continue;
        if (h.left > 0) h.left--;
        return {hostile: h, kind: h.mode};
    }
    if (!pathMatches(method, pathname, url, config.match)) return null;
    const n = ++state.matched;
    // two draws for every matching request, scripted or not, so a script
    // never shifts the random sequence of the requests after it
    const draw = state.rng();
    const pick = state.rng();
    const scripted = config.script.get(n);
    if (scripted) return scripted.fault === "none" ? null : {kind: scripted.fault, opts: scripted};
    if (config.faults.length && draw < config.rate) {
        const kind = config.faults[Math.min(config.faults.length - 1, Math.floor(pick * config.faults.length))];
        return {kind, opts: config};
    }
    return null;
}

// ---------------------------------------------------------------------------
// proxying

function scimErrorBody(status, detail) {
    return Buffer.from(JSON.stringify({schemas: [ERROR_SCHEMA], status: String(status), detail}));
}

function readBody(req) {
    return new Promise((resolve) => {
        const chunks = [];
        let size = 0;
        let done = false;
        const finish = (v) => {
            if (!done) {
                done = true;
                resolve(v);
            }
        };
        req.on("data", (c) => {
            size += c.length;
            if (size > MAX_REQUEST_BODY) {
                req.destroy();
                finish(null);
                return;
            }
            chunks.push(c);
        });
        req.on("end", () => finish(Buffer.concat(chunks)));
        req.on("error", () => finish(null));
        req.on("close", () => finish(req.complete ? Buffer.concat(chunks) : null));
    });
}

function stripHopByHop(headers) {
    const out = {};
    for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.includes(k.toLowerCase())) out[k] = v;
    return out;
}

// forward REQ with BODY upstream; resolves {status, headers, body} or
// rejects with the transport error. One retry when a kept-alive upstream
// socket turns out to be closed before any answer.
function forward(req, body, retried = false) {
    return new Promise((resolve, reject) => {
        const headers = stripHopByHop(req.headers);
        delete headers["content-length"];
        delete headers["expect"];
        if (body.length || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(req.method))
            headers["content-length"] = String(body.length);
        const up = http.request({
            host: opts.upHost,
            port: opts.upPort,
            method: req.method,
            path: req.url,
            headers,
            agent: upstreamAgent,
        }, (ur) => {
            const chunks = [];
            ur.on("data", (c) => chunks.push(c));
            ur.on("end", () => resolve({status: ur.statusCode, headers: ur.headers, body: Buffer.concat(chunks)}));
            ur.on("error", reject);
            ur.on("aborted", () => reject(new Error("upstream aborted the response")));
        });
        up.on("error", (err) => {
            if (!retried && up.reusedSocket && err.code === "ECONNRESET")
                forward(req, body, true).then(resolve, reject);
            else
                reject(err);
        });
        up.end(body);
    });
}

function clientGone(res) {
    return res.destroyed || res.writableEnded || !res.socket || res.socket.destroyed;
}

// answer STATUS with HEADERS and BODY (a Buffer), unless the client left
function send(res, entry, status, headers, body, chunked = false) {
    if (clientGone(res)) {
        entry.note = "client disconnected";
        return;
    }
    const h = stripHopByHop(headers);
    for (const k of Object.keys(h))
        if (k.toLowerCase() === "content-length") delete h[k];
    entry.status = status;
    try {
        if (chunked) {
            res.writeHead(status, h);
            const step = 64 * 1024;
            for (let off = 0; off < body.length; off += step) res.write(body.subarray(off, off + step));
            res.end();
        } else {
            h["content-length"] = String(body.length);
            res.writeHead(status, h);
            res.end(body);
        }
    } catch (ex) {
        entry.note = `cannot answer: ${ex.message}`;
    }
}

// drop the client connection without an answer: a TCP reset when possible
function kill(req, res) {
    const sock = res.socket ?? req.socket;
    if (!sock || sock.destroyed) return;
    if (typeof sock.resetAndDestroy === "function") {
        try {
            sock.resetAndDestroy();
            return;
        } catch {
            // fall through
        }
    }
    sock.destroy();
}

function sleep(ms, res) {
    // resolves after MS, or early when the client goes away
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            res.removeListener("close", done);
            resolve();
        }
        res.on("close", done);
    });
}

function upstreamFailed(res, entry, err) {
    entry.note = `upstream failed: ${err.code ?? err.message}`;
    verbose(`upstream failed for ${entry.method} ${entry.path}: ${err.code ?? err.message}`);
    send(res, entry, 502, {"content-type": "application/scim+json"},
        scimErrorBody(502, `fault-proxy: upstream ${opts.upHost}:${opts.upPort} failed: ${err.code ?? err.message}`));
}

async function handle(req, res, entry, decision) {
    const body = await readBody(req);
    if (body === null) {
        entry.note = "client disconnected while sending";
        return;
    }
    const kind = decision ? decision.kind : null;

    if (decision && decision.hostile) return hostile(req, res, entry, decision.hostile, body);

    switch (kind) {
    case "429": {
        const h = {"content-type": "application/scim+json"};
        if (decision.opts.retryAfter !== null) h["retry-after"] = String(decision.opts.retryAfter);
        return send(res, entry, 429, h, scimErrorBody(429, "fault-proxy: too many requests"));
    }
    case "503": {
        const h = {"content-type": "application/scim+json"};
        if (decision.opts.retryAfter503 !== null) h["retry-after"] = String(decision.opts.retryAfter503);
        return send(res, entry, 503, h, scimErrorBody(503, "fault-proxy: service unavailable"));
    }
    case "reset_before":
        return kill(req, res);
    case "stall_before":
        await sleep(decision.opts.stallMs, res);
        if (clientGone(res)) entry.note = "client disconnected during the stall";
        return kill(req, res);
    case "delay":
        await sleep(decision.opts.delayMs, res);
        if (clientGone(res)) {
            entry.note = "client disconnected";
            return;
        }
        break;
    default:
        break;
    }

    let up;
    entry.forwarded = true;
    try {
        up = await forward(req, body);
    } catch (err) {
        return upstreamFailed(res, entry, err);
    }
    entry.upstreamStatus = up.status;
    if (kind === "reset_after") return kill(req, res);
    if (kind === "partial_after") return partial(req, res, entry, up);
    if (kind === "stall_after") {
        await sleep(decision.opts.stallMs, res);
        if (clientGone(res)) entry.note = "client disconnected during the stall";
        return kill(req, res);
    }
    return send(res, entry, up.status, up.headers, up.body);
}

// send the upstream status line, headers (with the full Content-Length) and
// half the body, then close: the client sees a truncated answer after the
// write happened, which libcurl does not retry by itself
function partial(req, res, entry, up) {
    if (clientGone(res)) {
        entry.note = "client disconnected";
        return;
    }
    const h = stripHopByHop(up.headers);
    for (const k of Object.keys(h))
        if (k.toLowerCase() === "content-length") delete h[k];
    const full = up.body.length ? up.body : Buffer.from("{}");
    h["content-length"] = String(full.length);
    entry.status = up.status;
    entry.note = "truncated";
    res.writeHead(up.status, h);
    res.write(full.subarray(0, Math.floor(full.length / 2)), () => {
        const sock = res.socket ?? req.socket;
        if (sock && !sock.destroyed) sock.destroy();
    });
}

// ---------------------------------------------------------------------------
// hostile responses

function stripIds(obj, fn) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return obj;
    fn(obj);
    if (Array.isArray(obj.Resources))
        for (const r of obj.Resources) if (r !== null && typeof r === "object" && !Array.isArray(r)) fn(r);
    return obj;
}

function isGroup(r) {
    return "members" in r || (Array.isArray(r.schemas) && r.schemas.some((s) => /:Group$/.test(s)))
        || r.meta?.resourceType === "Group";
}

async function hostile(req, res, entry, h, body) {
    let up = null;
    if (h.forward) {
        entry.forwarded = true;
        try {
            up = await forward(req, body);
        } catch (err) {
            return upstreamFailed(res, entry, err);
        }
        entry.upstreamStatus = up.status;
    }
    const status = h.status ?? (up ? up.status : 200);
    const headers = up ? {...up.headers} : {"content-type": "application/scim+json"};
    delete headers["content-encoding"];
    let json = null;
    if (up && up.body.length) {
        try {
            json = JSON.parse(up.body.toString("utf8"));
        } catch {
            json = null;
        }
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
        json = {
            schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
            id: "fault-proxy-0000",
            userName: "fault-proxy",
        };
    }
    let out;
    switch (h.mode) {
    case "notjson":
        headers["content-type"] = "text/html";
        out = Buffer.from("<html>oops</html>");
        break;
    case "empty":
        out = Buffer.alloc(0);
        break;
    case "noid":
        out = Buffer.from(JSON.stringify(stripIds(json, (r) => delete r.id)));
        break;
    case "wrongtype":
        out = Buffer.from(JSON.stringify(stripIds(json, (r) => {
            r.id = 12345;
            if (isGroup(r)) r.members = "not-a-list";
        })));
        break;
    case "huge": {
        json["x-padding"] = "";
        const base = Buffer.byteLength(JSON.stringify(json));
        json["x-padding"] = "a".repeat(Math.max(0, h.size - base));
        out = Buffer.from(JSON.stringify(json));
        break;
    }
    case "deep": {
        // one object holding depth-1 nested arrays: depth levels in all
        const id = JSON.stringify(typeof json.id === "string" ? json.id : "fault-proxy-0000");
        const n = h.depth - 1;
        out = Buffer.from(`{"id":${id},"deep":${"[".repeat(n)}${"]".repeat(n)}}`);
        break;
    }
    default:
        out = up ? up.body : Buffer.alloc(0);
    }
    return send(res, entry, status, headers, out, h.chunked);
}

// ---------------------------------------------------------------------------
// control API

function sendJson(res, status, value) {
    const body = Buffer.from(JSON.stringify(value) + "\n");
    res.writeHead(status, {"content-type": "application/json", "content-length": String(body.length)});
    res.end(body);
}

function stats() {
    const byFault = {none: 0};
    for (const k of FAULTS) byFault[k] = 0;
    for (const k of HOSTILE) byFault[k] = 0;
    let forwarded = 0;
    for (const e of log) {
        byFault[e.fault ?? "none"]++;
        if (e.forwarded) forwarded++;
    }
    return {requests: log.length, forwarded, matched: state.matched, byFault, inFlight, peakInFlight};
}

async function control(req, res) {
    const url = new URL(req.url, "http://localhost");
    const route = `${req.method} ${url.pathname}`;
    const body = await readBody(req);
    if (body === null) return;
    try {
        switch (route) {
        case "POST /_fault/config": {
            let raw;
            try {
                raw = body.length ? JSON.parse(body.toString("utf8")) : {};
            } catch (ex) {
                throw new ConfigError(`config is not JSON: ${ex.message}`);
            }
            applyConfig(normalize(raw));
            return sendJson(res, 200, describe(config));
        }
        case "GET /_fault/config":
            return sendJson(res, 200, describe(config));
        case "GET /_fault/log": {
            const since = Number(url.searchParams.get("since") ?? 0);
            return sendJson(res, 200, log.slice(Number.isInteger(since) && since > 0 ? since : 0));
        }
        case "GET /_fault/stats":
            return sendJson(res, 200, stats());
        case "POST /_fault/reset":
            applyConfig(normalize({}));
            log = [];
            peakInFlight = inFlight;
            return sendJson(res, 200, {reset: true});
        default:
            return sendJson(res, 404, {error: `no control route '${route}'`});
        }
    } catch (ex) {
        if (ex instanceof ConfigError) return sendJson(res, 400, {error: ex.message});
        return sendJson(res, 500, {error: String(ex.message ?? ex)});
    }
}

// ---------------------------------------------------------------------------
// server

const server = http.createServer((req, res) => {
    res.on("error", () => {});
    req.on("error", () => {});
    if (req.url === "/_fault" || req.url.startsWith("/_fault/")) {
        control(req, res).catch((ex) => {
            process.stderr.write(`fault-proxy: control: ${ex.stack ?? ex}\n`);
            kill(req, res);
        });
        return;
    }
    const url = req.url;
    const pathname = url.split("?")[0];
    const decision = decide(req.method, pathname, url);
    const entry = {
        t: now(),
        method: req.method,
        path: url,
        fault: decision ? decision.kind : null,
        forwarded: false,
        status: null,
        upstreamStatus: null,
        done: false,
    };
    log.push(entry);
    inFlight++;
    if (inFlight > peakInFlight) peakInFlight = inFlight;
    handle(req, res, entry, decision)
        .catch((ex) => {
            process.stderr.write(`fault-proxy: ${ex.stack ?? ex}\n`);
            entry.note = `proxy error: ${ex.message}`;
            kill(req, res);
        })
        .finally(() => {
            inFlight--;
            entry.done = true;
            entry.end = now();
            verbose(`${entry.method} ${entry.path} fault=${entry.fault ?? "-"} status=${entry.status ?? "-"}`);
        });
});

server.keepAliveTimeout = 30000;
server.requestTimeout = 0;
server.on("clientError", (err, socket) => {
    if (!socket.destroyed) socket.destroy();
});
server.on("error", (err) => {
    process.stderr.write(`fault-proxy: cannot listen: ${err.message}\n`);
    process.exit(1);
});
server.listen(opts.port, "127.0.0.1", () => {
    const {port} = server.address();
    if (opts.portFile) {
        const tmp = `${opts.portFile}.tmp`;
        fs.writeFileSync(tmp, `${port}\n`);
        fs.renameSync(tmp, opts.portFile);
    }
    process.stdout.write(`listening on 127.0.0.1:${port}, upstream ${opts.upHost}:${opts.upPort}\n`);
});

process.on("uncaughtException", (ex) => {
    // never die on a stray socket error; say so in the log
    process.stderr.write(`fault-proxy: uncaught: ${ex.stack ?? ex}\n`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
        process.exit(0);
    });
}
