# The official PyPI `pusher` 3.3.4 library triggers an event over REST. With a last argument
# `dumps` the app encodes the data itself with json.dumps (every non-ASCII character then
# arrives \u-escaped, emoji as surrogate pairs), as many Python apps do.
import json, sys, pusher
app_id, key, secret, port, channel, event, data = sys.argv[1:8]
payload = json.loads(data)
if sys.argv[8:9] == ['dumps']:
    payload = json.dumps(payload)
client = pusher.Pusher(app_id=app_id, key=key, secret=secret, host='127.0.0.1', port=int(port), ssl=False)
print(json.dumps(client.trigger(channel, event, payload)))
