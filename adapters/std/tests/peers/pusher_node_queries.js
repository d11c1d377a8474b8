// The official npm `pusher` 5.3.4 library: a batch trigger, then the channel list, one
// channel's info and a presence channel's users. Prints one JSON object with every answer.
const Pusher = require('pusher');
const [appId, key, secret, port, channel, presence] = process.argv.slice(2);
const p = new Pusher({ appId, key, secret, host: '127.0.0.1', port, useTLS: false });
(async () => {
  const out = {};
  const batch = await p.triggerBatch([
    { channel, name: 'batch-node-1', data: { n: 1 } },
    { channel, name: 'batch-node-2', data: { n: 2 } },
  ]);
  out.batch = batch.status;
  out.channels = await (await p.get({ path: '/channels' })).json();
  out.presence = await (await p.get({
    path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' },
  })).json();
  out.channel = await (await p.get({ path: `/channels/${presence}`, params: { info: 'user_count' } })).json();
  out.users = await (await p.get({ path: `/channels/${presence}/users` })).json();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
