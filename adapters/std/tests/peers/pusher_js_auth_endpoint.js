// pusher-js 8.6.0 in Node, authorized by an HTTP auth endpoint (form POST, as in a browser):
// subscribes to a private and a presence channel, prints "MEMBERS n me" for the presence
// channel and "READY" once both are subscribed, then exits 0.
const PusherJS = require('pusher-js');
const [key, host, port, authUrl, user, prefix] = process.argv.slice(2);
const client = new PusherJS(key, {
  cluster: 'mt1', wsHost: host, wsPort: Number(port), forceTLS: false,
  enabledTransports: ['ws'], disableStats: true,
  channelAuthorization: { endpoint: authUrl, transport: 'ajax', headers: { 'X-User': user } },
});
const timer = setTimeout(() => { console.error('TIMEOUT'); process.exit(1); }, 30000);
const names = [`private-${prefix}`, `presence-${prefix}`];
let ready = 0;
for (const name of names) {
  const ch = client.subscribe(name);
  ch.bind('pusher:subscription_succeeded', (members) => {
    if (name.startsWith('presence-')) console.log(`MEMBERS ${members.count} ${members.me.id}`);
    if (++ready === names.length) {
      console.log('READY');
      clearTimeout(timer);
      client.disconnect();
      process.exit(0);
    }
  });
  ch.bind('pusher:subscription_error', (e) => {
    console.error(`SUBSCRIPTION_ERROR ${name} ${JSON.stringify(e)}`);
    process.exit(1);
  });
}
