# The official PyPI `pusher` 3.3.4 library triggers an event over REST.
import json, sys, pusher
app_id, key, secret, port, channel, event, data = sys.argv[1:8]
client = pusher.Pusher(app_id=app_id, key=key, secret=secret, host='127.0.0.1', port=int(port), ssl=False)
print(json.dumps(client.trigger(channel, event, json.loads(data))))
