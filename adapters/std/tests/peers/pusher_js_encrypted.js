// pusher-js 8.6.0 in Node (its Node build supports encrypted channels): subscribes to an encrypted channel
// (authorized by the official npm `pusher` library with the master key, so the auth carries
// the shared secret), prints "READY", then the decrypted data of one `secret` event as JSON,
// and exits 0.
// The Node build carries tweetnacl and decrypts encrypted channels itself.
const PusherJS = require('pusher-js');
const Pusher = require('pusher');
const [appId, key, secret, host, port, masterKey, channel] = process.argv.slice(2);
const signer = new Pusher({ appId, key, secret, host, port, useTLS: false, encryptionMasterKeyBase64: masterKey });
const auth = ({ socketId, channelName }, callback) => {
  callback(null, signer.authorizeChannel(socketId, channelName));
};
const client = new PusherJS(key, {
  cluster: 'mt1', wsHost: host, wsPort: Number(port), forceTLS: false,
  enabledTransports: ['ws'], disableStats: true,
  channelAuthorization: { customHandler: auth },
});
const timer = setTimeout(() => { console.error('TIMEOUT'); process.exit(1); }, 30000);
const ch = client.subscribe(channel);
ch.bind('pusher:subscription_succeeded', () => console.log('READY'));
ch.bind('pusher:subscription_error', (e) => {
  console.error(`SUBSCRIPTION_ERROR ${JSON.stringify(e)}`);
  process.exit(1);
});
ch.bind('secret', (data) => {
  console.log(JSON.stringify(data));
  clearTimeout(timer);
  client.disconnect();
  process.exit(0);
});
