// The official npm `pusher` 5.3.4 library triggers one event on several channels over REST.
// Over HTTPS when TRIGGER_TLS=1 (trust the CA through NODE_EXTRA_CA_CERTS); sealed for an
// encrypted channel with the channel's shared secret when TRIGGER_MASTER_KEY is set. Run from the peers directory (NODE_PATH) inside the test's network namespace.
const Pusher = require('pusher');
const [appId, key, secret, host, port, event, data, ...channels] = process.argv.slice(2);
const p = new Pusher({
  appId, key, secret, host, port, useTLS: process.env.TRIGGER_TLS === '1',
  encryptionMasterKeyBase64: process.env.TRIGGER_MASTER_KEY,
});
p.trigger(channels, event, JSON.parse(data)).then(async (r) => {
  console.log(r.status, await r.text());
  process.exit(r.status === 200 ? 0 : 1);
}).catch((e) => { console.error(e); process.exit(1); });
