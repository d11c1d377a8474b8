// The official npm `pusher` 5.3.4 library triggers an event on an encrypted channel: it seals
// the data with the channel's shared secret from `encryptionMasterKeyBase64`.
const Pusher = require('pusher');
const [appId, key, secret, port, masterKey, channel, event, data] = process.argv.slice(2);
const p = new Pusher({
  appId, key, secret, host: '127.0.0.1', port, useTLS: false,
  encryptionMasterKeyBase64: masterKey,
});
p.trigger(channel, event, JSON.parse(data)).then(async (r) => {
  console.log(r.status, await r.text());
  process.exit(r.status === 200 ? 0 : 1);
}).catch((e) => { console.error(e); process.exit(1); });
