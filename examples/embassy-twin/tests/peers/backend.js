// An app backend as apps write it: Node's http server and the official npm `pusher` 5.3.4
// library signing pusher-js style form POSTs at /pusher/auth (private channels, and presence
// ones as user "twin-user"); channels whose name has "denied" in it get 403. Prints
// "LISTENING" once up, then "AUTH <channel> <status>" for every request.
const http = require('http');
const qs = require('querystring');
const Pusher = require('pusher');
const [appId, key, secret, host, port] = process.argv.slice(2);
const signer = new Pusher({ appId, key, secret, useTLS: false });
http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    const form = qs.parse(body);
    const channel = String(form.channel_name || '');
    let status = 200;
    let answer;
    if (req.method !== 'POST' || req.url !== '/pusher/auth') status = 404;
    else if (channel.includes('denied')) status = 403;
    else if (channel.startsWith('presence-')) {
      answer = signer.authorizeChannel(form.socket_id, channel, { user_id: 'twin-user', user_info: { board: 'tap' } });
    } else answer = signer.authorizeChannel(form.socket_id, channel);
    console.log(`AUTH ${channel} ${status}`);
    res.writeHead(status, { 'Content-Type': status === 200 ? 'application/json' : 'text/plain' });
    res.end(status === 200 ? JSON.stringify(answer) : 'Forbidden');
  });
}).listen(Number(port), host, () => console.log('LISTENING'));
