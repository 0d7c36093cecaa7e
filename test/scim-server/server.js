// In-memory SCIM 2.0 service provider for the ldap2scim integration tests.
//
// Protocol handling (schemas, filters, PATCH, ListResponse, errors) comes from
// scimmy and scimmy-routers; this file only supplies storage (ingress, egress,
// degress handlers), bearer-token auth, uniqueness rules and the /_test admin
// routes that let a test read back and preload what the server holds.
//
//   node server.js --port 0 --token-file FILE [--port-file FILE] [--verbose]

import crypto from "node:crypto";
import fs from "node:fs";
import process from "node:process";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const BASE_PATH = "/scim/v2";
const MAX_RESULTS = 200;
const BODY_LIMIT = "64mb";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

function usage(msg) {
    if (msg) process.stderr.write(`scim-server: ${msg}\n`);
    process.stderr.write("usage: node server.js --port PORT --token-file FILE [--port-file FILE] [--verbose] [--no-patch]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {port: 0, tokenFile: null, portFile: null, verbose: false};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`option '${arg}' needs a value`);
            return argv[++i];
        };
        if (arg === "--port") opts.port = Number(value());
        else if (arg === "--token-file") opts.tokenFile = value();
        else if (arg === "--port-file") opts.portFile = value();
        else if (arg === "--verbose" || arg === "-v") opts.verbose = true;
        else if (arg === "--no-patch") opts.noPatch = true;
        else if (arg === "--help" || arg === "-h") usage();
        else usage(`unknown option '${arg}'`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage("invalid port");
    if (!opts.tokenFile) usage("--token-file is required");
    return opts;
}

const opts = parseArgs(process.argv.slice(2));

// The token file is read on every request so a test can rotate the token
// while the server runs. A single trailing newline is stripped.
function readToken() {
    const raw = fs.readFileSync(opts.tokenFile, "utf8");
    return raw.endsWith("\n") ? raw.slice(0, -1).replace(/\r$/, "") : raw;
}

try {
    if (!readToken().length) usage(`token file '${opts.tokenFile}' is empty`);
} catch (ex) {
    usage(`cannot read token file '${opts.tokenFile}': ${ex.code ?? ex.message}`);
}

// ---------------------------------------------------------------------------
// storage

const store = {
    Users: new Map(),       // id -> stored resource (plain JSON)
    Groups: new Map(),
    userNames: new Map(),   // lower-cased userName -> id
    groupNames: new Map(),  // lower-cased displayName -> id
};

const stats = {requests: 0, writes: 0, byMethod: {}, log: []};

function resetStats() {
    stats.requests = 0;
    stats.writes = 0;
    stats.byMethod = {};
    stats.log = [];
}

function resetData() {
    store.Users.clear();
    store.Groups.clear();
    store.userNames.clear();
    store.groupNames.clear();
    outCache.clear();
}

const clone = (value) => JSON.parse(JSON.stringify(value));
const now = () => new Date().toISOString();

// Base URL used for meta.location, e.g. http://127.0.0.1:PORT/scim/v2
let publicBase = `http://127.0.0.1${BASE_PATH}`;

function kindOf(Resource) {
    return Resource === SCIMMY.Resources.User ? "Users" : "Groups";
}

function nameKey(kind) {
    return kind === "Users" ? "userName" : "displayName";
}

function nameIndex(kind) {
    return kind === "Users" ? store.userNames : store.groupNames;
}

function checkUnique(kind, data, selfId) {
    const attr = nameKey(kind);
    const value = data[attr];
    if (typeof value !== "string" || !value.length) return;
    const owner = nameIndex(kind).get(value.toLowerCase());
    if (owner !== undefined && owner !== selfId) {
        throw new SCIMMY.Types.Error(409, "uniqueness",
            `${attr} '${value}' is already taken by resource ${owner}`);
    }
}

// Every member value must name a stored user or group.
function checkMembers(data, selfId) {
    for (const member of data.members ?? []) {
        const id = member?.value;
        if (typeof id !== "string" || !id.length)
            throw new SCIMMY.Types.Error(400, "invalidValue", "group member without a value");
        if (id === selfId)
            throw new SCIMMY.Types.Error(400, "invalidValue", `group ${selfId} cannot be a member of itself`);
        if (!store.Users.has(id) && !store.Groups.has(id))
            throw new SCIMMY.Types.Error(400, "invalidValue", `member '${id}' is neither a user nor a group`);
    }
}

function sameContent(a, b) {
    const strip = ({id, meta, ...rest}) => rest;
    return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function nextVersion(meta) {
    const m = /^W\/"(\d+)"$/.exec(meta?.version ?? "");
    return `W/"${m ? Number(m[1]) + 1 : 1}"`;
}

// Put data (a plain object already coerced by the schema) into the store.
// Creates when id is undefined, replaces otherwise. Returns the stored copy.
function storeResource(kind, data, id, preset = {}) {
    const resourceType = kind === "Users" ? "User" : "Group";
    const map = store[kind];
    const existing = id !== undefined ? map.get(id) : undefined;
    if (id !== undefined && !existing && !preset.create)
        throw new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);

    const newId = existing ? id : (id ?? crypto.randomUUID());
    checkUnique(kind, data, newId);
    if (kind === "Groups") checkMembers(data, newId);

    const body = clone(data);
    delete body.id;
    delete body.meta;
    const stamp = now();
    let meta;
    if (existing) {
        if (sameContent(existing, body)) return clone(existing);
        meta = {...existing.meta, lastModified: stamp, version: nextVersion(existing.meta)};
    } else {
        meta = {
            resourceType,
            created: preset.meta?.created ?? stamp,
            lastModified: preset.meta?.lastModified ?? stamp,
            version: preset.meta?.version ?? 'W/"1"',
        };
    }
    meta.location = `${publicBase}/${kind}/${newId}`;
    const stored = {...body, id: newId, meta};

    const attr = nameKey(kind);
    if (existing && typeof existing[attr] === "string") nameIndex(kind).delete(existing[attr].toLowerCase());
    if (typeof stored[attr] === "string") nameIndex(kind).set(stored[attr].toLowerCase(), newId);
    map.set(newId, stored);
    return clone(stored);
}

function removeResource(kind, id) {
    const map = store[kind];
    const existing = map.get(id);
    if (!existing) throw new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
    map.delete(id);
    outCache.delete(`${kind}:${id}`);
    const attr = nameKey(kind);
    if (typeof existing[attr] === "string") nameIndex(kind).delete(existing[attr].toLowerCase());

    // Like real services, a deleted user or group leaves every group it was in.
    const stamp = now();
    for (const group of store.Groups.values()) {
        if (!Array.isArray(group.members) || !group.members.some((m) => m.value === id)) continue;
        group.members = group.members.filter((m) => m.value !== id);
        if (!group.members.length) delete group.members;
        group.meta = {...group.meta, lastModified: stamp, version: nextVersion(group.meta)};
    }
}

// ---------------------------------------------------------------------------
// scimmy handlers

function ingressFor(Resource) {
    const kind = kindOf(Resource);
    return (resource, instance) => storeResource(kind, clone(instance), resource.id);
}

// Filtering is scimmy's Filter.match, with two adaptations to how it reads
// resources: it looks up extension attributes by their full name
// (urn:...:User:employeeNumber), so each resource is shown to it with those
// names flattened in; and it throws when a filter dives into a complex or
// multi-valued attribute that a resource lacks (emails[type eq "work"]), so
// resources are matched one at a time and such a throw counts as no match.
function filterView(resource) {
    const view = {...resource};
    for (const [key, value] of Object.entries(resource)) {
        if (!key.startsWith("urn:") || Object(value) !== value || Array.isArray(value)) continue;
        for (const [attr, inner] of Object.entries(value)) view[`${key}:${attr}`] = inner;
    }
    return view;
}

function applyFilter(filter, resources) {
    const wantsExtension = filter.expression.toLowerCase().includes("urn:");
    const views = wantsExtension ? resources.map(filterView) : resources;
    let matched;
    try {
        matched = new Set(filter.match(views));
    } catch {
        matched = new Set(views.filter((view) => {
            try {
                return filter.match([view]).length > 0;
            } catch {
                return false;
            }
        }));
    }
    return resources.filter((resource, i) => matched.has(views[i]));
}

function egressFor(Resource) {
    const kind = kindOf(Resource);
    return (resource) => {
        const map = store[kind];
        if (resource.id) {
            const found = map.get(resource.id);
            if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return clone(found);
        }

        let matches = [...map.values()];
        if (resource.filter) matches = applyFilter(resource.filter, matches);

        // Paging: scimmy's ListResponse slices and sorts what egress returns.
        // Cap count at filter.maxResults; hand over only the requested page
        // (with the real totalResults) where ListResponse would not slice it
        // again, so listing 100k users does not coerce all of them per page.
        const constraints = {...(resource.constraints ?? {})};
        if (constraints.count !== undefined && constraints.count > MAX_RESULTS) constraints.count = MAX_RESULTS;
        const startIndex = constraints.startIndex ?? 1;
        const count = constraints.count ?? 20;
        const page = matches.slice(startIndex - 1, startIndex - 1 + count);
        const presliced = constraints.sortBy === undefined && (startIndex === 1 || startIndex > page.length);
        if (presliced) {
            constraints.totalResults = matches.length;
            resource.constraints = constraints;
            return page.map(clone);
        }
        resource.constraints = constraints;
        return matches.map(clone);
    };
}

function degressFor(Resource) {
    const kind = kindOf(Resource);
    return (resource) => removeResource(kind, resource.id);
}

// scimmy coerces every resource it returns through its schema, at about 1 ms
// a resource: a page of 200 users costs 200 ms, listing 100k users minutes.
// List reads (without attributes/excludedAttributes) therefore reuse each
// resource's coerced form (made when scimmy answered its last write, or at
// its first read) until the resource changes; the coercion and ListResponse
// are still scimmy's. Everything else is the library's own read and write.
const outCache = new Map(); // kind:id -> {key, json}

const outKey = (basepath, resource) => `${basepath} ${resource.meta?.version} ${resource.meta?.lastModified}`;

function coercedOut(kind, Schema, stored, basepath) {
    const key = outKey(basepath, stored);
    const hit = outCache.get(`${kind}:${stored.id}`);
    if (hit && hit.key === key) return hit.json;
    const json = clone(new Schema(stored, "out", basepath));
    outCache.set(`${kind}:${stored.id}`, {key, json});
    return json;
}

function cachedListResource(Base, Schema) {
    const kind = kindOf(Base);
    const egress = egressFor(Base);
    return class extends Base {
        // keep the coerced form scimmy makes for a POST, PUT or PATCH answer
        async write(instance, ctx) {
            const out = await super.write(instance, ctx);
            if (!this.attributes && out?.id) {
                const json = clone(out);
                outCache.set(`${kind}:${json.id}`, {key: outKey(Base.basepath(), json), json});
            }
            return out;
        }

        async read(ctx) {
            if (this.id || this.attributes) return super.read(ctx);
            const page = egress(this);
            const basepath = Base.basepath();
            return new SCIMMY.Messages.ListResponse(
                page.map((stored) => coercedOut(kind, Schema, stored, basepath)), this.constraints);
        }
    };
}

// A custom extension schema, as a SaaS may define one: ldap2scim maps to it by
// its URN (users.map "urn:...:User:badge", "urn:...:User:site.room").
const ACME_USER = new SCIMMY.Types.SchemaDefinition("AcmeUser",
    "urn:ietf:params:scim:schemas:extension:acme:2.0:User", "Test custom extension", [
        new SCIMMY.Types.Attribute("string", "badge"),
        new SCIMMY.Types.Attribute("complex", "site", {}, [
            new SCIMMY.Types.Attribute("string", "room")]),
    ]);

SCIMMY.Resources.declare(cachedListResource(SCIMMY.Resources.User, SCIMMY.Schemas.User), {
    name: "User",
    ingress: ingressFor(SCIMMY.Resources.User),
    egress: egressFor(SCIMMY.Resources.User),
    degress: degressFor(SCIMMY.Resources.User),
    extensions: [{schema: SCIMMY.Schemas.EnterpriseUser, required: false},
                 {schema: ACME_USER, required: false}],
});
SCIMMY.Resources.declare(cachedListResource(SCIMMY.Resources.Group, SCIMMY.Schemas.Group), {
    name: "Group",
    ingress: ingressFor(SCIMMY.Resources.Group),
    egress: egressFor(SCIMMY.Resources.Group),
    degress: degressFor(SCIMMY.Resources.Group),
});

// ---------------------------------------------------------------------------
// auth

function authenticate(req) {
    const header = req.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) {
        req.res.set("WWW-Authenticate", 'Bearer realm="scim"');
        throw new Error("authorization required");
    }
    const given = Buffer.from(m[1].trim());
    const want = Buffer.from(readToken());
    if (given.length !== want.length || !crypto.timingSafeEqual(given, want)) {
        req.res.set("WWW-Authenticate", 'Bearer realm="scim", error="invalid_token"');
        throw new Error("invalid bearer token");
    }
    return "ldap2scim-test";
}

