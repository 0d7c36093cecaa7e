// http-push.mjs - the baseline of the initial push: a plain concurrent HTTP
// client that POSTs the resources of a dump (GET /_test/dump of a server the
// agent filled) to an empty SCIM server: users first, then groups, with the
// ids of managers and members rewritten to the ones the new server assigns.
//
//   node http-push.mjs DUMP.json SCIM_URL TOKEN_FILE CONCURRENCY
//
// One keep-alive connection pool of CONCURRENCY sockets; CONCURRENCY
// requests in flight.  A user whose manager is still in flight waits for it
// (the dump lists managers first, as the agent created them), and so does a
// group whose member group is (the agent flattens, so members are users).
// Prints one JSON line: {"objects":N,"requests":N,"seconds":S,"cpu_seconds":S}
// (seconds from the first request to the last answer; cpu_seconds is this
// client's own CPU time in that window).  Exits 1 if any request failed.

import fs from "node:fs";
import http from "node:http";
import process from "node:process";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const [dumpFile, baseUrl, tokenFile, concArg] = process.argv.slice(2);
if (!dumpFile || !baseUrl || !tokenFile || !concArg) {
    process.stderr.write("usage: node http-push.mjs DUMP.json SCIM_URL TOKEN_FILE CONCURRENCY\n");
    process.exit(2);
}
const concurrency = Number(concArg);
const token = fs.readFileSync(tokenFile, "utf8").replace(/\r?\n$/, "");
const dump = JSON.parse(fs.readFileSync(dumpFile, "utf8"));
const url = new URL(baseUrl.replace(/\/$/, ""));
const agent = new http.Agent({keepAlive: true, maxSockets: concurrency});

// old id -> promise of the new id
const newIds = new Map();
function promiseFor(oldId) {
    let entry = newIds.get(oldId);
    if (!entry) {
        let resolve;
        const promise = new Promise((r) => { resolve = r; });
        entry = {promise, resolve};
        newIds.set(oldId, entry);
    }
    return entry;
}

function post(kind, body) {
    const data = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
        const req = http.request({
            agent, host: url.hostname, port: url.port, method: "POST",
            path: `${url.pathname}/${kind}`,
            headers: {
                "Authorization": `Bearer ${token}`,
                "Content-Type": "application/scim+json",
                "Accept": "application/scim+json",
                "Content-Length": data.length,
            },
        }, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                if (res.statusCode !== 201) {
                    reject(new Error(`POST /${kind} answered ${res.statusCode}: ${text.slice(0, 200)}`));
                    return;
                }
                resolve(JSON.parse(text).id);
            });
        });
        req.on("error", reject);
        req.end(data);
    });
}

function strip(resource) {
    const body = {...resource};
    delete body.id;
    delete body.meta;
    return body;
}

async function pushUser(u) {
    const body = strip(u);
    const manager = body[ENTERPRISE]?.manager;
    if (manager?.value !== undefined) {
        if (!known.has(manager.value)) throw new Error(`user ${u.id}: manager ${manager.value} is not in the dump`);
        const id = await promiseFor(manager.value).promise;
        body[ENTERPRISE] = {...body[ENTERPRISE], manager: {...manager, value: id}};
        delete body[ENTERPRISE].manager.$ref;
    }
    promiseFor(u.id).resolve(await post("Users", body));
}

async function pushGroup(g) {
    const body = strip(g);
    if (Array.isArray(body.members)) {
        // a member the dump does not hold would be waited for forever
        for (const m of body.members)
            if (!known.has(m.value)) throw new Error(`group ${g.id}: member ${m.value} is not in the dump`);
        const ids = await Promise.all(body.members.map((m) => promiseFor(m.value).promise));
        body.members = ids.map((id) => ({value: id}));
    }
    promiseFor(g.id).resolve(await post("Groups", body));
}

async function pool(items, fn) {
    let next = 0;
    const worker = async () => {
        while (next < items.length) await fn(items[next++]);
    };
    await Promise.all(Array.from({length: concurrency}, worker));
}

const users = dump.Users ?? [];
const groups = dump.Groups ?? [];
const known = new Set([...users, ...groups].map((r) => r.id));
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
try {
    await pool(users, pushUser);
    await pool(groups, pushGroup);
} catch (ex) {
    process.stderr.write(`http-push: ${ex.message}\n`);
    process.exit(1);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
agent.destroy();
process.stdout.write(JSON.stringify({objects: users.length + groups.length,
    requests: users.length + groups.length, seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6}) + "\n");
