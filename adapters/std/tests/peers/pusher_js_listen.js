// pusher-js 8.6.0 in Node: subscribe to a channel, print the first `event` received as JSON,
// exit 0. Prints "READY" once subscribed so the test knows when to trigger.
const Pusher = require('pusher-js');
const [key, host, port, channel, event] = process.argv.slice(2);
const pusher = new Pusher(key, {
  cluster: 'mt1', wsHost: host, wsPort: Number(port), forceTLS: false,
  enabledTransports: ['ws'], disableStats: true,
});
const timer = setTimeout(() => { console.error('TIMEOUT'); process.exit(1); }, 20000);
const ch = pusher.subscribe(channel);
ch.bind('pusher:subscription_succeeded', () => console.log('READY'));
ch.bind(event, (data) => {
  clearTimeout(timer);
  console.log(JSON.stringify(data));
  pusher.disconnect();
  process.exit(0);
});
