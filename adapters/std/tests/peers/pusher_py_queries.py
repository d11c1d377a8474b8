# The official PyPI `pusher` 3.3.4 library: a batch trigger, then the channel list, one
# channel's info and a presence channel's users. Prints one JSON object with every answer.
import json, sys, pusher
app_id, key, secret, port, channel, presence = sys.argv[1:7]
client = pusher.Pusher(app_id=app_id, key=key, secret=secret, host='127.0.0.1', port=int(port), ssl=False)
out = {
    'batch': client.trigger_batch([
        {'channel': channel, 'name': 'batch-py-1', 'data': {'n': 1}},
        {'channel': channel, 'name': 'batch-py-2', 'data': {'n': 2}},
    ]),
    'channels': client.channels_info(),
    'presence': client.channels_info(prefix_filter='presence-', attributes=['user_count']),
    'channel': client.channel_info(presence, ['user_count']),
    'users': client.users_info(presence),
}
print(json.dumps(out))
