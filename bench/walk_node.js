// Measurement 2: api.video's official Node.js client (@api.video/nodejs-client 2.5.4, installed in
// bench/node_modules by bench/run.sh) walking every session of a video one page after another, as its
// users must (rawStatistics.listVideoSessions with currentPage; the client has no iterator and no
// prefetch). Authentication: the client's own — in 2.5.4 the constructor's apiKey becomes
// "Authorization: Basic base64(apiKey:)" on every request (HttpClient.ts); there is no bearer flow.
//   node bench/walk_node.js VIDEO EXPECTED_ITEMS
// Prints RESULT lines (tag "walk"): ms, items, cpu_s, hwm_kb.
'use strict';
const path = require('path');
const ApiVideoClient = require(path.join(__dirname, 'node_modules', '@api.video', 'nodejs-client'));
const pkg = require(path.join(__dirname, 'node_modules', '@api.video', 'nodejs-client', 'package.json'));

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

function emit(field, value) {
  process.stdout.write(`RESULT walk.${field} ${value}\n`);
}

async function main() {
  const [video, expectedArg] = process.argv.slice(2);
  const expected = Number(expectedArg);
  const baseUri = process.env.APIVIDEO_STANDIN_URL;
  if (!video || !expected) fail('usage: walk_node.js VIDEO EXPECTED_ITEMS');
  if (!baseUri) fail('APIVIDEO_STANDIN_URL is not set');
  if (pkg.version !== '2.5.4') fail(`@api.video/nodejs-client ${pkg.version} installed, 2.5.4 expected`);

  const client = new ApiVideoClient({ apiKey: 'standin-key', baseUri });

  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // ---- what a user of the Node client writes ----
  let currentPage = 1;
  for (;;) {
    const res = await client.rawStatistics.listVideoSessions({
      videoId: video, period: '2023', currentPage, pageSize: 100,
    });
    for (const s of res.data) {
      n += 1;
      const id = s.session && s.session.sessionId;
      if (typeof id !== 'string' || Number(id.slice(-6)) !== n) {
        fail(`item ${n} has session id ${id} (out of order or missing)`);
      }
    }
    if (res.pagination.currentPage >= res.pagination.pagesTotal) break;
    currentPage += 1;
  }
  // ---- end ----
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  if (n !== expected) fail(`walk of ${video} saw ${n} items, expected ${expected}`);
  emit('ms', ms.toFixed(3));
  emit('items', n);
  emit('cpu_s', ((cpu.user + cpu.system) / 1e6).toFixed(4));
  emit('hwm_kb', Math.round(process.resourceUsage().maxRSS));
}

main().catch((e) => fail(`walk failed: ${e && (e.stack || e.message || e)}`));
