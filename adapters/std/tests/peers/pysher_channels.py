# pysher 1.0.8 subscribes to a public, a private and a presence channel (signed locally with
# the secret, as pysher does), prints "MEMBERS n" for the presence channel and "READY" once
# all three are subscribed, then "<channel> <data>" per `greeting` event; exits 0 after one
# event on each channel, 1 after 30 s.
import json, logging, os, sys, threading, pysher

key, host, port, secret, user, prefix = sys.argv[1:7]
client = pysher.Pusher(key, secure=False, port=int(port), custom_host=host, secret=secret,
                       user_data={'user_id': user, 'user_info': {'name': user}},
                       log_level=logging.ERROR)
names = [prefix, 'private-' + prefix, 'presence-' + prefix]
ready, received, done = set(), set(), threading.Event()
lock = threading.Lock()

def on_ready(name, data):
    with lock:
        if name.startswith('presence-'):
            print('MEMBERS', json.loads(data)['presence']['count'], flush=True)
        ready.add(name)
        if len(ready) == len(names):
            print('READY', flush=True)

def on_event(name, data):
    with lock:
        print(name, data, flush=True)
        received.add(name)
        if len(received) == len(names):
            done.set()

def on_connect(_data):
    for name in names:
        channel = client.subscribe(name)
        channel.bind('pusher_internal:subscription_succeeded', lambda d, n=name: on_ready(n, d))
        channel.bind('greeting', lambda d, n=name: on_event(n, d))

client.connection.bind('pusher:connection_established', on_connect)
client.connect()
ok = done.wait(30)
client.disconnect()
sys.stdout.flush()
# pysher's scheduler thread is not a daemon and outlives disconnect(): leave at once.
os._exit(0 if ok else 1)
