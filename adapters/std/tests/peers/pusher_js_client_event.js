// pusher-js 8.6.0 in Node subscribes to a private channel (signed by the official npm
// `pusher` library), prints "READY", then prints the data of the first `client-reading`
// event as JSON and exits 0.
const PusherJS = require('pusher-js');
const Pusher = require('pusher');
const [appId, key, secret, host, port, channel] = process.argv.slice(2);
const signer = new Pusher({ appId, key, secret, host, port, useTLS: false });
const client = new PusherJS(key, {
  cluster: 'mt1', wsHost: host, wsPort: Number(port), forceTLS: false,
  enabledTransports: ['ws'], disableStats: true,
  channelAuthorization: {
    customHandler: ({ socketId, channelName }, cb) => cb(null, signer.authorizeChannel(socketId, channelName)),
  },
});
const timer = setTimeout(() => { console.error('TIMEOUT'); process.exit(1); }, 20000);
const ch = client.subscribe(channel);
ch.bind('pusher:subscription_succeeded', () => console.log('READY'));
ch.bind('client-reading', (data) => {
  clearTimeout(timer);
  console.log(JSON.stringify(data));
  client.disconnect();
  process.exit(0);
});
