// pusher-js 8.6.0 in Node subscribes to a public, a private and a presence channel (signed by
// the official npm `pusher` library through a custom authorizer), prints "MEMBERS n me" for
// the presence channel and "READY" once all three are subscribed, then one line
// "<channel> <data as JSON>" per `greeting` event; exits 0 after one event on each channel.
const PusherJS = require('pusher-js');
const Pusher = require('pusher');
const [appId, key, secret, host, port, user, prefix] = process.argv.slice(2);
const signer = new Pusher({ appId, key, secret, host, port, useTLS: false });
const auth = ({ socketId, channelName }, callback) => {
  const member = channelName.startsWith('presence-')
    ? { user_id: user, user_info: { name: user } } : undefined;
  callback(null, signer.authorizeChannel(socketId, channelName, member));
};
const client = new PusherJS(key, {
  cluster: 'mt1', wsHost: host, wsPort: Number(port), forceTLS: false,
  enabledTransports: ['ws'], disableStats: true,
  channelAuthorization: { customHandler: auth },
});
const timer = setTimeout(() => { console.error('TIMEOUT'); process.exit(1); }, 30000);
const names = ['public', 'private', 'presence'].map((t) => (t === 'public' ? '' : `${t}-`) + prefix);
let ready = 0;
let received = 0;
for (const name of names) {
  const ch = client.subscribe(name);
  ch.bind('pusher:subscription_succeeded', (members) => {
    if (name.startsWith('presence-')) console.log(`MEMBERS ${members.count} ${members.me.id}`);
    if (++ready === names.length) console.log('READY');
  });
  ch.bind('pusher:subscription_error', (e) => {
    console.error(`SUBSCRIPTION_ERROR ${name} ${JSON.stringify(e)}`);
    process.exit(1);
  });
  ch.bind('greeting', (data) => {
    console.log(`${name} ${JSON.stringify(data)}`);
    if (++received === names.length) {
      clearTimeout(timer);
      client.disconnect();
      process.exit(0);
    }
  });
}