// ---------------------------------------------------------------------------
// app

const app = express();
app.disable("x-powered-by");
app.set("etag", false);

function scimError(res, status, message, scimType) {
    res.status(status).type("application/scim+json")
        .send(JSON.stringify(new SCIMMY.Messages.Error({status, message, ...(scimType ? {scimType} : {})})));
}

// request accounting and optional access log
app.use(BASE_PATH, (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
        const path = req.originalUrl.split("?")[0];
        const method = req.method;
        stats.requests++;
        stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
        const isSearch = method === "POST" && path.endsWith("/.search");
        if (["POST", "PUT", "PATCH", "DELETE"].includes(method) && !isSearch) stats.writes++;
        const query = req.originalUrl.includes("?") ? req.originalUrl.slice(req.originalUrl.indexOf("?") + 1) : undefined;
        const bytes = Number(req.get("content-length") ?? 0);
        stats.log.push({method, path, status: res.statusCode, bytes, ...(query ? {query} : {})});
        if (opts.verbose) {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            process.stderr.write(`${new Date().toISOString()} ${method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
        }
    });
    next();
});

const jsonBody = express.json({type: ["application/scim+json", "application/json"], limit: BODY_LIMIT});

const scimRouter = new SCIMMYRouters({
    type: "bearer",
    docUri: "https://example.invalid/ldap2scim-test-server",
    handler: authenticate,
    baseUri: (req) => `http://${req.get("host") ?? "127.0.0.1"}`,
});

// scimmy-routers turns every switch on; declare what this server really offers.
// --no-patch: a target that offers no PATCH (the agent must fall back to PUT).
SCIMMY.Config.set({bulk: false, etag: false, changePassword: false, sort: true, patch: !opts.noPatch,
    filter: {supported: true, maxResults: MAX_RESULTS}});

app.use(BASE_PATH, (req, res, next) => {
    publicBase = `http://${req.get("host") ?? "127.0.0.1"}${BASE_PATH}`;
    next();
}, jsonBody, scimRouter);

// ---- test-only admin routes (no SCIM auth; the server binds to loopback only)

const admin = express.Router();
admin.use(express.json({limit: BODY_LIMIT}));

admin.get("/dump", (req, res) => {
    res.json({Users: [...store.Users.values()], Groups: [...store.Groups.values()]});
});

admin.get("/stats", (req, res) => {
    const withLog = !["0", "false", "no"].includes(String(req.query.log ?? "").toLowerCase());
    res.json({requests: stats.requests, writes: stats.writes, byMethod: stats.byMethod,
        ...(withLog ? {log: stats.log} : {})});
});

admin.post("/reset-stats", (req, res) => {
    resetStats();
    res.status(204).end();
});

admin.post("/reset", (req, res) => {
    resetData();
    resetStats();
    res.status(204).end();
});

// Preload resources. Each goes through the schema (so it must be valid SCIM;
// ?validate=0 skips that, about 1 ms a resource, for large seeds), keeps its
// id and meta when given, and must respect the uniqueness rules.
// Users are stored before groups so groups may reference them; a group may
// reference a group that appears earlier in the same request.
admin.post("/seed", (req, res) => {
    const body = req.body ?? {};
    const validate = !["0", "false", "no"].includes(String(req.query.validate ?? "").toLowerCase());
    const out = {Users: [], Groups: []};
    try {
        for (const [kind, Schema] of [["Users", SCIMMY.Schemas.User], ["Groups", SCIMMY.Schemas.Group]]) {
            const list = body[kind] ?? [];
            if (!Array.isArray(list)) throw new SCIMMY.Types.Error(400, "invalidSyntax", `'${kind}' must be an array`);
            for (const item of list) {
                if (Object(item) !== item) throw new SCIMMY.Types.Error(400, "invalidSyntax", `'${kind}' holds a non-object`);
                if (item.id !== undefined && (store.Users.has(item.id) || store.Groups.has(item.id)))
                    throw new SCIMMY.Types.Error(409, "uniqueness", `id '${item.id}' already exists`);
                if (!validate && (typeof item[nameKey(kind)] !== "string" || !item[nameKey(kind)].length))
                    throw new SCIMMY.Types.Error(400, "invalidValue", `${kind} item without ${nameKey(kind)}`);
                const coerced = validate ? clone(new Schema(item, "in")) : clone(item);
                const stored = storeResource(kind, coerced, item.id, {create: true, meta: item.meta});
                out[kind].push(stored);
            }
        }
    } catch (ex) {
        const status = ex.status ?? 400;
        return scimError(res, status, ex.message, ex.scimType);
    }
    res.status(201).json(out);
});

app.use("/_test", admin);

// anything else
app.use((req, res) => scimError(res, 404, "Endpoint Not Found"));

// errors raised before scimmy-routers runs (body parsing, size limits)
app.use((err, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
    const scimType = err.type === "entity.parse.failed" ? "invalidSyntax" : undefined;
    if (status >= 500) process.stderr.write(`scim-server: ${err.stack ?? err}\n`);
    scimError(res, status, err.message ?? "internal error", scimType);
});

const server = app.listen(opts.port, "127.0.0.1", () => {
    const {port} = server.address();
    if (opts.portFile) {
        const tmp = `${opts.portFile}.tmp`;
        fs.writeFileSync(tmp, `${port}\n`);
        fs.renameSync(tmp, opts.portFile);
    }
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
server.keepAliveTimeout = 30000;
server.on("error", (err) => {
    process.stderr.write(`scim-server: cannot listen: ${err.message}\n`);
    process.exit(1);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
        server.close();
        process.exit(0);
    });
}
